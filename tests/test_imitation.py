"""Tests of lecode/imitation.py (chapter 6: imitating recorded training with the LE-ODE)."""


import numpy as np
import pytest

from lecode import LEModel, NonFiniteError, exact, simulate
from lecode import imitation as I


def test_model_times():
    assert np.allclose(I.model_times([0, 10, 200], 0.005), [0.0, 0.05, 1.0])
    with pytest.raises(ValueError, match="lr"):
        I.model_times([1], 0.0)
    with pytest.raises(ValueError, match="steps"):
        I.model_times([-1], 0.1)


def test_interpolant_linear_values_and_exact_integral():
    f = I.Interpolant([0.0, 1.0, 3.0], [2.0, 4.0, 0.0])
    assert f(0.5) == pytest.approx(3.0) and f(2.0) == pytest.approx(2.0)
    assert f(-1.0) == 2.0 and f(10.0) == 0.0                      # constant beyond the ends
    assert float(f.integral(0.0, 3.0)) == pytest.approx(3.0 + 4.0)
    # the integral agrees with a fine quadrature everywhere, also beyond the ends
    grid = np.linspace(-1.0, 4.0, 50001)
    vals = f(grid)
    num = np.concatenate([[0.0], np.cumsum(0.5 * (vals[1:] + vals[:-1]) * np.diff(grid))])
    for b in (-0.5, 0.3, 1.0, 2.2, 3.9):
        j = np.argmin(abs(grid - b))
        assert float(f.integral(-1.0, grid[j])) == pytest.approx(num[j], abs=1e-6)


def test_interpolant_step_and_vector_values():
    f = I.Interpolant([0.0, 1.0, 2.0], [[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]], kind="step")
    assert f.shape == (2,)
    assert np.allclose(f(0.999), [1.0, 10.0]) and np.allclose(f(1.0), [3.0, 30.0])
    assert np.allclose(f(7.0), [5.0, 50.0])
    assert np.allclose(f.integral(0.0, 2.0), [4.0, 40.0])
    assert np.allclose(f.integral(0.0, 1.5), [2.5, 25.0])
    assert "step" in repr(f)


@pytest.mark.parametrize("bad", [dict(knots=[0.0, 0.0], values=[1.0, 2.0]),
                                 dict(knots=[0.0, 1.0], values=[1.0]),
                                 dict(knots=[0.0, np.nan], values=[1.0, 2.0]),
                                 dict(knots=[0.0, 1.0], values=[1.0, 2.0], kind="cubic")])
def test_interpolant_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        I.Interpolant(**bad)


@pytest.mark.parametrize("gradient", I.GRADIENTS)
def test_class_mean_drift_matches_lemodel(gradient):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 4))
    model = LEModel(4, 1, alpha=1.3, beta=0.4, gradient=gradient)
    assert np.allclose(I.class_mean_drift(X, 1.3, 0.4, gradient), model.drift(X[:, None, :])[:, 0],
                       atol=1e-14)


def test_solve_matches_simulate_for_time_varying_ce():
    a, b = (lambda t: 1.0 + 0.5 * np.sin(t)), (lambda t: 0.3)
    x0 = np.array([[0.2, 0.0, -0.1], [0.0, 0.1, 0.0], [-0.1, 0.0, 0.3]])
    times = np.linspace(0.0, 4.0, 9)
    sol = I.solve_class_means(x0, times, alpha=a, beta=b, gradient="ce", max_step=0.01)
    traj = simulate(LEModel(3, 1, alpha=a, beta=b), 4.0, dt=1e-3, method="ode", x0=x0[:, None, :],
                    n_saves=9)
    assert np.allclose(sol, traj.class_means()[0], atol=1e-3)


def test_solve_identity_matches_closed_form_and_trials_axis():
    x0 = np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0.0], [0.4, 0.1, 0.6]])
    times = np.linspace(0.0, 2.0, 11)
    alpha = np.array([1.2, 0.5])                       # two trials with different impacts
    beta = np.array([0.3, 0.6])
    sol = I.solve_class_means(np.stack([x0, 2 * x0]), times, alpha=alpha, beta=beta,
                              gradient="identity")
    assert sol.shape == (2, 11, 3, 3)
    for j, scale in enumerate((1.0, 2.0)):
        want = exact.linear_identity_solution(scale * x0, alpha[j] * times, beta[j] * times)
        assert np.allclose(sol[j], want, rtol=1e-8)


def test_symmetric_ce_margin_law():
    K, s0 = 3, 0.4
    U = np.eye(K) - 1 / K
    times = np.linspace(0, 20, 21)
    sol = I.solve_class_means(s0 * U, times, alpha=2.0, beta=0.5, gradient="ce")
    y = exact.projected_coordinates(sol)
    want = exact.ce_symmetric_margin(times, alpha=2.0, beta=0.5, n_classes=K, s0=s0)
    assert np.allclose(y, want[:, None], atol=1e-8)


def test_solve_overflow_raises():
    with pytest.raises(NonFiniteError):
        I.solve_class_means(np.eye(3), [0.0, 1e4], alpha=10.0, beta=0.0, gradient="identity",
                            max_step=10.0)


def test_solve_rejects_bad_input():
    with pytest.raises(ValueError, match="x0"):
        I.solve_class_means(np.ones((3, 2)), [0.0, 1.0], alpha=1.0, beta=0.0)
    with pytest.raises(ValueError, match="times"):
        I.solve_class_means(np.eye(3), [1.0, 0.5], alpha=1.0, beta=0.0)
    with pytest.raises(ValueError, match="gradient"):
        I.solve_class_means(np.eye(3), [0.0, 1.0], alpha=1.0, beta=0.0, gradient="mse")
    with pytest.raises(ValueError, match="max_step"):
        I.solve_class_means(np.eye(3), [0.0, 1.0], alpha=1.0, beta=0.0, max_step=0.0)


def _projected_record(K=3, T=None):
    rng = np.random.default_rng(3)
    x0 = 0.3 * np.eye(K) + 0.05 * rng.normal(size=(K, K))
    times = np.linspace(0.0, 3.0, 31)
    a, b = (lambda t: 1.5 + 0.5 * t), (lambda t: 0.2 + 0.1 * np.cos(t))
    X = I.solve_class_means(x0, times, alpha=a, beta=b, gradient="projected", max_step=5e-3)
    return times, X, a, b


@pytest.mark.parametrize("variant", I.VARIANTS)
def test_fit_impacts_recovers_integrated_impacts(variant):
    times, _, a, b = _projected_record()
    rng = np.random.default_rng(4)
    x0 = np.eye(3) + 0.2 * rng.normal(size=(3, 3))
    X = I.solve_class_means(x0, times, alpha=a, beta=b, gradient=variant, max_step=5e-3)
    fit = I.fit_impacts(times, X, variant=variant)
    A, B = exact.integrated_impacts(a, b, times)
    assert np.allclose(fit.A, A, atol=1e-6) and np.allclose(fit.B, B, atol=1e-6)
    mid = slice(3, -3)
    assert np.allclose(fit.alpha[mid], [a(t) for t in times[mid]], atol=1e-2)
    # a batch of trials gives the same answer trial by trial
    batch = I.fit_impacts(times, np.stack([X, X]), variant=variant)
    assert batch.A.shape == (2, 31) and np.allclose(batch.A[1], fit.A)
    ra, rb = fit.interval_rates()
    assert np.allclose(np.cumsum(ra[:-1] * np.diff(times)), A[1:], atol=1e-6)


def test_imitate_projected_is_exact_on_projected_data():
    times, X, _, _ = _projected_record()
    res = I.imitate(times, X, source="projected")
    assert res.gradient == "projected" and res.solution.shape == X.shape
    # interval-average rates reproduce A, B at the records exactly; within an interval the path
    # of the rates differs from the smooth one, an O(dt^2) effect on the off-mode components
    assert np.max(res.error) < 1e-4


def test_imitate_ntk_source_on_ce_data():
    times = np.linspace(0.0, 5.0, 26)
    it = np.array([0.0, 2.0, 5.0])
    alpha, beta = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 1.0])
    x0 = np.array([[0.3, 0.0, -0.1], [0.0, 0.2, 0.0], [-0.1, 0.1, 0.4]])
    X = I.solve_class_means(x0, times, alpha=I.Interpolant(it, alpha), beta=I.Interpolant(it, beta),
                            max_step=1e-3)
    res = I.imitate(times, X, source="ntk", impact_times=it, alpha=alpha, beta=beta)
    assert np.max(res.error) < 1e-6
    with pytest.raises(ValueError, match="impact_times"):
        I.imitate(times, X, source="ntk")
    with pytest.raises(ValueError, match="fits its own"):
        I.imitate(times, X, source="identity", alpha=alpha)


def test_relative_error():
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert I.relative_error(Y, Y) == 0.0
    assert I.relative_error(Y + 5.0, Y) == pytest.approx(0.0)          # shift invariance
    assert I.relative_error(Y + 5.0, Y, centred=False) > 1
    with pytest.raises(ValueError):
        I.relative_error(Y, Y[:1])


def test_linear_equivalent_gap_matches_both_odes():
    K, s0 = 3, 0.5
    U = np.eye(K) - 1 / K
    times = np.linspace(0, 10, 11)
    gap_ce = (2.0 - 0.5) * times
    s = exact.ce_symmetric_margin(times, alpha=2.0, beta=0.5, n_classes=K, s0=s0)
    lin = I.linear_equivalent_gap(gap_ce, s0=s0, n_classes=K)
    assert np.allclose(s, s0 * np.exp(lin / K), rtol=1e-10)
    # the projected LE-ODE driven by the equivalent gap (beta = 0) follows the same margin
    rate = I.Interpolant(times, np.append(np.diff(lin) / np.diff(times), 0.0), kind="step")
    sol = I.solve_class_means(s0 * U, times, alpha=rate, beta=0.0, gradient="projected",
                              max_step=1e-3)
    assert np.allclose(exact.projected_coordinates(sol)[:, 0], s, rtol=1e-8)
    with pytest.raises(ValueError, match="s0"):
        I.linear_equivalent_gap(gap_ce, s0=0.0, n_classes=K)


def test_linear_equivalent_gap_uses_the_shared_margin_solver():
    # one solver of e^s + (K-1)s = e^{s0} + (K-1)s0 + gap for chapters 4 and 6
    rng = np.random.default_rng(3)
    for K in (2, 3, 5):
        s0 = 0.3
        gap = np.concatenate([np.geomspace(1e-8, 1e8, 40), -rng.uniform(0, 0.5, 20),
                              rng.uniform(-0.5, 50, (3, 7)).ravel()])
        s = exact.ce_margin_from_gap(gap, n_classes=K, s0=s0)
        np.testing.assert_array_equal(I.linear_equivalent_gap(gap, s0=s0, n_classes=K),
                                      K * np.log(s / s0))
    # time-varying impacts: the gap A(t) - B(t) of an Interpolant gives the ODE's margin
    times = np.linspace(0, 6, 25)
    f = I.Interpolant([0.0, 2.0, 6.0], [3.0, 0.5, 1.0])
    gap = f.integral(0.0, times)
    U = np.eye(3) - 1 / 3
    sol = I.solve_class_means(0.4 * U, times, alpha=f, beta=0.0, gradient="ce", max_step=1e-2)
    s = exact.projected_coordinates(sol)[:, 0]
    assert np.allclose(s, exact.ce_margin_from_gap(gap, n_classes=3, s0=0.4), atol=1e-9)
    assert not hasattr(I, "_ce_margin")


def test_tail_index():
    t = np.geomspace(1, 100, 20)
    r, c = I.tail_index(t, 3.0 * t ** -1.5)
    assert r == pytest.approx(1.5) and c == pytest.approx(3.0)
    assert I.tail_index(t, 2.0 / t, t_min=10.0)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        I.tail_index(t, -t)


def test_record_of_stored_experiments():
    geo = I.record("geomnist")
    assert geo.n_classes == 3 and geo.class_means.shape[1:] == (len(geo.steps), 3, 3)
    assert geo.alpha.shape == (geo.n_trials, len(geo.impact_steps)) == geo.beta.shape
    assert np.allclose(geo.times, geo.lr * geo.steps) and geo.index(100) > 0
    assert np.allclose(geo.class_means_by_label, geo.class_means, equal_nan=True)   # no label noise
    assert geo.val_loss.shape == geo.train_acc.shape == geo.val_acc.shape
    noisy = I.record("label_noise", 0.5)
    assert noisy.setting == 0.5 and not np.allclose(noisy.class_means_by_label, noisy.class_means)
    with pytest.raises(ValueError, match="record step"):
        geo.index(101)
    d2 = I.record("digits", 2)
    assert d2.n_classes == 2 and d2.class_means.shape[-2:] == (2, 2)
    assert np.all(np.isfinite(d2.class_means))
    with pytest.raises(ValueError, match="setting"):
        I.record("digits", 7)
    with pytest.raises(ValueError):
        I.record("cifar")
    with pytest.raises(TypeError):
        I.record({"no": "class means"})


def test_stored_results_hold_by_label_means_for_label_noise_only():
    # lecode.experiments.run/load document class_means_by_label for label_noise only
    from lecode import experiments

    for name in experiments.EXPERIMENTS:
        stored = experiments.load(name)
        assert ("class_means_by_label" in stored) == (name == "label_noise"), name
    d3 = I.record("digits", 3)
    assert d3.class_means_by_label is d3.class_means            # clean labels: the fallback
