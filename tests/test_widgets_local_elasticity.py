"""Headless tests of the chapter-1 explorer (lecode/widgets/local_elasticity.py)."""

import matplotlib
import numpy as np
import pytest

from lecode import nets
from lecode.widgets import local_elasticity as le

WIDGET = le   # the explorer module under test (fixtures: tests/conftest.py)


def test_dataset_is_seeded_balanced_and_read_only():
    X, y, X_val, y_val, sub = le.dataset()
    assert X.shape == (900, 1024) and X_val.shape == (300, 1024)
    assert np.bincount(y).tolist() == [300, 300, 300]
    assert np.bincount(y[sub]).tolist() == [30, 30, 30]
    assert np.all(np.diff(y[sub]) >= 0)                      # sorted by class
    assert le.dataset() is le.dataset()                       # cached
    with pytest.raises(ValueError):
        X[0, 0] = 1.0


def test_training_run_matches_direct_measurement():
    run = le.training_run(64, "relu")
    assert run is le.training_run(64, "relu")
    assert run.impacts.shape == (len(le.CHECKPOINTS), 90, 90)
    np.testing.assert_allclose(run.impacts, np.swapaxes(run.impacts, 1, 2), rtol=1e-12)
    net = run.network(6000)
    alpha, beta, _ = nets.class_impacts(net, run.X[run.sub], run.y[run.sub])
    assert alpha == pytest.approx(run.alpha[-1], rel=1e-12)
    assert beta == pytest.approx(run.beta[-1], rel=1e-12)
    assert run.train_loss[-1] < 0.5 * run.train_loss[0]
    assert run.val_acc[-1] > 0.8
    np.testing.assert_allclose(run.times, 0.005 * np.array(le.CHECKPOINTS))


def test_compute_is_sane(explorer):
    res = explorer.compute(**explorer.defaults)
    E = res["E"]
    assert E.shape == (60, 60)
    np.testing.assert_allclose(E, E.T, rtol=1e-12)
    assert np.all(np.isfinite(E)) and res["alpha"] > 0 and res["beta"] > 0
    assert res["ratio"] == pytest.approx(res["alpha"] / res["beta"])
    assert len(res["same"]) == 2 * 30 * 29 and len(res["cross"]) == 2 * 30 * 30
    assert res["step"] == le.CHECKPOINTS[-1]
    assert len(res["ratios"]) == len(le.CHECKPOINTS)


def test_compute_responds_to_each_control(explorer):
    p = explorer.params
    c = explorer.compute
    # training makes the ReLU network locally elastic for ellipse vs triangle
    assert c(**p(step=6000))["ratio"] > c(**p(step=0))["ratio"] + 0.05
    # a linear network hardly changes its impact ratio, and ends below the ReLU network
    lin = c(**p(activation="linear"))
    assert lin["ratio"] < c(**p())["ratio"] - 0.05
    assert abs(lin["ratios"][-1] - lin["ratios"][0]) < 0.02
    # ellipse vs rectangle (similar elongated shapes) is the least locally elastic pair
    assert c(**p(pair="0-1"))["ratio"] < c(**p(pair="0-2"))["ratio"]
    assert c(**p(pair="0-1"))["pair"] == (0, 1)
    # another width is another network
    narrow = c(**p(width=16))
    assert not np.allclose(narrow["E"], c(**p())["E"])
    # a step between checkpoints reads the nearest checkpoint
    assert c(**p(step=740))["step"] == 500 and c(**p(step=760))["step"] == 1000


def test_out_of_range_params_raise(explorer):
    with pytest.raises(ValueError, match="step must be an integer <= 6000"):
        explorer.params(step=7000)
    with pytest.raises(ValueError, match="width must be one of"):
        explorer.params(width=32)
    with pytest.raises(ValueError, match="activation must be one of"):
        explorer.params(activation="sigmoid")
    with pytest.raises(ValueError, match="pair must be one of"):
        explorer.params(pair="0-3")
    with pytest.raises(ValueError, match="width must be one of"):
        le.training_run(width=32)
    with pytest.raises(ValueError, match="pair must be one of"):
        le.pair_impacts(le.training_run(), "2-0", 0)


def test_draw_and_small_multiples(explorer):
    fig = explorer.figure(step=1500)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_heat, ax_hist, ax_ratio = fig.axes
    assert len(ax_heat.images) == 1
    assert ax_heat.images[0].get_array().shape == (60, 60)
    assert len(ax_hist.patches) == 2                       # two filled histograms
    assert len(ax_ratio.lines) >= 3
    np.testing.assert_allclose(ax_ratio.lines[0].get_ydata(), explorer.compute(
        **explorer.params(step=1500))["ratios"])
    fig = explorer.small_multiples("step", [0, 1500, 6000])
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 9
