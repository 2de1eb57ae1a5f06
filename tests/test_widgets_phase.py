"""Headless tests of the chapter-4 explorer (lecode/widgets/phase.py)."""

import matplotlib
import numpy as np
import pytest

from lecode import exact
from lecode.widgets import phase

WIDGET = phase   # the explorer module under test (fixtures: tests/conftest.py)


def test_default_result_shapes_and_values(explorer, default_result):
    r = default_result
    p = explorer.params()
    K, n = p["K"], p["n"]
    S = phase.N_SAVES
    assert r["times"].shape == r["loss"].shape == r["loss_ode"].shape == (S,)
    assert r["times"][0] == 0 and r["times"][-1] == pytest.approx(p["t"])
    assert r["points"].shape == (K, n, 2) and r["vertices"].shape == (K, 2)
    assert np.all(np.isfinite(r["loss"])) and np.all(np.isfinite(r["points"]))
    # all features start at the origin: the loss starts at log K
    assert r["loss"][0] == pytest.approx(np.log(K)) and r["loss_ode"][0] == pytest.approx(np.log(K))
    assert r["loss_ode"] == pytest.approx(exact.ce_symmetric_loss(r["times"], alpha=p["alpha"],
                                                                  beta=p["beta"], n_classes=K))
    assert isinstance(r["separable"], bool) and 0.0 <= r["accuracy"] <= 1.0


def test_compute_is_deterministic(explorer):
    a = explorer.compute(**explorer.params())
    b = explorer.compute(**explorer.params())
    assert np.array_equal(a["points"], b["points"]) and np.array_equal(a["loss"], b["loss"])


def test_beta_below_alpha_separates_and_loss_falls(explorer, default_result):
    r = default_result          # alpha = 1 > beta = 0.5, sigma = 0.1
    assert r["separable"] and r["accuracy"] == 1.0
    assert r["loss_final"] < np.log(3) and r["loss"][-1] < r["loss"][len(r["loss"]) // 2]


def test_beta_above_alpha_is_separable_but_misclassified(explorer):
    r = explorer.compute(**explorer.params(beta=1.5))
    assert r["separable"] and r["accuracy"] == 0.0
    assert r["loss_final"] > np.log(3) and np.all(np.diff(r["loss_ode"]) > 0)


def test_beta_equal_alpha_does_not_move(explorer):
    r = explorer.compute(**explorer.params(beta=1.0))
    assert np.allclose(r["loss_ode"], np.log(3)) and np.allclose(r["vertices"], 0)
    assert not r["separable"]


def test_loss_responds_to_beta_monotonically(explorer):
    finals = [explorer.compute(**explorer.params(beta=b))["loss_final"] for b in (0.2, 0.6, 1.0, 1.4)]
    assert np.all(np.diff(finals) > 0)


def test_loss_responds_to_alpha_monotonically(explorer):
    finals = [explorer.compute(**explorer.params(alpha=a))["loss_final"] for a in (0.2, 0.6, 1.2, 2.0)]
    assert np.all(np.diff(finals) < 0)


def test_more_samples_more_points_same_law(explorer):
    few, many = (explorer.compute(**explorer.params(n=m)) for m in (5, 80))
    assert few["points"].shape[1] == 5 and many["points"].shape[1] == 80
    assert np.array_equal(few["loss_ode"], many["loss_ode"])      # the margin law does not see n
    assert abs(few["loss_final"] - many["loss_final"]) < 0.2


def test_longer_time_lowers_the_loss_when_alpha_exceeds_beta(explorer):
    short = explorer.compute(**explorer.params(t=10.0))["loss_final"]
    long_ = explorer.compute(**explorer.params(t=50.0))["loss_final"]
    assert long_ < short


def test_sigma_sets_the_spread(explorer):
    def spread(sigma):
        r = explorer.compute(**explorer.params(sigma=sigma))
        pts = r["points"]
        return float(np.mean(np.std(pts, axis=1)))

    assert spread(0.0) == pytest.approx(0.0, abs=1e-12)
    assert spread(0.05) < spread(0.2) < spread(0.5)


def test_sigma_zero_sits_on_the_margin_law(explorer):
    r = explorer.compute(**explorer.params(sigma=0.0))
    assert np.allclose(r["points"], r["vertices"][:, None, :], atol=1e-2)
    assert r["loss"] == pytest.approx(r["loss_ode"], rel=2e-2)


@pytest.mark.parametrize("K,n", [(2, 5), (4, 12), (6, 3)])
def test_K_and_n_set_the_shapes(explorer, K, n):
    r = explorer.compute(**explorer.params(K=K, n=n))
    assert r["points"].shape == (K, n, 2) and r["vertices"].shape == (K, 2)
    assert r["loss"][0] == pytest.approx(np.log(K))


def test_more_classes_separate_more_slowly(explorer):
    # the separating rate is (alpha - beta)/K: at a fixed time the loss, relative to its
    # starting value log K, has fallen less with K = 6 than with K = 3
    r3 = explorer.compute(**explorer.params(K=3, sigma=0.0))
    r6 = explorer.compute(**explorer.params(K=6, sigma=0.0))
    assert r6["loss_final"] / np.log(6) > r3["loss_final"] / np.log(3)
    assert exact.ce_symmetric_margin(30.0, alpha=1.0, beta=0.5, n_classes=6) < \
        exact.ce_symmetric_margin(30.0, alpha=1.0, beta=0.5, n_classes=3)


@pytest.mark.parametrize("name,value", [("alpha", 2.5), ("beta", -0.1), ("sigma", 0.6), ("K", 7), ("K", 1),
                                        ("n", 1), ("n", 101), ("t", 1.0), ("t", 61.0)])
def test_values_outside_the_controls_raise(explorer, name, value):
    with pytest.raises(ValueError, match=name):
        explorer.params(**{name: value})


def test_wrong_types_raise(explorer):
    with pytest.raises(TypeError):
        explorer.params(K=3.5)


def test_projection_basis():
    for K in range(3, 8):
        P = phase.projection_basis(K)
        assert P.shape == (K, 2)
        assert np.allclose(P.T @ P, np.eye(2))
        assert np.allclose(np.ones(K) @ P, 0)
        U = np.eye(K) - 1.0 / K
        radii = np.linalg.norm(U @ P, axis=1)
        assert np.allclose(radii, radii[0])               # the vertices form a regular polygon
    P2 = phase.projection_basis(2)
    assert np.allclose(P2.T @ P2, np.eye(2))
    with pytest.raises(ValueError):
        phase.projection_basis(1)


def test_figure_draws_artists(explorer):
    fig = explorer.figure()
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_f, ax_l = fig.axes
    assert len(ax_f.collections) >= 4          # K scatter sets + the vertices
    assert len(ax_l.get_lines()) >= 2          # simulated loss and the margin law
    assert ax_f.get_xlabel() and ax_l.get_ylabel()


def test_small_multiples(explorer):
    fig = explorer.small_multiples("beta", [0.5, 1.0, 1.5])
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 3 * 2
    for ax in fig.axes:
        assert ax.has_data()
