"""Headless tests of the chapter-8 explorer (lecode/widgets/connections.py)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from lecode import LEModel
from lecode.widgets import connections

WIDGET = connections   # the explorer module under test (fixtures: tests/conftest.py)


@pytest.fixture(scope="module")
def default_result(explorer):
    return explorer.compute(**explorer.defaults)


def test_default_result_is_sane(default_result):
    r = default_result
    assert r["dt"].shape == r["error"].shape == (4,)
    assert np.all(np.diff(r["dt"]) < 0)                       # steps decrease
    assert np.all(r["error"] > 0) and np.all(np.isfinite(r["error"]))
    assert np.all(np.diff(r["error"]) < 0)                    # error decreases with the step
    assert 0.8 < r["order"] < 1.3 and 0.8 < r["order_fine"] < 1.3  # additive noise: strong order 1


def test_compute_is_deterministic(explorer):
    a = explorer.compute(**explorer.defaults)
    b = explorer.compute(**explorer.defaults)
    np.testing.assert_array_equal(a["error"], b["error"])


def test_multiplicative_noise_lowers_the_order(explorer, default_result):
    r = explorer.compute(**explorer.params(noise="multiplicative"))
    assert 0.3 < r["order"] < 0.75
    assert r["order"] < default_result["order"] - 0.3


def test_more_noise_more_error_for_multiplicative(explorer):
    lo = explorer.compute(**explorer.params(noise="multiplicative", sigma=0.3))
    hi = explorer.compute(**explorer.params(noise="multiplicative", sigma=1.0))
    assert np.all(hi["error"] > lo["error"])


def test_stiffer_drift_more_error(explorer):
    soft = explorer.compute(**explorer.params(alpha=1.0, beta=0.5))
    stiff = explorer.compute(**explorer.params(alpha=8.0, beta=0.5))
    assert stiff["error"][0] > soft["error"][0]


def test_longer_horizon_larger_steps(explorer):
    short = explorer.compute(**explorer.params(t_end=0.5))
    long = explorer.compute(**explorer.params(t_end=2.0))
    np.testing.assert_allclose(long["dt"], 4 * short["dt"])


def test_more_paths_smaller_standard_error(explorer):
    few = explorer.compute(**explorer.params(n_paths=50))
    many = explorer.compute(**explorer.params(n_paths=400))
    assert np.all(many["stderr"] < few["stderr"])


@pytest.mark.parametrize("name, value", [("sigma", 0.0), ("sigma", 1.2), ("alpha", -1.0),
                                         ("beta", 9.0), ("t_end", 0.1), ("t_end", 3.0), ("n_paths", 10),
                                         ("noise", "colored")])
def test_out_of_range_raises(explorer, name, value):
    with pytest.raises((ValueError, TypeError)):
        explorer.params(**{name: value})


def test_draw_produces_artists(explorer, default_result):
    fig, axes = explorer._new_figure(1)
    explorer.draw(default_result, axes[0], explorer.defaults)
    assert len(axes[0][0].lines) >= 3 and len(axes[0][1].lines) >= 2
    assert axes[0][0].get_xscale() == "log"


def test_small_multiples(explorer):
    fig = explorer.small_multiples("noise", ["additive", "multiplicative"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4


def test_strong_errors_validates_input():
    model = LEModel(3, 2, alpha=2.0, beta=1.0, sigma=0.5)
    with pytest.raises(ValueError):
        connections.strong_errors(model, 1.0, levels=(2,), fine_level=6)
    with pytest.raises(ValueError):
        connections.strong_errors(model, 1.0, levels=(2, 6), fine_level=6)
    with pytest.raises(ValueError):
        connections.strong_errors(model, -1.0)
    with pytest.raises(ValueError):
        connections.strong_errors(model, 1.0, noise="pink")
    with pytest.raises(ValueError):
        connections.strong_errors(model, 1.0, x0=np.zeros((3, 3, 3)))


def test_strong_errors_zero_noise_is_euler():
    """With sigma = 0 the experiment is Euler's method: order 1 and no randomness."""
    model = LEModel(3, 1, alpha=2.0, beta=0.5, sigma=0.0)
    a = connections.strong_errors(model, 1.0, levels=(2, 3, 4), fine_level=8, n_paths=2, seed=1)
    assert abs(a["order"] - 1) < 0.15
    assert np.all(a["stderr"] < 1e-12)


def test_zero_drift_additive_noise_is_exact(explorer):
    """alpha = beta = 0: no drift, EM reproduces Brownian motion exactly; the draw says so."""
    params = explorer.params(alpha=0.0, beta=0.0)
    r = explorer.compute(**params)
    assert r["exact"] and np.isnan(r["order"]) and np.all(r["error"] < 1e-12)
    fig, axes = explorer._new_figure(1)
    explorer.draw(r, axes[0], params)
    assert axes[0][0].texts and len(axes[0][1].lines) >= 2


def test_order_fine_uses_smallest_steps(default_result):
    r = default_result
    expected = np.polyfit(np.log(r["dt"][-3:]), np.log(r["error"][-3:]), 1)[0]
    assert r["order_fine"] == pytest.approx(expected)


# -- the lazy-training explorer (section 8.1) --------------------------------

@pytest.fixture(scope="module")
def lazy():
    return connections.make_lazy_explorer()


def test_lazy_default_is_sane(lazy):
    r = lazy.compute(**lazy.defaults)
    assert 0 < r["dtheta"] <= r["bound"]                      # proposition ch08-prop-lazy
    assert r["dtheta"] <= r["dtheta_unit"] <= r["bound"]       # ... for every hidden unit too
    assert 0 < r["dkernel"] < 1 and 0 < r["loss"] < 0.2
    assert r["ab"].shape == (len(r["times"]), 2) and r["times"][-1] == pytest.approx(100.0)
    assert np.all(r["ab"] > 0) and r["ab"][0, 0] > r["ab"][0, 1]   # local elasticity at init


def test_lazy_wider_moves_less(lazy):
    narrow = lazy.compute(**lazy.params(width=32))
    wide = lazy.compute(**lazy.params(width=1024))
    assert wide["dtheta"] < narrow["dtheta"] / 3                   # ~ m^(-1/2): factor sqrt(32)
    assert wide["dkernel"] < narrow["dkernel"] / 3


def test_lazy_longer_training_moves_more(lazy):
    short = lazy.compute(**lazy.params(width=64, train_time=20.0))
    long = lazy.compute(**lazy.params(width=64, train_time=200.0))
    assert long["dtheta"] > short["dtheta"] and long["loss"] < short["loss"]


def test_lazy_depends_on_eta_times_steps(lazy):
    a = lazy.compute(**lazy.params(width=64, eta=0.5))
    b = lazy.compute(**lazy.params(width=64, eta=1.0))
    assert a["dtheta"] == pytest.approx(b["dtheta"], rel=0.05)


def test_lazy_spread_weakens_local_elasticity(lazy):
    tight = lazy.compute(**lazy.params(width=64, spread=0.1))["ab"][0]
    loose = lazy.compute(**lazy.params(width=64, spread=1.5))["ab"][0]
    assert tight[0] - tight[1] > loose[0] - loose[1]


@pytest.mark.parametrize("name, value", [("width", 8), ("width", 10000), ("train_time", 0.0),
                                         ("eta", 3.0), ("spread", 0.0)])
def test_lazy_out_of_range_raises(lazy, name, value):
    with pytest.raises((ValueError, TypeError)):
        lazy.params(**{name: value})


def test_lazy_draw_and_small_multiples(lazy):
    params = lazy.params(width=32)
    fig, axes = lazy._new_figure(1)
    lazy.draw(lazy.compute(**params), axes[0], params)
    assert len(axes[0][0].lines) >= 2 and len(axes[0][1].images) == 1
    fig = lazy.small_multiples("width", [16, 64])
    assert isinstance(fig, Figure) and len(fig.axes) == 4
