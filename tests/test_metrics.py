"""Tests of lecode.metrics: loss, accuracy, margins, separability, neural collapse."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lecode import metrics
from lecode._validate import NonFiniteError
from lecode.metrics import _lp_margin, _whiten

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def simplex(K):
    """Rows u_k = e_k - 1/K."""
    return np.eye(K) - 1.0 / K


def gaussian_classes(rng, K, n, p, shift, batch=()):
    x = rng.normal(size=batch + (K, n, p))
    return x + shift * np.eye(K, p)[:, None, :]


# ---------------------------------------------------------------- strategies

@st.composite
def grid_features(draw, max_K=3, max_n=4, max_p=3):
    """Small configurations on an integer grid (so ties and duplicates occur)."""
    K = draw(st.integers(2, max_K))
    n = draw(st.integers(1, max_n))
    p = draw(st.integers(1, max_p))
    x = draw(hnp.arrays(float, (K, n, p), elements=st.integers(-3, 3).map(float)))
    return x


# ---------------------------------------------------------------- cross-entropy

def test_cross_entropy_matches_naive_formula():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 5, 3)) * 3
    naive = np.empty(4)
    for b in range(4):
        tot = 0.0
        for k in range(3):
            for i in range(5):
                z = x[b, k, i]
                tot += -np.log(np.exp(z[k]) / np.exp(z).sum())
        naive[b] = tot / 15
    np.testing.assert_allclose(metrics.cross_entropy(x), naive, rtol=1e-12)


def test_cross_entropy_with_readout_and_labels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 5))
    W = rng.normal(size=(3, 5))
    lab = rng.integers(0, 3, size=(3, 4))
    z = x @ W.T
    naive = np.mean(np.log(np.exp(z).sum(-1)) - np.take_along_axis(z, lab[..., None], -1)[..., 0])
    np.testing.assert_allclose(metrics.cross_entropy(x, lab, W), naive, rtol=1e-12)
    per = metrics.cross_entropy(x, lab, W, reduce=False)
    assert per.shape == (3, 4)
    np.testing.assert_allclose(per.mean(), naive, rtol=1e-12)


def test_cross_entropy_huge_logits_are_fine():
    s = 1e300
    x = s * simplex(3)[:, None, :]             # perfectly classified, huge margin
    assert metrics.cross_entropy(x) == 0.0
    assert metrics.cross_entropy(-x) == pytest.approx(s, rel=1e-12)   # anti-aligned
    with pytest.raises(NonFiniteError, match="overflow"):
        metrics.cross_entropy(np.array([[[1e308, -1e308]], [[1e308, -1e308]]]))


@given(grid_features())
@FAST
def test_cross_entropy_is_shift_invariant_and_positive(x):
    K, p = x.shape[0], x.shape[2]
    if p != K:
        x = np.resize(x, x.shape[:2] + (K,))
    loss = metrics.cross_entropy(x)
    assert loss > 0
    np.testing.assert_allclose(metrics.cross_entropy(x + 7.0), loss, rtol=1e-12)


# ---------------------------------------------------------------- margins / accuracy

@given(hnp.arrays(float, st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(1, 4)).map(
    lambda s: (s[0], s[1], s[2], s[1])), elements=st.integers(-2, 2).map(float)))
@FAST
def test_accuracy_one_iff_all_margins_positive(x):
    acc = metrics.accuracy(x)
    m = metrics.margins(x)
    assert m.shape == x.shape[:-1]
    np.testing.assert_array_equal(acc == 1, np.all(m > 0, axis=(-2, -1)))
    np.testing.assert_array_equal(acc, (m > 0).mean(axis=(-2, -1)))
    np.testing.assert_array_equal(metrics.min_margin(x), m.min(axis=(-2, -1)))


def test_margins_explicit_values_and_ties():
    x = np.array([[[3.0, 1.0, 2.0], [1.0, 1.0, 0.0]],
                  [[0.0, 5.0, 4.0], [2.0, 1.0, 0.0]],
                  [[0.0, 0.0, 1.0], [9.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(metrics.margins(x), [[1, 0], [1, -1], [1, -9]])
    assert metrics.accuracy(x) == pytest.approx(3 / 6)      # the tie counts as an error


def test_accuracy_with_labels_and_readout():
    x = np.array([[[1.0]], [[-1.0]]])           # K = 2, n = 1, p = 1
    W = np.array([[1.0], [-1.0]])
    assert metrics.accuracy(x, readout=W) == 1
    assert metrics.accuracy(x, labels=[[1], [0]], readout=W) == 0


# ---------------------------------------------------------------- separability

def brute_force_1d(x):
    """1-D multi-class separability: the argmax of K lines cuts the line into
    intervals, one per class at most, in any order. So: separable iff after
    sorting, no value carries two labels and each label forms one run."""
    vals = x[..., 0].ravel()
    labs = np.repeat(np.arange(x.shape[0]), x.shape[1])
    for v in np.unique(vals):
        if np.unique(labs[vals == v]).size > 1:
            return False
    seq = labs[np.argsort(vals, kind="stable")]
    runs = seq[np.r_[True, seq[1:] != seq[:-1]]]
    return np.unique(runs).size == runs.size


@given(hnp.arrays(float, st.tuples(st.integers(2, 3), st.integers(1, 4), st.just(1)),
                  elements=st.integers(-4, 4).map(float)))
@FAST
def test_separability_agrees_with_brute_force_in_1d(x):
    assert bool(metrics.is_separable(x)) == brute_force_1d(x)


def full_lp_separable(x, tol=1e-6):
    """The plain LP on all points (no fast path, no cutting planes)."""
    K, n, p = x.shape
    X = x.reshape(-1, p)
    y = np.repeat(np.arange(K), n)
    Z, _, _ = _whiten(X)
    if Z.shape[1] == 0:
        return False
    return _lp_margin(Z, y, K)[0] > tol


@pytest.mark.parametrize("K,n,p,shift", [(3, 30, 3, 2.5), (3, 40, 5, 2.0), (2, 25, 2, 2.5),
                                         (4, 20, 3, 3.0), (3, 60, 2, 4.0)])
def test_separability_agrees_with_full_lp(K, n, p, shift):
    rng = np.random.default_rng(K * 100 + n + p)
    x = gaussian_classes(rng, K, n, p, shift, batch=(6,))
    got = metrics.is_separable(x)
    want = [full_lp_separable(xi) for xi in x]
    np.testing.assert_array_equal(got, want)


@given(grid_features(), st.floats(-1e3, 1e3), st.sampled_from([1e-6, 1e-3, 0.5, 1.0, 7.0, 1e4, 1e6]),
       st.randoms(use_true_random=False))
@FAST
def test_separability_invariant_to_translation_scale_permutation(x, c, a, rnd):
    base = bool(metrics.is_separable(x))
    assert bool(metrics.is_separable(a * x + c)) == base
    perm = x.copy()
    for k in range(x.shape[0]):
        idx = list(range(x.shape[1]))
        rnd.shuffle(idx)
        perm[k] = x[k, idx]
    assert bool(metrics.is_separable(perm)) == base


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_separability_robust_to_extreme_scales(scale):
    rng = np.random.default_rng(2)
    sep = gaussian_classes(rng, 3, 50, 3, 8.0) * scale + 3 * scale
    mixed = gaussian_classes(rng, 3, 50, 3, 0.0) * scale - 5 * scale
    assert metrics.is_separable(sep)
    assert not metrics.is_separable(mixed)


def test_separability_degenerate_inputs():
    same = np.ones((3, 4, 2))
    assert not metrics.is_separable(same)                        # identical points
    assert metrics.is_separable(same, labels=np.zeros((3, 4), int))   # only one class
    one = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[0.0, 1.0]]])
    assert metrics.is_separable(one)                             # n = 1, distinct
    assert metrics.is_separable(np.array([[[0.0, 0.0]], [[0.0, 1e-3]]]))
    dup = gaussian_classes(np.random.default_rng(3), 3, 10, 3, 9.0)
    dup[1, 0] = dup[0, 0]                                        # a point in two classes
    assert not metrics.is_separable(dup)
    # p = 1 and K = 2 (binary): two disjoint intervals / interleaved points
    assert metrics.is_separable(np.array([[[0.0], [1.0]], [[2.0], [3.0]]]))
    assert not metrics.is_separable(np.array([[[0.0], [2.0]], [[1.0], [3.0]]]))
    # XOR is not linearly separable
    xor = np.array([[[0.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    assert not metrics.is_separable(xor)
    # features in a lower-dimensional affine subspace (the CE sum-zero plane)
    ce = gaussian_classes(np.random.default_rng(4), 3, 20, 3, 0.0)
    ce -= ce.mean(-1, keepdims=True)
    assert not metrics.is_separable(ce)
    assert metrics.is_separable(ce + 6 * simplex(3)[:, None, :])


def test_separable_is_not_zero_training_error():
    """Anti-aligned features -s u_k: separable, yet the identity readout gets all wrong."""
    rng = np.random.default_rng(5)
    x = -4.0 * simplex(3)[:, None, :] + 0.1 * rng.normal(size=(3, 20, 3))
    assert metrics.accuracy(x) == 0
    assert metrics.is_separable(x)


def test_cover_theorem_few_points_always_separable():
    """N <= p + 1 points in general position are separable whatever their labels."""
    rng = np.random.default_rng(6)
    K, n, p = 3, 3, 9                       # N = 9 <= p + 1
    x = rng.normal(size=(20, K, n, p))       # no class structure at all
    assert metrics.is_separable(x).all()
    big = rng.normal(size=(20, K, 60, p))    # n >> p: pure noise is not separable
    assert not metrics.is_separable(big).any()


def test_separability_batch_shape_and_labels():
    rng = np.random.default_rng(7)
    x = gaussian_classes(rng, 3, 15, 3, 10.0, batch=(2, 3))
    out = metrics.is_separable(x)
    assert out.shape == (2, 3) and out.dtype == bool and out.all()
    # relabelling half of each class at random destroys separability
    lab = np.repeat(np.arange(3)[:, None], 15, axis=1)
    lab[:, ::2] = (lab[:, ::2] + 1) % 3
    assert not metrics.is_separable(x, labels=lab).any()
    # labels missing a class: only the present classes matter
    lab2 = np.repeat(np.array([0, 0, 2])[:, None], 15, axis=1)
    assert metrics.is_separable(x[0, 0], labels=lab2)


# ---------------------------------------------------------------- neural collapse

def test_neural_collapse_near_zero_on_simplex_etf():
    rng = np.random.default_rng(8)
    K, n = 4, 30
    x = 5.0 * simplex(K)[:, None, :] + 1e-6 * rng.normal(size=(2, K, n, K))
    nc = metrics.neural_collapse(x)
    for name in nc._fields:
        val = getattr(nc, name)
        assert val.shape == (2,)
        assert np.all(val < 1e-5), (name, val)


@given(st.integers(2, 5), st.floats(0.1, 100.0), st.integers(0, 2 ** 31))
@FAST
def test_neural_collapse_etf_property(K, s, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(K + 2, K + 2)))
    W = (Q[:, :K].T @ np.eye(K + 2))                     # K x (K+2) readout, orthonormal rows
    x = s * (simplex(K) @ W)[:, None, :] + 1e-7 * s * rng.normal(size=(K, 5, K + 2))
    nc = metrics.neural_collapse(x, readout=W)
    assert max(float(v) for v in nc) < 1e-4


def test_neural_collapse_known_values():
    # two classes, means +-e1, within-class spread along e1 with variance v
    v = 0.25
    x = np.array([[[1 - 0.5, 0.0], [1 + 0.5, 0.0]], [[-1 - 0.5, 0.0], [-1 + 0.5, 0.0]]])
    nc = metrics.neural_collapse(x)
    # Sigma_W = diag(v, 0), Sigma_B = diag(1, 0): NC1 = v / K
    assert nc.nc1 == pytest.approx(v / 2)
    assert nc.nc2_equinorm == pytest.approx(0.0)
    assert nc.nc2_equiangle == pytest.approx(0.0)       # cos = -1 = -1/(K-1)
    # centred identity rows are u_k ~ (1,-1)/2, means along e1: NC3 > 0 but finite
    assert 0 < nc.nc3 < 2
    assert nc.nc4 == 0


def test_nc1_large_for_overlapping_classes():
    rng = np.random.default_rng(9)
    same = rng.normal(size=(3, 200, 3))
    apart = gaussian_classes(rng, 3, 200, 3, 20.0)
    assert metrics.neural_collapse(same).nc1 > 10
    assert metrics.neural_collapse(apart).nc1 < 0.05


def test_neural_collapse_with_labels_matches_regrouping():
    rng = np.random.default_rng(10)
    x = gaussian_classes(rng, 3, 6, 3, 3.0)
    lab = np.array([[0, 0, 0, 1, 1, 2], [1, 1, 1, 2, 2, 0], [2, 2, 2, 0, 0, 1]])
    # regroup the samples by label: classes of sizes 6,6,6 again
    regrouped = np.stack([x[lab == k] for k in range(3)])
    a = metrics.neural_collapse(x, labels=lab)
    b = metrics.neural_collapse(regrouped)
    for f in a._fields:
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-10, atol=1e-14)


def test_neural_collapse_degenerate_means():
    x = np.random.default_rng(11).normal(size=(3, 5, 3))
    x -= x.mean(axis=1, keepdims=True)                 # all class means at 0
    nc = metrics.neural_collapse(x)
    assert nc.nc1 == np.inf
    assert np.isnan(nc.nc2_equinorm) and np.isnan(nc.etf_distance)
    assert metrics.neural_collapse(np.zeros((3, 5, 3))).nc1 == 0


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("fn", [metrics.cross_entropy, metrics.accuracy, metrics.margins,
                                metrics.min_margin, metrics.is_separable, metrics.neural_collapse])
def test_validation_messages(fn):
    good = np.zeros((3, 2, 3))
    bad = good.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="features"):
        fn(bad)
    with pytest.raises(ValueError, match="features"):
        fn(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="labels"):
        fn(good, labels=np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="labels"):
        fn(good, labels=np.full((3, 2), 3))
    with pytest.raises(TypeError, match="labels"):
        fn(good, labels=np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="readout"):
        fn(good, readout=np.eye(2))
    if fn is not metrics.is_separable:
        with pytest.raises(ValueError, match="readout"):
            fn(np.zeros((3, 2, 4)))


def test_tol_validation():
    with pytest.raises(ValueError, match="tol"):
        metrics.is_separable(np.zeros((2, 2, 2)), tol=0.0)
    with pytest.raises(TypeError, match="tol"):
        metrics.is_separable(np.zeros((2, 2, 2)), tol="1e-6")


def test_extreme_magnitudes_do_not_overflow():
    rng = np.random.default_rng(12)
    x = 5.0 * simplex(3)[:, None, :] + 0.1 * rng.normal(size=(3, 10, 3))
    for s in (1e-300, 1e300):
        assert metrics.is_separable(s * x)
        nc, ref = metrics.neural_collapse(s * x), metrics.neural_collapse(x)
        for f in nc._fields:
            np.testing.assert_allclose(getattr(nc, f), getattr(ref, f), rtol=1e-9, atol=1e-12)
