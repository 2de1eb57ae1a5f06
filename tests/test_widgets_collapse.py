"""Headless tests of the chapter-5 explorer and helpers (lecode/widgets/collapse.py)."""

import matplotlib
import numpy as np
import pytest

from lecode import LEModel, metrics, simulate
from lecode.widgets import Explorer, collapse

WIDGET = collapse   # the explorer module under test (fixtures: tests/conftest.py)

U3 = np.eye(3) - 1.0 / 3.0


# -- helpers -----------------------------------------------------------------

def test_symmetric_margin_solves_the_margin_law():
    t = np.array([0.0, 0.5, 3.0, 100.0, 1e5])
    for c, s0 in [(0.8, 0.0), (-0.8, 0.0), (2.0, -1.5), (-0.3, 4.0)]:
        for K in (2, 3, 10):
            s = collapse.symmetric_margin(t, c, K, s0)
            lhs = np.exp(s) + (K - 1) * s
            rhs = np.exp(s0) + (K - 1) * s0 + c * t
            np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-9)
            assert s[0] == pytest.approx(s0)
            assert np.all(np.diff(s) * np.sign(c) >= 0)


def test_symmetric_margin_matches_the_ode():
    traj = simulate(LEModel(3, 1, alpha=1.5, beta=0.5), 10.0, method="ode", dt=0.002, n_saves=6,
                    x0=np.zeros((3, 1, 3)))
    s_sim = collapse.vertex_coordinates(traj.class_means()[0])
    law = collapse.symmetric_margin(traj.times, 1.0)
    np.testing.assert_allclose(s_sim, np.broadcast_to(law[:, None], s_sim.shape), atol=2e-3)


def test_symmetric_margin_rejects_bad_input():
    with pytest.raises(ValueError, match="t must be >= 0"):
        collapse.symmetric_margin([-1.0], 1.0)
    with pytest.raises(ValueError, match="n_classes"):
        collapse.symmetric_margin([1.0], 1.0, 1)


def test_predicted_nc1_formula():
    t = np.array([1.0, 10.0])
    s = collapse.symmetric_margin(t, 0.5)
    np.testing.assert_allclose(collapse.predicted_nc1(t, 0.1, 0.5, n_per_class=10, v0=0.0),
                               2 * 0.9 * 0.01 * t / s ** 2)
    with pytest.raises(ValueError, match="sigma"):
        collapse.predicted_nc1(t, -0.1, 0.5)


def test_plane_and_vertex_coordinates():
    P = collapse.plane_coordinates(U3)
    # orthonormal basis of the sum-zero plane: lengths preserved, 120 degrees apart, u_3 up
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), np.linalg.norm(U3, axis=1))
    np.testing.assert_allclose(P[2], [0.0, np.sqrt(2 / 3)], atol=1e-15)
    np.testing.assert_allclose(collapse.PLANE_BASIS @ collapse.PLANE_BASIS.T, np.eye(2), atol=1e-15)
    np.testing.assert_allclose(collapse.PLANE_BASIS.sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(collapse.vertex_coordinates(2.5 * U3 + 7.0), [2.5, 2.5, 2.5])
    with pytest.raises(ValueError, match="last axis of length 3"):
        collapse.plane_coordinates(np.zeros(4))
    with pytest.raises(ValueError, match="class_means"):
        collapse.vertex_coordinates(np.zeros((3, 4)))


def test_log_times():
    g = collapse.log_times(100.0, 5, 1.0)
    np.testing.assert_allclose(g, [0, 1, np.sqrt(10), 10, np.sqrt(1000), 100])
    np.testing.assert_allclose(collapse.log_times(0.05, 5, 0.1), [0.0, 0.05])


def test_log_trajectory_agrees_with_a_fine_fixed_step_run():
    model = LEModel(3, 2, alpha=1.0, beta=0.2)
    x0 = np.random.default_rng(0).normal(size=(3, 2, 3))
    times, X = collapse.log_trajectory(model, 50.0, method="ode", x0=x0, n_points=3, t_min=5.0)
    fine = simulate(model, 50.0, method="ode", dt=0.001, x0=x0, n_saves=11)
    assert X.shape == (1, 4, 3, 2, 3)
    np.testing.assert_allclose(X[0, -1], fine.features[0, -1], atol=0.02 * np.abs(fine.features).max())


def test_log_trajectory_sgd_and_determinism():
    model = LEModel(3, 4, alpha=1.0, beta=0.2, sigma=0.1)
    a = collapse.log_trajectory(model, 20.0, n_trials=2, seed=5)
    b = collapse.log_trajectory(model, 20.0, n_trials=2, seed=5)
    np.testing.assert_array_equal(a[1], b[1])
    times, X = collapse.log_trajectory(model.replace(sigma=0.0), 20.0, method="sgd", lr=0.1, seed=1)
    np.testing.assert_allclose(times / 0.1, np.round(times / 0.1), atol=1e-9)
    assert times[-1] == pytest.approx(20.0)
    within = X - X[:, :, :, :1]
    np.testing.assert_allclose(within, within[:, :1].repeat(len(times), axis=1), atol=1e-12)


def test_log_trajectory_validation():
    model = LEModel(3, 2, alpha=1.0, beta=0.2)
    with pytest.raises(TypeError, match="needs the learning rate"):
        collapse.log_trajectory(model, 10.0, method="sgd")
    with pytest.raises(ValueError, match="lr is only used"):
        collapse.log_trajectory(model, 10.0, lr=0.1)
    with pytest.raises(ValueError, match="constant alpha"):
        collapse.log_trajectory(model.replace(alpha=lambda t: 1.0), 10.0)
    with pytest.raises(ValueError, match="method"):
        collapse.log_trajectory(model, 10.0, method="euler")
    with pytest.raises(TypeError, match="LEModel"):
        collapse.log_trajectory("model", 10.0)


# -- the explorer ------------------------------------------------------------

def test_make_explorer_controls(explorer):
    assert isinstance(explorer, Explorer)
    assert [c.name for c in explorer.controls] == ["alpha", "beta", "sigma", "lr", "t", "noise"]
    assert explorer.params()["noise"] == "LE-SDE"


def test_compute_shapes_and_sanity(default_result):
    r = default_result
    S = r["times"].shape[0]
    assert r["times"][0] == 0.0 and r["times"][-1] == pytest.approx(100.0)
    for key in ("nc1", "etf_distance", "nc3", "nc4", "nc2_equinorm", "nc2_equiangle", "loss", "s",
                "nc1_pred"):
        assert r[key].shape == (S,)
    assert r["X"].shape == (collapse.K, collapse.N_PER_CLASS, 3) and r["means"].shape == (3, 3)
    np.testing.assert_allclose(r["means"], r["X"].mean(axis=1))
    # alpha > beta: margin grows, loss falls, means aligned, argmax = nearest centre
    assert r["s"][-1] > 3 and r["loss"][-1] < 0.1 * r["loss"][0]
    assert r["nc3"][-1] < 0.3 and r["nc4"][-1] == 0.0
    assert np.all(np.isfinite(r["nc1_pred"][1:]))


def test_compute_is_deterministic():
    a = collapse.compute(t=10.0)
    b = collapse.compute(t=10.0)
    np.testing.assert_array_equal(a["X"], b["X"])


def test_alpha_below_beta_breaks_collapse():
    r = collapse.compute(alpha=0.2, beta=1.0)
    assert r["s"][-1] < -10 and r["nc3"][-1] > 1.8 and r["nc4"][-1] > 0.9
    assert np.all(np.isnan(r["nc1_pred"]))


def test_noise_level_raises_nc1():
    quiet = collapse.compute(sigma=0.01, t=300.0)
    loud = collapse.compute(sigma=0.3, t=300.0)
    assert loud["nc1"][-1] > 10 * quiet["nc1"][-1]


def test_feature_sgd_keeps_clouds_frozen_and_collapses():
    r = collapse.compute(noise="feature-SGD", t=100.0)
    sde = collapse.compute(noise="LE-SDE", sigma=0.1, t=100.0)
    assert r["nc1"][-1] < 0.01 and r["nc1"][-1] < 0.2 * sde["nc1"][-1]
    assert np.all(np.diff(r["nc1"][-10:]) < 0)          # still falling
    ref = collapse.compute(noise="feature-SGD", t=3.0)
    spread = lambda X: X - X.mean(axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(spread(r["X"]), spread(ref["X"]), atol=1e-12)


def test_time_control_moves_the_snapshot():
    early, late = collapse.compute(t=2.0), collapse.compute(t=200.0)
    assert late["s"][-1] > early["s"][-1] + 2


@pytest.mark.parametrize("name,value", [("alpha", 2.5), ("beta", -0.1), ("sigma", 0.5),
                                        ("lr", 0.01), ("t", 0.5), ("t", 1000.0),
                                        ("noise", "Langevin")])
def test_out_of_range_parameters_raise(explorer, name, value):
    with pytest.raises(ValueError, match=name):
        explorer.params(**{name: value})
    with pytest.raises(ValueError, match=name):
        collapse.compute(**{name: value})


def test_figure_draws_artists(explorer):
    fig = explorer.figure(t=20.0)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 3
    ax3, ax2, axn = fig.axes
    assert ax3.name == "3d" and len(ax3.collections) >= 2 and len(ax3.lines) >= 3
    assert len(ax2.collections) >= 3 and len(ax2.lines) >= 2          # samples, means, arrows
    assert len(axn.lines) >= 4 and axn.get_xscale() == "log"
    assert axn.get_xlabel() == "time t"


def test_small_multiples_has_one_row_per_value(explorer):
    fig = explorer.small_multiples("t", [2.0, 20.0])
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 2 * 3
    fig = explorer.small_multiples("noise", ["LE-SDE", "feature-SGD"], t=10.0)
    assert len(fig.axes) == 2 * 3


def test_the_nc_statistics_match_lecode_metrics(default_result):
    # compute() reports lecode.metrics on the simulated features: re-run and compare at the end
    model = LEModel(3, collapse.N_PER_CLASS, alpha=1.0, beta=0.2, sigma=0.05)
    times, X = collapse.log_trajectory(model, 100.0, seed=collapse.SEED)
    nc = metrics.neural_collapse(X[0, -1])
    assert float(nc.nc1) == pytest.approx(default_result["nc1"][-1])


def test_impacts_move_the_margin():
    default = collapse.compute()["s"][-1]
    assert collapse.compute(alpha=2.0)["s"][-1] > default + 0.5        # larger alpha - beta
    assert collapse.compute(beta=0.6)["s"][-1] < default - 0.5         # smaller alpha - beta


def test_learning_rate_shakes_the_class_means():
    # feature-SGD's class means fluctuate more with a larger step: further from the ETF at t
    for seed in (0, 1):
        small = collapse.compute(noise="feature-SGD", lr=0.05, seed=seed)
        big = collapse.compute(noise="feature-SGD", lr=0.5, seed=seed)
        assert big["etf_distance"][-1] > 2 * small["etf_distance"][-1]


def test_sparse_log_ticks_only_touches_log_axes():
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogLocator, NullLocator

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 10, 100], [1, 2, 3])
    ax.set_xscale("log")
    collapse.sparse_log_ticks(ax)
    assert isinstance(ax.xaxis.get_minor_locator(), NullLocator)
    assert isinstance(ax.xaxis.get_major_locator(), LogLocator)
    assert not isinstance(ax.yaxis.get_minor_locator(), NullLocator) or ax.get_yscale() == "linear"
    assert not isinstance(ax.yaxis.get_major_locator(), LogLocator)
