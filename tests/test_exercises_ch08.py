"""Answer checks of chapter 8: the registered answer is accepted, a wrong one rejected."""

import numpy as np
import pytest

from lecode.exercises import check, expected, labels

CH08 = ["ch08-ntk", "ch08-td-gamma", "ch08-weak-gbm", "ch08-milstein-order"]


def test_all_registered():
    assert set(CH08) <= set(labels())


@pytest.mark.parametrize("label", CH08)
def test_expected_answer_accepted(label):
    assert check(label, expected(label)).correct


@pytest.mark.parametrize("label", CH08)
def test_wrong_answer_rejected(label):
    assert not check(label, 1.5 * expected(label) + 0.5).correct
    assert not check(label, np.nan).correct
    assert not check(label, "one").correct


def test_values_match_closed_forms():
    assert expected("ch08-ntk") == pytest.approx(1.5, rel=1e-6)          # hand computation
    assert expected("ch08-td-gamma") == pytest.approx(1 / 3, rel=1e-9)   # gamma * 3 = 1
    lam, mu, h = 1.0, 0.5, 0.1
    closed = np.exp(2 * lam + mu ** 2) - (1 + (2 * lam + mu ** 2) * h + lam ** 2 * h ** 2) ** 10
    assert expected("ch08-weak-gbm") == pytest.approx(closed, rel=1e-10)
    assert expected("ch08-milstein-order") == 1.0                        # Milstein: strong order 1


def test_the_measured_milstein_order_lies_within_the_stated_tolerance():
    from lecode.exercises import ch08

    measured = ch08.milstein_strong_order()
    assert measured != 1.0 and check("ch08-milstein-order", measured).passed
    assert check("ch08-milstein-order", 0.5).mistake == "euler-maruyama"
