"""Answer checks of chapter 4 accept the registered answer and reject a wrong one."""

import math

import numpy as np
import pytest

from lecode import exact, exercises


def test_loss_time_matches_the_inverted_margin_law():
    K, alpha, beta, target = 4, 1.0, 0.25, 1e-2
    s = -math.log(math.expm1(target) / (K - 1))
    t_star = (math.exp(s) + (K - 1) * s - 1.0) / (alpha - beta)
    assert exercises.check("ch04-loss-time", t_star).correct
    loss = float(exact.ce_symmetric_loss(t_star, alpha=alpha, beta=beta, n_classes=K))
    assert loss == pytest.approx(target, rel=1e-9)


def test_tail_answer_is_critical_c_and_exponent():
    # K = 4, c = 3: critical c = K/2 = 2, exponent 2c/K - 1 = 0.5
    assert exercises.check("ch04-tail", [2.0, 0.5]).correct
    assert not exercises.check("ch04-tail", [1.5, 0.5]).correct     # the K/2 boundary, not 3K/8
    assert not exercises.check("ch04-tail", [2.0, 0.75]).correct    # c/K, not 2c/K - 1


def test_cover_count_matches_an_enumeration():
    from lecode import metrics

    N, p = 7, 3
    pts = np.random.default_rng(0).standard_normal((N, p))
    labellings = (np.arange(2**N)[:, None] >> np.arange(N)) & 1
    feats = np.broadcast_to(pts[:, None, :], (2**N, N, 1, p))
    count = int(metrics.is_separable(feats, labels=labellings.reshape(2**N, N, 1)).sum())
    assert exercises.check("ch04-cover", count).correct
    assert not exercises.check("ch04-cover", count - 1).correct
