"""The answer checks of chapter 6 accept the right answer and reject a wrong one."""

import math

import numpy as np

from lecode import exact, imitation
from lecode.exercises import check


def test_horizon():
    # t = 0.001 * 30000 = 30; e^s + 4 s = 1 + 150
    s = exact.ce_symmetric_margin(30.0, alpha=5.0, beta=0.0, n_classes=5)
    assert abs(math.exp(s) + 4 * s - 151.0) < 1e-9
    assert check("ch06-horizon", float(s))
    assert not check("ch06-horizon", math.log(150.0 * 5))          # forgot the step size


def test_rate():
    assert check("ch06-rate", 3 * 8 / (4 * (math.exp(4) + 2)))
    assert not check("ch06-rate", 8.0)                              # NTK units, not linear ones


def test_tail():
    R = imitation.record("geomnist")
    i0 = R.index(100)
    fit = imitation.fit_impacts(R.times[i0:], R.class_means[:, i0:].mean(axis=0))
    r, _ = imitation.tail_index(fit.times, fit.alpha - fit.beta, t_min=5.0)
    assert 1.0 < r < 2.0
    assert check("ch06-tail", r)
    assert not check("ch06-tail", 1.0)


def test_asym():
    R = imitation.record("geomnist")
    X = R.class_means[:, -1].mean(axis=0)
    C = X - X.mean(axis=-1, keepdims=True)
    U = np.eye(3) - 1 / 3
    s = np.sum(C * U) / np.sum(U * U)
    answer = np.linalg.norm(C - s * U) / np.linalg.norm(C)
    assert 0.2 < answer < 0.6
    assert check("ch06-asym", answer)
    assert not check("ch06-asym", np.linalg.norm(C - s * U) / np.linalg.norm(s * U))  # wrong norm
