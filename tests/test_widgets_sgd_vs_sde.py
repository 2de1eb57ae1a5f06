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
