"""Headless tests of the chapter-3 explorer (lecode/widgets/linear_modes.py)."""

import matplotlib
import numpy as np
import pytest

from lecode import exact
from lecode.widgets import Explorer, linear_modes

WIDGET = linear_modes   # the explorer module under test (fixtures: tests/conftest.py)


def test_make_explorer_controls(explorer):
    assert isinstance(explorer, Explorer)
    assert [c.name for c in explorer.controls] == ["alpha", "beta", "K", "variant", "schedule"]


@pytest.mark.parametrize("variant", ["identity", "projected"])
@pytest.mark.parametrize("schedule", ["constant", "decaying", "oscillating"])
def test_simulated_modes_follow_the_closed_form(variant, schedule):
    r = linear_modes.compute(alpha=1.5, beta=0.5, K=3, variant=variant, schedule=schedule)
    scale = max(1.0, np.abs(r["exact_mode1"]).max(), np.abs(r["exact_mode2"]).max())
    assert np.abs(r["log_mode1"] - r["exact_mode1"]).max() < 0.01 * scale
    assert np.abs(r["log_mode2"] - r["exact_mode2"]).max() < 0.01 * scale
    # the impacts are recovered from the noisy class means
    assert np.mean(np.abs(r["alpha_hat"] - r["alpha_t"])) < 0.2
    assert np.mean(np.abs(r["beta_hat"] - r["beta_t"])) < 0.2


def test_closed_form_exponents():
    r = linear_modes.compute(alpha=2.0, beta=0.5, K=4, variant="identity")
    t = r["times"]
    np.testing.assert_allclose(r["exact_mode1"], (2.0 + 3 * 0.5) * t / 4)
    np.testing.assert_allclose(r["exact_mode2"], (2.0 - 0.5) * t / 4)
    r = linear_modes.compute(alpha=2.0, beta=0.5, K=4, variant="projected")
    np.testing.assert_allclose(r["exact_mode1"], (2.0 - 0.5) * t / 4)
    np.testing.assert_allclose(r["exact_mode2"], (2.0 + 0.5 / 3) * t / 4)


def test_controls_move_the_modes_in_the_expected_direction():
    base = linear_modes.compute()
    more_beta = linear_modes.compute(beta=1.5)
    more_alpha = linear_modes.compute(alpha=2.5)
    # identity: the global mean grows faster with beta, the offsets slower
    assert more_beta["log_mode1"][-1] > base["log_mode1"][-1]
    assert more_beta["log_mode2"][-1] < base["log_mode2"][-1]
    assert more_alpha["log_mode2"][-1] > base["log_mode2"][-1]
    # beta > alpha: the offsets shrink
    assert linear_modes.compute(alpha=0.5, beta=2.0)["log_mode2"][-1] < 0
    # more classes: the offsets' rate (alpha - beta)/K falls
    assert linear_modes.compute(K=6)["exact_mode2"][-1] < base["exact_mode2"][-1]


def test_compute_is_deterministic():
    a = linear_modes.compute(variant="projected", seed=2)
    b = linear_modes.compute(variant="projected", seed=2)
    np.testing.assert_array_equal(a["alpha_hat"], b["alpha_hat"])


@pytest.mark.parametrize("bad", [dict(alpha=-1.0), dict(beta=3.5), dict(K=1), dict(K=9),
                                 dict(variant="ce"), dict(schedule="linear")])
def test_out_of_range_parameters_raise(explorer, bad):
    with pytest.raises((ValueError, TypeError)):
        explorer.params(**bad)
    with pytest.raises((ValueError, TypeError)):
        linear_modes.compute(**bad)


def test_mode_amplitudes_match_exact_coordinates():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 3, 3))
    g, o = linear_modes.mode_amplitudes(M, "identity")
    np.testing.assert_allclose(g, np.linalg.norm(M.mean(axis=1), axis=-1))
    e, c = linear_modes.mode_amplitudes(M, "projected")
    y = exact.projected_coordinates(M)
    np.testing.assert_allclose(e, np.abs(y.mean(axis=-1)))
    np.testing.assert_allclose(c, np.linalg.norm(y - y.mean(axis=-1, keepdims=True), axis=-1))


def test_schedules():
    a, b = linear_modes.schedules(1.0, 2.0, "decaying")
    assert a(1.0) == 0.5 and b(3.0) == 0.5
    assert linear_modes.schedules(1.0, 2.0, "constant") == (1.0, 2.0)


def test_draw_and_small_multiples(explorer):
    fig = explorer.figure(variant="projected")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 4
    fig = explorer.small_multiples("beta", [0.2, 1.0, 2.0], alpha=1.5)
    assert len(fig.axes) == 6
    assert all(ax.has_data() for ax in fig.axes)
    # each row of the static figure names the value of the varied control
    for ax, beta in zip(fig.axes[::2], ["0.2", "1", "2"]):
        assert f"β = {beta} " in ax.get_title() and "α = 1.5" in ax.get_title()


def test_a_mode_crossing_zero_is_reported_not_plotted():
    """alpha << beta in the projected variant: the noisy equal-y mode can cross zero."""
    explorer = linear_modes.make_explorer()
    failing = None
    for alpha in (0.1, 0.2, 0.3):
        for schedule in ("constant", "oscillating"):
            params = explorer.params(alpha=alpha, beta=3.0, K=3, variant="projected", schedule=schedule)
            result = explorer.compute(**params)
            if result["ill_posed"]:
                failing = (params, result)
                break
        if failing:
            break
    assert failing is not None, "expected at least one ill-posed setting in this corner"
    params, result = failing
    assert "class_means" in result["ill_posed"]
    assert np.all(np.isnan(result["alpha_hat"]))
    fig = explorer.figure(**params)          # draws a message instead of NaN curves
    assert any("no estimate" in text.get_text() for text in fig.axes[1].texts)
    assert explorer.compute(**explorer.params())["ill_posed"] == ""
