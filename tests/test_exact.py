"""Tests of lecode.exact: closed forms against the simulator, estimators, edge cases."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lecode import LEModel, NonFiniteError, simulate
from lecode import exact


def U(K):
    return np.eye(K) - 1.0 / K


alpha_tv = lambda t: 1.0 + 0.5 * math.sin(t)          # noqa: E731
beta_tv = lambda t: 0.3 * math.exp(-t)                # noqa: E731
IMPACTS = [(1.0, 0.4), (0.3, 0.8), (alpha_tv, beta_tv)]
IDS = ["alpha>beta", "alpha<beta", "time-varying"]


# ----------------------------------------------------- integrated impacts

def test_integrated_impacts_numbers_and_callables():
    t = np.array([2.0, 0.0, 1.0, 3.5])   # unsorted on purpose
    A, B = exact.integrated_impacts(1.5, -0.5, t)
    np.testing.assert_allclose(A, 1.5 * t)
    np.testing.assert_allclose(B, -0.5 * t)
    A, B = exact.integrated_impacts(alpha_tv, beta_tv, t)
    np.testing.assert_allclose(A, t + 0.5 * (1 - np.cos(t)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B, 0.3 * (1 - np.exp(-t)), rtol=1e-10, atol=1e-12)
    a, b = exact.integrated_impacts(1.0, 2.0, 3.0)
    assert a.shape == () and float(b) == 6.0


def test_integrated_impacts_validation():
    with pytest.raises(ValueError, match="t must be >= 0"):
        exact.integrated_impacts(1.0, 1.0, [-1.0])
    with pytest.raises(ValueError, match="alpha"):
        exact.integrated_impacts(lambda t: float("nan"), 1.0, [1.0])
    with pytest.raises(TypeError, match="beta"):
        exact.integrated_impacts(1.0, "b", [1.0])


# ----------------------------------------------------- symmetric CE (item 2)

def _symmetric_ce_run(K, alpha, beta, s0, T, dt):
    m = LEModel(K, 1, alpha=alpha, beta=beta)
    tr = simulate(m, T, dt=dt, method="ode", x0=(s0 * U(K))[:, None, :], n_saves=11)
    y = exact.projected_coordinates(tr.class_means()[0])           # (S, K)
    return tr.times, y


@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("alpha, beta", IMPACTS, ids=IDS)
def test_ce_margin_against_solver(K, alpha, beta):
    s0, T, dt = 0.5, 4.0, 1e-3
    times, y = _symmetric_ce_run(K, alpha, beta, s0, T, dt)
    # the symmetric configuration is preserved: every class has the same margin
    np.testing.assert_allclose(y, y[:, :1] * np.ones(K), atol=1e-12)
    s = exact.ce_symmetric_margin(times, alpha=alpha, beta=beta, n_classes=K, s0=s0)
    # Euler's global error is O(dt) with a constant of order |alpha - beta| T <= 2:
    # 5e-3 leaves a margin of ~3 over the observed error
    np.testing.assert_allclose(y[:, 0], s, atol=5e-3)
    loss = exact.ce_symmetric_loss(times, alpha=alpha, beta=beta, n_classes=K, s0=s0)
    X = y[:, 0, None] * U(K)[0]                     # class-0 logits at each time
    direct = np.log(np.exp(X).sum(-1)) - X[:, 0]
    np.testing.assert_allclose(loss, np.log1p((K - 1) * np.exp(-s)), rtol=1e-12)
    np.testing.assert_allclose(loss, direct, atol=5e-3)


def test_ce_margin_solver_halves_error_with_dt():
    # first-order convergence of the solver to the closed form
    errs = []
    for dt in [4e-2, 2e-2, 1e-2]:
        times, y = _symmetric_ce_run(3, 1.0, 0.2, 0.0, 3.0, dt)
        s = exact.ce_symmetric_margin(times, alpha=1.0, beta=0.2, n_classes=3)
        errs.append(np.abs(y[:, 0] - s).max())
    assert 1.8 < errs[0] / errs[1] < 2.2 and 1.8 < errs[1] / errs[2] < 2.2


def test_ce_margin_asymptotics_and_no_overflow():
    K, a, b = 3, 1.0, 0.25
    t = np.array([1e6, 1e9, 1e300])
    s = exact.ce_symmetric_margin(t, alpha=a, beta=b, n_classes=K)
    assert np.all(np.isfinite(s))
    loss = exact.ce_symmetric_loss(t, alpha=a, beta=b, n_classes=K)
    # DESIGN.md item 2: loss ~ (K-1)/((alpha-beta) t); relative correction ~ (K-1) s/c
    np.testing.assert_allclose(loss, (K - 1) / ((a - b) * t), rtol=1e-4)
    s_neg = exact.ce_symmetric_margin(t, alpha=b, beta=a, n_classes=K)
    # alpha < beta: s -> -inf linearly, s ~ -(beta-alpha) t/(K-1)
    np.testing.assert_allclose(s_neg, -(a - b) * t / (K - 1), rtol=1e-5)
    loss_neg = exact.ce_symmetric_loss(t, alpha=b, beta=a, n_classes=K)
    assert np.all(np.isfinite(loss_neg)) and np.all(np.diff(loss_neg) > 0)


@settings(max_examples=60, deadline=None)
@given(c_exp=st.floats(-8, 300), K=st.integers(2, 50), sign=st.sampled_from([-1, 1]),
       s0=st.floats(-5, 5))
def test_margin_from_gap_residual(c_exp, K, sign, s0):
    gap = sign * 10.0 ** (c_exp / 10)          # |gap| from 1e-0.8 to 1e30
    s = float(exact.ce_margin_from_gap(gap, n_classes=K, s0=s0))
    c = math.exp(s0) + (K - 1) * s0 + gap
    resid = math.exp(s) + (K - 1) * s - c
    assert abs(resid) <= 1e-12 * max(1.0, abs(c))


def test_margin_from_gap_is_the_margin_law_with_any_gap():
    # constant impacts: gap = (alpha - beta) t, identical to ce_symmetric_margin
    t = np.linspace(0, 40, 9)
    np.testing.assert_array_equal(exact.ce_margin_from_gap(0.6 * t, n_classes=4, s0=0.3),
                                  exact.ce_symmetric_margin(t, alpha=1.0, beta=0.4, n_classes=4,
                                                            s0=0.3))
    # time-varying impacts (chapter 6): the gap A(t) - B(t) replaces (alpha - beta) t
    A, B = exact.integrated_impacts(alpha_tv, beta_tv, t)
    np.testing.assert_array_equal(exact.ce_margin_from_gap(A - B, n_classes=3),
                                  exact.ce_symmetric_margin(t, alpha=alpha_tv, beta=beta_tv,
                                                            n_classes=3))
    # vectorised over any shape; gap 0 returns s0
    g = np.array([[0.0, 1.0, -2.0], [1e300, -1e300, 5.0]])
    s = exact.ce_margin_from_gap(g, n_classes=3, s0=0.7)
    assert s.shape == g.shape and np.all(np.isfinite(s)) and s[0, 0] == pytest.approx(0.7)
    order = np.argsort(g.ravel())
    assert np.all(np.diff(s.ravel()[order]) > 0)                     # increasing in the gap


def test_margin_from_gap_against_ode_with_time_varying_impacts():
    # ds/dt = (alpha - beta)(t) / (e^s + K - 1), integrated by RK4 on a fine grid
    K, s0, T, n = 3, 0.2, 6.0, 6000
    h = T / n
    f = lambda t, s: (alpha_tv(t) - beta_tv(t)) / (math.exp(s) + K - 1)   # noqa: E731
    s, t = s0, 0.0
    for _ in range(n):
        k1 = f(t, s)
        k2 = f(t + h / 2, s + h / 2 * k1)
        k3 = f(t + h / 2, s + h / 2 * k2)
        k4 = f(t + h, s + h * k3)
        s, t = s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), t + h
    A, B = exact.integrated_impacts(alpha_tv, beta_tv, T)
    assert float(exact.ce_margin_from_gap(A - B, n_classes=K, s0=s0)) == pytest.approx(s, abs=1e-10)


def test_margin_from_gap_validation():
    with pytest.raises(ValueError, match="n_classes"):
        exact.ce_margin_from_gap(1.0, n_classes=1)
    with pytest.raises(ValueError, match="s0 must be <= 700"):
        exact.ce_margin_from_gap(1.0, n_classes=3, s0=701.0)
    with pytest.raises(ValueError, match="gap"):
        exact.ce_margin_from_gap([1.0, np.nan], n_classes=3)
    with pytest.raises(NonFiniteError, match="overflows"):
        exact.ce_margin_from_gap(np.finfo(float).max, n_classes=3, s0=700.0)


@settings(max_examples=30, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), s0=st.floats(-5, 5))
def test_margin_monotone_in_time(a, b, s0):
    t = np.linspace(0, 50, 11)
    s = exact.ce_symmetric_margin(t, alpha=a, beta=b, n_classes=3, s0=s0)
    assert s[0] == pytest.approx(s0, abs=1e-12)
    d = np.diff(s)
    assert np.all(d * np.sign(a - b) >= -1e-12)


# ----------------------------------------------------- linear identity (item 3)

@pytest.mark.parametrize("alpha, beta", IMPACTS, ids=IDS)
def test_identity_solution_against_solver(alpha, beta):
    K, n, p, T = 3, 4, 2, 3.0
    m = LEModel(K, n, alpha=alpha, beta=beta, gradient="identity", dim=p)
    x0 = np.random.default_rng(0).standard_normal((K, n, p))
    tr = simulate(m, T, dt=1e-3, method="ode", x0=x0, n_saves=7)
    A, B = exact.integrated_impacts(alpha, beta, tr.times)
    want = exact.linear_identity_solution(x0.mean(axis=1), A, B)
    # Euler error O(dt) relative to the solution's size
    np.testing.assert_allclose(tr.class_means()[0], want, rtol=3e-3, atol=3e-3)
    # within-class deviations are frozen (gamma = 0)
    dev = tr.features[0] - tr.features[0].mean(axis=2, keepdims=True)
    np.testing.assert_allclose(dev, np.broadcast_to(dev[0], dev.shape), atol=1e-10)
    # estimators recover A and B from the simulated class means
    Ah, Bh = exact.estimate_AB_identity(tr.times, tr.class_means()[0])
    np.testing.assert_allclose(Ah, A, atol=1e-2)
    np.testing.assert_allclose(Bh, B, atol=1e-2)


def test_identity_estimator_exact_on_closed_form():
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((4, 3))
    times = np.linspace(0, 5, 21)
    A, B = exact.integrated_impacts(alpha_tv, beta_tv, times)
    X = exact.linear_identity_solution(x0, A, B)
    Ah, Bh = exact.estimate_AB_identity(times, X)
    np.testing.assert_allclose(Ah, A, atol=1e-10)
    np.testing.assert_allclose(Bh, B, atol=1e-10)
    ah, bh = exact.impacts_from_AB(times, Ah, Bh, window=3)
    # central differences on a grid of 0.25: error ~ h^2 |alpha'''|/6 ~ 5e-3
    np.testing.assert_allclose(ah[1:-1], [alpha_tv(t) for t in times[1:-1]], atol=1e-2)
    np.testing.assert_allclose(bh[1:-1], [beta_tv(t) for t in times[1:-1]], atol=1e-2)


def test_identity_mode_scales():
    sm, so = exact.identity_mode_scales(3.0, 1.5, 3)
    assert sm == pytest.approx(math.exp((3 + 2 * 1.5) / 3))
    assert so == pytest.approx(math.exp(0.5))
    with pytest.raises(NonFiniteError, match="global-mean"):
        exact.identity_mode_scales(5000.0, 5000.0, 3)


# ----------------------------------------------------- linear projected (item 3)

@pytest.mark.parametrize("alpha, beta", IMPACTS, ids=IDS)
def test_projected_solution_against_solver(alpha, beta):
    K, n, T = 3, 3, 3.0
    m = LEModel(K, n, alpha=alpha, beta=beta, gradient="projected")
    x0 = np.random.default_rng(2).standard_normal((K, n, K))
    tr = simulate(m, T, dt=1e-3, method="ode", x0=x0, n_saves=7)
    y = exact.projected_coordinates(tr.class_means()[0])
    A, B = exact.integrated_impacts(alpha, beta, tr.times)
    want = exact.linear_projected_solution(y[0], A, B)
    np.testing.assert_allclose(y, want, rtol=3e-3, atol=3e-3)
    Ah, Bh = exact.estimate_AB_projected(tr.times, tr.class_means()[0])
    np.testing.assert_allclose(Ah, A, atol=1.5e-2)
    np.testing.assert_allclose(Bh, B, atol=1.5e-2)


def test_projected_modes_and_estimator_exact():
    K = 4
    times = np.linspace(0, 4, 9)
    A, B = exact.integrated_impacts(1.3, 0.7, times)
    y0 = np.array([1.0, 0.5, -0.2, 0.9])
    y = exact.linear_projected_solution(y0, A, B)
    se, sc = exact.projected_mode_scales(A, B, K)
    np.testing.assert_allclose(y.mean(axis=1), se * y0.mean())
    np.testing.assert_allclose(y - y.mean(1, keepdims=True), sc[:, None] * (y0 - y0.mean()))
    X = y[:, :, None] * U(K)[None] + 0.3          # class means y_k u_k (+ a common shift)
    np.testing.assert_allclose(exact.projected_coordinates(X), y, atol=1e-12)
    Ah, Bh = exact.estimate_AB_projected(times, X)
    np.testing.assert_allclose(Ah, A, atol=1e-10)
    np.testing.assert_allclose(Bh, B, atol=1e-10)
    ah, bh = exact.impacts_from_AB(times, Ah, Bh)
    np.testing.assert_allclose(ah, 1.3, atol=1e-9)      # exact for linear A, B
    np.testing.assert_allclose(bh, 0.7, atol=1e-9)


# ----------------------------------------------------- estimators: validation

def test_estimator_validation():
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="class_means"):
        exact.estimate_AB_identity(t, np.ones((4, 3, 2)))
    with pytest.raises(ValueError, match="class_means"):
        exact.estimate_AB_projected(t, np.ones((5, 3, 2)))
    with pytest.raises(ValueError, match="increasing"):
        exact.estimate_AB_identity(t[::-1], np.ones((5, 3, 2)))
    with pytest.raises(ValueError, match="class_means: the global mean vanishes at time index 0"):
        exact.estimate_AB_identity(t, np.zeros((5, 3, 2)))
    with pytest.raises(ValueError, match="window"):
        exact.impacts_from_AB(t, t, t, window=6)
    a3, _ = exact.impacts_from_AB(t[:3], 2 * t[:3], t[:3])     # default window shrinks to S
    np.testing.assert_allclose(a3, 2.0)
    with pytest.raises(ValueError, match="A must have shape"):
        exact.impacts_from_AB(t, t[:3], t)


def _projected_means(y):
    """Class means (S, K, K) with projected coordinates y (S, K)."""
    K = y.shape[1]
    return y[:, :, None] * U(K)[None]


def test_projected_estimator_rejects_a_sign_change_of_ybar():
    # ybar = 1, 0.5, -0.5, -1: |ybar| would fit a decay and a regrowth, silently wrong
    times = np.arange(4.0)
    ybar = np.array([1.0, 0.5, -0.5, -1.0])
    y = ybar[:, None] + np.array([0.3, -0.1, -0.2])
    with pytest.raises(ValueError, match=r"class_means: the mean projected coordinate ybar "
                                         r"changes sign .* time indices 1 and 2 \(t = 1 to 2\)"):
        exact.estimate_AB_projected(times, _projected_means(y))
    # zero at a record (to rounding): named with its time index
    y[2] = [0.3, -0.1, -0.2]
    with pytest.raises(ValueError, match="ybar vanishes at time index 2"):
        exact.estimate_AB_projected(times, _projected_means(y))


def test_projected_estimator_rejects_a_contrast_through_zero():
    times = np.arange(4.0)
    # K = 2: z is one-dimensional, any sign change of y_1 - y_2 is caught
    y = np.array([[1.2, 0.8], [1.1, 0.9], [0.9, 1.1], [0.8, 1.2]])
    with pytest.raises(ValueError, match="projected contrast z changes sign .* indices 1 and 2"):
        exact.estimate_AB_projected(times, _projected_means(y))
    # K = 3: a contrast that passes (nearly) through zero is caught ...
    z = np.array([[1.0, -1.0, 0.0], [0.1, -0.1, 0.0], [-0.1, 0.1 + 1e-4, -1e-4],
                  [-1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="contrast z changes sign .* indices 1 and 2"):
        exact.estimate_AB_projected(times, _projected_means(1.0 + z))
    # ... one that only rotates (constant size) is fitted by its norm
    ang = np.array([0.0, 1.0, 2.0, 3.0])                     # radians between records
    e1 = np.array([1.0, -1.0, 0.0]) / math.sqrt(2)
    e2 = np.array([1.0, 1.0, -2.0]) / math.sqrt(6)
    z = np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2
    A, B = exact.estimate_AB_projected(times, _projected_means(1.0 + z))
    np.testing.assert_allclose((A - B) / 3, 0.0, atol=1e-12)          # ybar constant
    np.testing.assert_allclose((A + B / 2) / 3, 0.0, atol=1e-12)      # |z| constant
    # a mode that decays by a factor 1e6 between records, same direction, is fine
    y = np.array([[2.0, 1.0, 0.5], [2e-6, 1e-6, 0.5e-6]])
    A, B = exact.estimate_AB_projected(times[:2], _projected_means(y))
    np.testing.assert_allclose((A[1] - B[1]) / 3, math.log(1e-6), rtol=1e-9)


def test_identity_estimator_rejects_sign_changes():
    times = np.arange(3.0)
    x0 = np.array([[1.0, 2.0], [2.0, 0.0], [0.0, 1.0]])
    m0, O0 = x0.mean(0), x0 - x0.mean(0)
    # the global mean reverses: m, m/2, -m/2
    X = np.stack([m0 + O0, 0.5 * m0 + O0, -0.5 * m0 + O0])
    with pytest.raises(ValueError, match="class_means: the global mean changes sign .* "
                                         "indices 1 and 2"):
        exact.estimate_AB_identity(times, X)
    # the class offsets reverse: O, O/2, -O
    X = np.stack([m0 + O0, m0 + 0.5 * O0, m0 - O0])
    with pytest.raises(ValueError, match="class offsets changes sign .* indices 1 and 2"):
        exact.estimate_AB_identity(times, X)
    # the class offsets vanish to rounding relative to the class means
    X = np.stack([m0 + O0, m0 + 1e-14 * O0, m0 + O0])
    with pytest.raises(ValueError, match="class offsets vanishes at time index 1"):
        exact.estimate_AB_identity(times, X)


def test_estimators_accept_the_closed_forms_with_decaying_modes():
    # alpha < beta: the equal-y mode decays by e^{-8} while the contrast grows by e^{7}
    times = np.linspace(0, 12, 7)
    A, B = exact.integrated_impacts(0.5, 2.5, times)
    y0 = np.array([1.0, 0.4, -0.2])
    X = _projected_means(exact.linear_projected_solution(y0, A, B))
    Ah, Bh = exact.estimate_AB_projected(times, X)
    np.testing.assert_allclose(Ah, A, atol=1e-8)
    np.testing.assert_allclose(Bh, B, atol=1e-8)


# ----------------------------------------------------- label noise factor

def test_label_noise_factor():
    f = exact.label_noise_factor([0.0, 0.5, 2 / 3, 0.8], 3)
    np.testing.assert_allclose(f, [1.0, 0.25, 0.0, -0.2], atol=1e-15)
    with pytest.raises(ValueError, match="p must be"):
        exact.label_noise_factor(1.0, 3)
