"""Answer checks of chapter 1 accept the registered answer and reject a wrong one."""

import numpy as np
import pytest

from lecode import exercises

LABELS = ["ch01-linear-ratio", "ch01-ntk-trace", "ch01-first-order-slope", "ch01-weakest-pair"]


@pytest.mark.parametrize("label", LABELS)
def test_registered(label):
    assert label in exercises.labels()


@pytest.mark.parametrize("label", LABELS)
def test_accepts_expected_and_rejects_wrong(label):
    truth = exercises.expected(label)
    assert exercises.check(label, truth).correct
    wrong = "1-2" if isinstance(truth, str) else np.asarray(truth) * 1.5 + 1.0
    if isinstance(truth, str) and truth == "1-2":
        wrong = "0-2"
    result = exercises.check(label, wrong)
    assert not result.correct and "not yet" in repr(result)


def test_linear_ratio_is_the_input_gram_ratio():
    from lecode.widgets.local_elasticity import dataset

    X, y, _, _, sub = dataset()
    G = X[sub] @ X[sub].T + 1.0
    k = y[sub]
    same = (k[:, None] == k[None, :]) & ~np.eye(len(k), dtype=bool)
    ratio = G[same].mean() / G[k[:, None] != k[None, :]].mean()
    assert exercises.check("ch01-linear-ratio", ratio).correct


def test_first_order_slope_is_close_to_one():
    assert exercises.expected("ch01-first-order-slope") == pytest.approx(1.0, abs=0.15)
