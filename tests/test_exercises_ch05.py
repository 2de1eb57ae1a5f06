"""Answer checks of chapter 5 (lecode/exercises/ch05.py): the registered answer passes, wrong ones fail."""

import numpy as np
import pytest

from lecode.exercises import check, expected

LABELS = ["ch05-nc1-value", "ch05-tstar", "ch05-rotation-rate", "ch05-pairing-equiangle"]


@pytest.mark.parametrize("label", LABELS)
def test_registered_answer_accepted_and_wrong_rejected(label):
    truth = expected(label)
    assert np.isfinite(truth)
    assert check(label, truth)
    assert not check(label, truth * 1.1)
    assert not check(label, -truth)


def test_the_hand_derived_values():
    # the closed forms of the solutions agree with what lecode computes
    assert check("ch05-nc1-value", 0.5 * 2 / 4.0 ** 2)
    assert check("ch05-rotation-rate", 0.8 / (3 * (np.exp(-1.0) + 2)))
    assert check("ch05-pairing-equiangle", 4 / 9)
    assert not check("ch05-pairing-equiangle", 2 / 9)          # the 4-cycle, not the pairing
    assert not check("ch05-nc1-value", 3 * 0.5 * 2 / 4.0 ** 2)  # NC1 without the 1/K


def test_tstar_satisfies_the_stationarity_condition():
    t = expected("ch05-tstar")
    # (s - 2) e^s - 2 s + 2 = 0 at s(t*), with e^s + 2 s = 1 + 0.5 t*
    from lecode.widgets.collapse import symmetric_margin
    s = float(symmetric_margin(np.array([t]), 0.5)[0])
    assert abs((s - 2) * np.exp(s) - 2 * s + 2) < 1e-5
    assert check("ch05-tstar", t) and not check("ch05-tstar", 13.14)   # alpha - beta = 1 answer
