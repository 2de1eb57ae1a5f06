"""Answer checks of chapter 1 accept the registered answer and reject a wrong one."""

import numpy as np
import pytest

from lecode import exercises


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
