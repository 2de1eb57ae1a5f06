"""The answer checks of chapter 2 accept the right answer and reject a wrong one."""

import numpy as np

from lecode.exercises import check, expected


def test_drift():
    K, alpha, beta = 3, 1.5, 0.25
    U = np.eye(K) - 1.0 / K
    points = 0.5 * U + 0.2
    G = np.exp(points) / np.exp(points).sum(axis=1, keepdims=True) - np.eye(K)
    answer = -((alpha - beta) * G[0] + beta * G.sum(axis=0)) / K
    assert check("ch02-drift", answer)
    assert not check("ch02-drift", -answer)
    assert not check("ch02-drift", answer[:2])


def test_conserved():
    assert expected("ch02-conserved") == 3
    assert check("ch02-conserved", 3)
    assert not check("ch02-conserved", 2)


def test_sigma():
    K, n, alpha, beta, lr = 3, 5, 2.0, 0.5, 0.01
    sigma = np.sqrt(n * lr / K * ((alpha**2 + (K - 1) * beta**2) / K - (alpha - beta)**2 / K**2))
    assert check("ch02-sigma", sigma)
    assert not check("ch02-sigma", sigma**2)
