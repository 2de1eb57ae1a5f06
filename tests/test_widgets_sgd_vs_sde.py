"""Headless tests of the chapter-2 explorer (lecode/widgets/sgd_vs_sde.py)."""

import matplotlib
import numpy as np
import pytest

from lecode.widgets import Explorer, sgd_vs_sde


@pytest.fixture(scope="module")
def explorer():
    return sgd_vs_sde.make_explorer()


@pytest.fixture(scope="module")
def default_result():
    return sgd_vs_sde.compute(n_trials=100, seed=0)


def test_make_explorer_controls(explorer):
    assert isinstance(explorer, Explorer)
    assert [c.name for c in explorer.controls] == ["lr", "alpha", "beta"]
    assert explorer.params() == {"lr": 0.02, "alpha": 2.0, "beta": 0.5}


def test_compute_shapes_and_sanity(default_result):
    r = default_result
    S = r["times"].shape[0]
    assert r["times"][0] == 0.0 and np.isclose(r["times"][-1], sgd_vs_sde.T_END)
    assert r["sgd_y0"].shape == (100, S) and r["sde_y0"].shape == (100, S)
    for key in ("sgd_y0_T", "sde_y0_T", "sgd_s_T", "sde_s_T"):
        assert r[key].shape == (100,) and np.all(np.isfinite(r[key]))
    # alpha > beta: the class moves along its own vertex; both laws centre on the LE-ODE
    assert r["ode_y0"][-1] > 0.5
    for key in ("sgd_y0_T", "sde_y0_T"):
        assert abs(r[key].mean() - r["ode_y0"][-1]) < 4 * r[key].std() / np.sqrt(100) + 0.02
    assert r["sigma"] > 0


def test_compute_is_deterministic():
    a = sgd_vs_sde.compute(lr=0.05, n_trials=20, seed=3)
    b = sgd_vs_sde.compute(lr=0.05, n_trials=20, seed=3)
    np.testing.assert_array_equal(a["sgd_y0_T"], b["sgd_y0_T"])
    np.testing.assert_array_equal(a["sde_y0_T"], b["sde_y0_T"])


def test_spread_shrinks_with_the_learning_rate():
    big = sgd_vs_sde.compute(lr=0.1, n_trials=200, seed=1)
    small = sgd_vs_sde.compute(lr=0.01, n_trials=200, seed=1)
    for key in ("sgd_y0_T", "sde_y0_T", "sde_s_T"):
        # sd ~ sqrt(lr): a factor sqrt(10) ~ 3.2 expected
        assert small[key].std() < 0.5 * big[key].std()
    assert small["sigma"] < big["sigma"]
    np.testing.assert_allclose(small["sigma"] / big["sigma"], np.sqrt(0.1), rtol=1e-12)


def test_sgd_puts_little_noise_on_the_symmetric_margin(default_result):
    assert default_result["sgd_s_T"].std() < 0.2 * default_result["sde_s_T"].std()


def test_impacts_move_the_class_in_the_expected_direction():
    up = sgd_vs_sde.compute(alpha=3.0, beta=0.5, n_trials=10, seed=0)
    flat = sgd_vs_sde.compute(alpha=1.0, beta=1.0, n_trials=10, seed=0)
    down = sgd_vs_sde.compute(alpha=0.5, beta=3.0, n_trials=10, seed=0)
    assert up["ode_y0"][-1] > 0.5
    assert abs(flat["ode_y0"][-1]) < 1e-12
    assert down["ode_y0"][-1] < -0.5
    # the drift of y0 is (alpha - beta)/K times a positive factor: monotone in alpha and in beta
    assert sgd_vs_sde.compute(alpha=2.5, n_trials=5)["ode_y0"][-1] > sgd_vs_sde.compute(alpha=2.0, n_trials=5)["ode_y0"][-1]
    assert sgd_vs_sde.compute(beta=1.0, n_trials=5)["ode_y0"][-1] < sgd_vs_sde.compute(beta=0.5, n_trials=5)["ode_y0"][-1]


@pytest.mark.parametrize("bad", [dict(lr=0.0), dict(lr=0.5), dict(alpha=-0.1), dict(beta=5.0), dict(alpha=np.nan)])
def test_out_of_range_parameters_raise(explorer, bad):
    with pytest.raises((ValueError, TypeError)):
        explorer.params(**bad)
    with pytest.raises((ValueError, TypeError)):
        sgd_vs_sde.compute(**bad)


def test_vertex_coordinates():
    U = np.eye(3) - 1.0 / 3
    np.testing.assert_allclose(sgd_vs_sde.vertex_coordinates(0.7 * U), [0.7, 0.7, 0.7])
    with pytest.raises(ValueError, match="class_means"):
        sgd_vs_sde.vertex_coordinates(np.zeros((3, 4)))


def test_draw_and_small_multiples(explorer):
    fig = explorer.figure()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 3
    assert fig.axes[0].lines and fig.axes[0].collections          # bands and median lines
    assert fig.axes[1].patches and fig.axes[2].patches            # histograms
    fig = explorer.small_multiples("lr", [0.1, 0.02, 0.004])
    assert len(fig.axes) == 9
    assert all(ax.has_data() for ax in fig.axes)


@pytest.mark.parametrize("alpha, beta", [(2.0, 0.5), (0.5, 3.0), (1.0, 1.0)])
def test_limit_variances_start_at_the_one_step_rates(alpha, beta):
    # Sigma(t) = D t + O(t^2): the variance rates of y0 at the origin (chapter 2, eq. ch02-eq-rate-y0)
    K = sgd_vs_sde.K
    t = 1e-3
    r = sgd_vs_sde.limit_variances(alpha, beta, t_end=t, n_points=2, steps_per_point=4)
    R = (alpha**2 + beta**2 / (K - 1)) / K - (alpha - beta)**2 / K**2
    R_sde = ((alpha**2 + (K - 1) * beta**2) / K - (alpha - beta)**2 / K**2) / (K - 1)
    np.testing.assert_allclose(r["var_y0_sgd"][-1] / t, R, rtol=1e-2)
    np.testing.assert_allclose(r["var_y0_sde"][-1] / t, R_sde, rtol=1e-2)
    np.testing.assert_allclose(r["sigma2_per_lr"], sgd_vs_sde.N_PER_CLASS * R_sde * (K - 1) / K, rtol=1e-12)
    assert r["var_y0_sgd"][0] == 0.0 and r["var_y0_sde"][0] == 0.0


def test_limit_variances_path_and_symmetric_margin():
    r = sgd_vs_sde.limit_variances(2.0, 0.5)
    ode = sgd_vs_sde.compute(n_trials=2)
    np.testing.assert_allclose(r["times"], ode["times"])
    # RK4 with 2 steps per saved point against the closed-form margin law: RK4's O(h^4) error
    assert np.abs(r["ode_y0"] - ode["ode_y0"]).max() < 1e-8
    assert np.abs(r["ode_y0"] - r["ode_s"]).max() < 1e-12          # the path from the origin is symmetric
    assert np.abs(r["var_s_sgd"]).max() < 1e-12                    # no first-order SGD noise on s
    assert np.all(np.diff(r["var_s_sde"]) > 0)
    # a finer step changes nothing visible
    fine = sgd_vs_sde.limit_variances(2.0, 0.5, steps_per_point=20)
    np.testing.assert_allclose(fine["var_y0_sgd"], r["var_y0_sgd"], rtol=1e-5, atol=1e-12)


def test_measured_spreads_match_the_limit():
    r = sgd_vs_sde.compute(lr=0.01, alpha=0.5, beta=3.0, n_trials=400, seed=2)
    # beta > alpha: the LE-SDE spreads y0 much more than feature-SGD, as the limit predicts
    assert r["limit_sd_y0_sde"] > 2 * r["limit_sd_y0_sgd"]
    for measured, limit in [("sgd_y0_T", "limit_sd_y0_sgd"), ("sde_y0_T", "limit_sd_y0_sde"),
                            ("sde_s_T", "limit_sd_s_sde")]:
        assert abs(r[measured].std() / r[limit] - 1) < 0.15
    assert np.abs(r["sgd_times"] - r["times"]).max() <= 0.01 / 2 + 1e-12


@pytest.mark.parametrize("bad", [dict(alpha=-1.0), dict(beta=np.nan), dict(t_end=0.0), dict(n_points=1)])
def test_limit_variances_rejects_bad_input(bad):
    with pytest.raises((ValueError, TypeError)):
        sgd_vs_sde.limit_variances(**bad)


def test_the_ode_path_is_what_an_euler_le_ode_run_converges_to():
    """compute() uses the closed-form margin law; an Euler LE-ODE from the origin approaches it at order 1."""
    from lecode import LEModel, simulate

    r = sgd_vs_sde.compute(alpha=0.5, beta=3.0, n_trials=2)
    model = LEModel(sgd_vs_sde.K, sgd_vs_sde.N_PER_CLASS, alpha=0.5, beta=3.0, gradient="ce")
    errors = []
    for dt in (0.004, 0.001):
        ode = simulate(model, sgd_vs_sde.T_END, dt=dt, method="ode", x0=np.zeros((3, 1, 3)),
                       n_saves=sgd_vs_sde.N_SAVES)
        y = sgd_vs_sde.vertex_coordinates(ode.class_means())[0]
        np.testing.assert_allclose(ode.times, r["times"])
        errors.append(np.abs(y - r["ode_y0"][:, None]).max())
    assert errors[1] < 1e-3
    assert 3.5 < errors[0] / errors[1] < 4.5        # a 4x smaller step, a 4x smaller error: order 1


def test_histogram_ticks_stay_inside_their_panel():
    ax = matplotlib.figure.Figure().add_subplot()
    sgd_vs_sde.style(ax, 1)
    locator = ax.xaxis.get_major_locator()
    for low, high in [(0.5, 1.2), (0.59, 1.21), (-0.01, 0.3), (2.0, 2.0001)]:
        ticks = locator.tick_values(low, high)
        pad = 0.06 * (high - low)
        assert len(ticks) >= 1 and np.all((ticks >= low + pad) & (ticks <= high - pad)), (low, high, ticks)


def test_moving_the_learning_rate_keeps_the_layout():
    """A swing of the learning rate from the default down five slider steps (as the front-end
    benchmark presses) needs no second layout; with ticks on the histograms' edges it needed three."""
    from lecode.widgets import LiveFigure

    live = LiveFigure(sgd_vs_sde.make_explorer())
    live.update()
    for offset in range(1, 6):
        live.update(lr=float(10 ** (np.log10(0.02) - 0.1 * offset)))
    assert live.relayouts == 0 and live.fits()
