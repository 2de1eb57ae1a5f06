"""Tests of lecode.model: validation, labels, impacts and the drift's properties."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from lecode import LEModel, exact


def U(K):
    return np.eye(K) - 1.0 / K


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_classes=1), ValueError, "n_classes"),
    (dict(n_classes=2.0), TypeError, "n_classes"),
    (dict(n_per_class=0), ValueError, "n_per_class"),
    (dict(sigma=-0.1), ValueError, "sigma"),
    (dict(sigma=float("nan")), ValueError, "sigma"),
    (dict(alpha=float("inf")), ValueError, "alpha"),
    (dict(beta="x"), TypeError, "beta"),
    (dict(alpha=lambda t: float("nan")), ValueError, "alpha"),
    (dict(sigma=lambda t: -1.0), ValueError, "sigma"),
    (dict(gradient="mse"), ValueError, "gradient"),
    (dict(label_noise=1.0), ValueError, "label_noise"),
    (dict(label_noise=-0.1), ValueError, "label_noise"),
    (dict(dim=0), ValueError, "dim"),
    (dict(dim=5), ValueError, "readout"),
    (dict(dim=5, gradient="projected"), ValueError, "projected"),
    (dict(readout=np.eye(2)), ValueError, "readout"),
    (dict(gamma=float("nan")), ValueError, "gamma"),
])
def test_validation_names_the_parameter(kwargs, exc, match):
    base = dict(n_classes=3, n_per_class=4, alpha=1.0, beta=0.5)
    base.update(kwargs)
    with pytest.raises(exc, match=match):
        LEModel(**base)


def test_impact_matrix_validation():
    with pytest.raises(ValueError, match="impact_matrix"):
        LEModel(3, 2, impact_matrix=np.eye(2))
    with pytest.raises(ValueError, match="impact_matrix"):
        LEModel(3, 2, impact_matrix=np.full((3, 3), np.nan))
    with pytest.raises(TypeError, match="alpha"):
        LEModel(3, 2, alpha=1.0, beta=0.0, impact_matrix=np.eye(3))
    with pytest.raises(TypeError, match="alpha and beta"):
        LEModel(3, 2, alpha=1.0)
    bad = LEModel(3, 2, impact_matrix=lambda t: np.full((3, 3), 1.0 if t < 1 else np.inf))
    with pytest.raises(ValueError, match=r"impact_matrix.*t=2"):
        bad.impacts(2.0)


def test_callable_impact_checked_at_evaluation_time():
    m = LEModel(3, 2, alpha=lambda t: 1.0 / (1.0 - t), beta=0.0)
    m.impacts(0.5)
    with pytest.raises(ValueError, match="alpha"):
        m.impacts(1.0)


def test_frozen_and_replace():
    m = LEModel(3, 4, alpha=1.0, beta=0.5)
    with pytest.raises(Exception):
        m.alpha = 2.0
    m2 = m.replace(beta=0.25, sigma=0.1)
    assert m2.beta == 0.25 and m2.sigma == 0.1 and m.beta == 0.5
    with pytest.raises(ValueError, match="sigma"):
        m.replace(sigma=-1.0)
    E = np.arange(9.0).reshape(3, 3)
    m3 = m.replace(alpha=None, beta=None, impact_matrix=E)
    np.testing.assert_array_equal(m3.impacts(1.0), E)


def test_impacts_alpha_beta_form():
    m = LEModel(4, 2, alpha=lambda t: 1 + t, beta=0.5)
    E = m.impacts(2.0)
    assert E.shape == (4, 4)
    np.testing.assert_allclose(np.diag(E), 3.0)
    np.testing.assert_allclose(E[~np.eye(4, dtype=bool)], 0.5)


# ---------------------------------------------------------------- labels

def test_labels_without_noise():
    m = LEModel(3, 5, alpha=1.0, beta=0.0)
    np.testing.assert_array_equal(m.labels, np.repeat(np.arange(3)[:, None], 5, axis=1))


@pytest.mark.parametrize("K, n, q", [(3, 12, 0.5), (4, 10, 0.3), (3, 7, 0.9), (5, 20, 0.8)])
def test_label_noise_assignment(K, n, q):
    m = LEModel(K, n, alpha=1.0, beta=0.0, label_noise=q)
    L = m.labels
    assert L.shape == (K, n)
    wrong = L != np.arange(K)[:, None]
    assert np.all(wrong.sum(axis=1) == round(q * n))
    for k in range(K):  # spread evenly over the other classes (counts differ by <= 1)
        counts = np.bincount(L[k][wrong[k]], minlength=K)
        others = np.delete(counts, k)
        assert others.max() - others.min() <= 1
    np.testing.assert_allclose(m.label_fractions.sum(axis=1), 1.0)


def test_label_noise_exact_assignment_rule():
    # m = round(p n) (half to even); the last m samples of class k, the r-th of them
    # labelled (k + 1 + r mod (K-1)) mod K: even only when K-1 divides m
    m = LEModel(4, 10, alpha=1.0, beta=0.0, label_noise=0.5)        # m = 5 = 1*3 + 2
    np.testing.assert_array_equal(m.labels[0], [0, 0, 0, 0, 0, 1, 2, 3, 1, 2])
    np.testing.assert_array_equal(m.labels[2], [2, 2, 2, 2, 2, 3, 0, 1, 3, 0])
    np.testing.assert_allclose(m.label_fractions[0], [0.5, 0.2, 0.2, 0.1])
    np.testing.assert_allclose(m.label_fractions[3], [0.2, 0.2, 0.1, 0.5])   # 4 -> 0, 1, 2, 0, 1
    for K, n, q in [(3, 10, 0.1), (4, 10, 0.5), (5, 13, 0.6), (3, 7, 0.9), (4, 12, 0.25)]:
        L = LEModel(K, n, alpha=1.0, beta=0.0, label_noise=q).labels
        mm = round(q * n)
        for k in range(K):
            want = [k] * (n - mm) + [(k + 1 + r % (K - 1)) % K for r in range(mm)]
            np.testing.assert_array_equal(L[k], want)
    # round half to even: 0.25 * 10 = 2.5 -> 2 corrupted samples, 0.45 * 10 = 4.5 -> 4
    assert (LEModel(3, 10, alpha=1.0, beta=0.0, label_noise=0.25).labels[0] != 0).sum() == 2
    assert (LEModel(3, 10, alpha=1.0, beta=0.0, label_noise=0.45).labels[0] != 0).sum() == 4


def test_uneven_label_noise_keeps_the_factor_along_u_k():
    # K = 3, n = 10, p = 0.1: one corrupted sample per class, all to the next class
    a, b, K = 1.0, 0.25, 3
    m = LEModel(K, 10, alpha=a, beta=b, label_noise=0.1)
    np.testing.assert_allclose(m.label_fractions[0], [0.9, 0.1, 0.0])
    off = _offset_drift(m, np.zeros((K, 10, K)))
    along = np.einsum("kj,kj->k", off, U(K)) / ((K - 1) / K)
    np.testing.assert_allclose(along, (a - b) / K * exact.label_noise_factor(0.1, K), atol=1e-14)
    rest = off - along[:, None] * U(K)
    assert np.abs(rest).max() > 1e-3                   # the uneven spread adds an orthogonal force


# ---------------------------------------------------------------- drift

def _features(K, n, p, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal((K, n, p))


def _dense_drift(m, X, t=0.0):
    """Reference: the feature-SGD average with the dense Kn x Kn impact matrix."""
    K, n, p = X.shape
    E = m.impacts(t)
    cls = np.repeat(np.arange(K), n)
    Ed = E[cls][:, cls] + m.gamma * np.eye(K * n)
    g = m.gradients(X).reshape(K * n, p)
    return -(Ed @ g / (K * n)).reshape(K, n, p)


@pytest.mark.parametrize("gradient", ["ce", "identity", "projected"])
@pytest.mark.parametrize("gamma, q", [(0.0, 0.0), (0.7, 0.0), (0.3, 0.4)])
def test_drift_equals_dense_average(gradient, gamma, q):
    m = LEModel(3, 5, alpha=1.3, beta=0.4, gradient=gradient, gamma=gamma, label_noise=q)
    X = _features(3, 5, 3)
    np.testing.assert_allclose(m.drift(X, 0.0), _dense_drift(m, X), atol=1e-12)


def test_drift_with_readout_and_impact_matrix():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 5))
    E = rng.uniform(0, 1, (3, 3))
    m = LEModel(3, 4, impact_matrix=E, readout=W, dim=5, gamma=0.2)
    X = rng.standard_normal((2, 3, 4, 5))
    D = m.drift(X)
    assert D.shape == X.shape
    np.testing.assert_allclose(D[1], _dense_drift(m, X[1]), atol=1e-12)
    with pytest.raises(ValueError, match="X must have shape"):
        m.drift(X[..., :4])


feature_arrays = hnp.arrays(np.float64, (3, 4, 3),
                            elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False))


@settings(max_examples=40, deadline=None)
@given(X=feature_arrays, a=st.floats(-2, 2), b=st.floats(-2, 2),
       gamma=st.floats(0, 2), q=st.sampled_from([0.0, 0.25, 0.5, 0.75]))
def test_ce_drift_sums_to_zero_over_logits(X, a, b, gamma, q):
    # DESIGN.md section 3 item 1: softmax - e_y sums to zero, so does any combination.
    m = LEModel(3, 4, alpha=a, beta=b, gamma=gamma, label_noise=q)
    D = m.drift(X, 0.0)
    assert np.all(np.abs(D.sum(axis=-1)) <= 1e-12 * (1 + np.abs(D).max()))


@settings(max_examples=40, deadline=None)
@given(X=feature_arrays, a=st.floats(-2, 2), b=st.floats(-2, 2), gamma=st.floats(0, 2),
       perm=st.permutations(range(3)), gradient=st.sampled_from(["ce", "identity", "projected"]))
def test_permuting_classes_permutes_the_drift(X, a, b, gamma, perm, gradient):
    # Relabel class k as perm[k] in sample order *and* logit order: the drift follows.
    perm = np.asarray(perm)
    inv = np.argsort(perm)          # logit j of the new labelling is logit inv[j] of the old
    m = LEModel(3, 4, alpha=a, beta=b, gamma=gamma, gradient=gradient)
    D = m.drift(X)
    Xp = np.empty_like(X)
    Xp[perm] = X[..., inv] if gradient != "identity" else X
    Dp = m.drift(Xp)
    expect = np.empty_like(D)
    expect[perm] = D[..., inv] if gradient != "identity" else D
    np.testing.assert_allclose(Dp, expect, atol=1e-10 * (1 + np.abs(D).max()))


# ------------------------------------------------ label-noise reversal (item 7)

def _offset_drift(m, X):
    Db = m.drift(X).mean(axis=1)                 # class-mean drift (K, p)
    return Db - Db.mean(axis=0)                  # class offsets


@pytest.mark.parametrize("K, n, q", [(3, 12, 0.0), (3, 12, 1 / 3), (3, 12, 2 / 3), (3, 12, 5 / 6),
                                     (4, 12, 0.25), (4, 12, 0.5), (4, 12, 0.75)])
def test_label_noise_factor_ce(K, n, q):
    # At the symmetric start X = 0 the CE offset drift is exactly
    # (alpha - beta)/K * (1 - q K/(K-1)) u_k: the clean force times (1 - qK/(K-1)),
    # zero at q = (K-1)/K and reversed beyond (DESIGN.md section 3 item 7).
    a, b = 1.0, 0.25
    m = LEModel(K, n, alpha=a, beta=b, label_noise=q)
    off = _offset_drift(m, np.zeros((K, n, K)))
    factor = 1 - q * K / (K - 1)
    np.testing.assert_allclose(off, (a - b) / K * factor * U(K), atol=1e-14)


def test_label_noise_sign_change_ce():
    signs = []
    for q in [0.0, 0.5, 2 / 3, 5 / 6]:
        m = LEModel(3, 12, alpha=1.0, beta=0.25, label_noise=q)
        off = _offset_drift(m, np.zeros((3, 12, 3)))
        signs.append(np.sign(np.round(np.sum(off * U(3)), 12)))
    assert signs == [1, 1, 0, -1]


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.75])
def test_label_noise_linear_variants(q):
    # Linear variants, samples at class means X_k = y u_k + c (c any common vector):
    #  identity: the gradient -x ignores the label, so label noise changes nothing;
    #  projected: Gbar_k = -[(1 - qK/(K-1)) P_k + qK/(K-1)^2 C] Xbar_k, C = I - 11^T/K.
    #  Only the P_k part carries the factor (1 - qK/(K-1)); on the symmetric
    #  configuration the offset force is (1 - qK(K-2)/(K-1)^2) times the clean one,
    #  which for K = 3 (1 - 3q/4) never reverses for q < 1.
    K, n, a, b = 3, 16, 1.0, 0.25        # round(q n) even: labels exactly evenly spread
    rng = np.random.default_rng(3)
    X = (1.7 * U(K))[:, None, :] + rng.standard_normal(K)[None, None, :] + np.zeros((K, n, K))
    clean_id = LEModel(K, n, alpha=a, beta=b, gradient="identity")
    noisy_id = clean_id.replace(label_noise=q)
    np.testing.assert_allclose(noisy_id.drift(X), clean_id.drift(X), atol=1e-14)
    clean = LEModel(K, n, alpha=a, beta=b, gradient="projected")
    noisy = clean.replace(label_noise=q)
    ratio = np.sum(_offset_drift(noisy, X) * U(K)) / np.sum(_offset_drift(clean, X) * U(K))
    assert ratio == pytest.approx(1 - q * K * (K - 2) / (K - 1) ** 2, abs=1e-12)
    # the general decomposition, for an arbitrary common class-mean point x
    x = rng.standard_normal(K)
    Xg = np.broadcast_to(x, (K, n, K))
    Gbar = noisy.gradients(Xg).mean(axis=1)
    P = [np.outer(U(K)[k], U(K)[k]) * K / (K - 1) for k in range(K)]
    C = np.eye(K) - 1.0 / K
    for k in range(K):
        want = -((1 - q * K / (K - 1)) * P[k] + q * K / (K - 1) ** 2 * C) @ x
        np.testing.assert_allclose(Gbar[k], want, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e6])
def test_ce_gradients_stable_for_huge_logits(scale):
    # beyond |logit| ~ 700 the softmax is shifted by the row maximum
    rng = np.random.default_rng(4)
    X = scale * rng.standard_normal((2, 3, 5, 3))
    m = LEModel(3, 5, alpha=1.0, beta=0.3, gamma=0.2)
    g = m.gradients(X)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g.sum(-1), 0.0, atol=1e-12)
    # compare with a direct stable softmax
    Z = np.exp(X - X.max(-1, keepdims=True))
    want = Z / Z.sum(-1, keepdims=True) - np.eye(3)[m.labels]
    np.testing.assert_allclose(g, want, atol=1e-13)


def test_complex_impact_matrix_is_refused():
    with pytest.raises(TypeError, match="impact_matrix must hold real numbers"):
        LEModel(3, 2, impact_matrix=np.eye(3) * (1 + 1j))
