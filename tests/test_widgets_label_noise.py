"""Headless tests of the chapter-7 explorer (lecode/widgets/label_noise.py)."""

import numpy as np
import pytest

from lecode.widgets import label_noise

WIDGET = label_noise   # the explorer module under test (fixtures: tests/conftest.py)


def test_default_result_shapes_and_values(explorer, default_result):
    r = default_result
    p = explorer.params()
    K = p["K"]
    n = label_noise.n_per_class(K)
    S = label_noise.N_SAVES
    for key in ("times", "margin_ode", "margin_clean", "margin_sde"):
        assert r[key].shape == (S,) and np.all(np.isfinite(r[key]))
    assert r["times"][0] == 0 and r["times"][-1] == pytest.approx(label_noise.T_END)
    assert r["points"].shape == (K, n, 2) and r["means"].shape == (S, K, 2)
    assert r["labels"].shape == (K, n)
    assert np.mean(r["labels"] != np.arange(K)[:, None]) == pytest.approx(p["p"])
    assert r["factor"] == pytest.approx(1 - p["p"] * K / (K - 1))
    assert r["s_star"] == pytest.approx(np.log((K - 1) * (1 - p["p"]) / p["p"]))
    assert 0 <= r["acc_true"] <= 1 and 0 <= r["acc_observed"] <= 1 and r["loss_observed"] > 0


def test_compute_is_deterministic(explorer):
    a = explorer.compute(**explorer.params())
    b = explorer.compute(**explorer.params())
    assert np.array_equal(a["points"], b["points"]) and np.array_equal(a["margin_sde"], b["margin_sde"])


def test_margin_falls_with_p_and_reverses_beyond_critical(explorer):
    finals = [explorer.compute(**explorer.params(p=p))["margin_ode"][-1] for p in (0.0, 0.2, 0.4, 0.6, 0.8)]
    assert np.all(np.diff(finals) < 0)
    assert finals[3] > 0 > finals[4]           # K = 3: critical p = 2/3


def test_critical_p_depends_on_K(explorer):
    # p = 0.7 is beyond 2/3 (K = 3) but below 3/4 (K = 4)
    r3 = explorer.compute(**explorer.params(p=0.7, K=3))
    r4 = explorer.compute(**explorer.params(p=0.7, K=4))
    assert r3["margin_ode"][-1] < 0 < r4["margin_ode"][-1]
    assert r3["factor"] < 0 < r4["factor"]


def test_initial_slope_follows_the_factor(explorer):
    base = explorer.compute(**explorer.params(p=0.0))
    for p in (0.2, 0.5):
        r = explorer.compute(**explorer.params(p=p))
        ratio = r["margin_ode"][1] / base["margin_ode"][1]
        assert ratio == pytest.approx(1 - 1.5 * p, abs=0.03)


def test_ode_margin_approaches_the_fixed_point_from_below(explorer):
    r = explorer.compute(**explorer.params(p=0.5, alpha=3.0, beta=0.0))
    assert 0 < r["margin_ode"][-1] < r["s_star"]
    assert r["margin_ode"][-1] == pytest.approx(r["s_star"], abs=0.02)


def test_impact_gap_speeds_up_the_margin(explorer):
    slow = explorer.compute(**explorer.params(alpha=0.8, beta=0.4))["margin_ode"][10]
    fast = explorer.compute(**explorer.params(alpha=2.0, beta=0.4))["margin_ode"][10]
    assert fast > slow > 0


def test_beta_above_alpha_reverses(explorer):
    r = explorer.compute(**explorer.params(alpha=0.5, beta=1.5, p=0.2))
    assert r["margin_ode"][-1] < 0 and np.all(np.isnan(r["fixed"]))


def test_network_panel_uses_nearest_stored_p(explorer):
    r = explorer.compute(**explorer.params(p=0.35))
    net = r["network"]
    if net is None:
        pytest.skip("stored label_noise results not present")
    assert net["p"] in (0.3, 0.4)
    assert net["margin"].ndim == 2 and net["margin"].shape[1] == net["t"].shape[0]
    r0 = explorer.compute(**explorer.params(p=0.0))["network"]
    r8 = explorer.compute(**explorer.params(p=0.8))["network"]
    assert r0["val_acc"] > 0.95 > 0.1 > r8["val_acc"]


@pytest.mark.parametrize("changes", [dict(p=-0.1), dict(p=0.95), dict(K=1), dict(K=7),
                                     dict(alpha=0.1), dict(beta=3.5), dict(sigma=0.1)])
def test_out_of_range_controls_raise(explorer, changes):
    with pytest.raises((ValueError, TypeError)):
        explorer.params(**changes)


def test_compute_validates_directly():
    with pytest.raises(ValueError):
        label_noise.compute(p=0.95, K=3, alpha=1.0, beta=0.4)
    with pytest.raises(ValueError):
        label_noise.compute(p=0.3, K=1, alpha=1.0, beta=0.4)


def test_closed_forms():
    p = np.array([0.1, 0.5, 2 / 3, 0.8])
    s = label_noise.fixed_point(p, 3)
    assert s[2] == pytest.approx(0.0, abs=1e-12) and s[0] > 0 > s[3]
    # at s* the softmax on the own class is 1 - p
    q = np.exp(s) / (np.exp(s) + 2)
    assert np.allclose(q, 1 - p)
    H = label_noise.loss_floor(np.array([0.0, 2 / 3]), 3)
    assert H[0] == 0 and H[1] == pytest.approx(np.log(3))
    with pytest.raises(ValueError):
        label_noise.fixed_point(1.0, 3)


def test_small_multiples_and_draw(explorer):
    import matplotlib

    matplotlib.use("Agg")
    fig = explorer.small_multiples("p", [0.0, 0.4, 0.8])
    assert len(fig.axes) == 9
    assert all(ax.has_data() for ax in fig.axes)
    fig = explorer.figure(K=4, p=0.5)
    assert len(fig.axes) == 3 and len(fig.axes[0].collections) >= 4
