"""Headless tests of the chapter-6 explorer (lecode/widgets/imitation.py)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from lecode import NonFiniteError, imitation
from lecode.widgets import imitation as W

WIDGET = W   # the explorer module under test (fixtures: tests/conftest.py)


def test_default_result_is_sane(explorer, default_result):
    r = default_result
    R = W.load_record("GeoMNIST (K=3)")
    S = len(R.steps) - R.index(100)
    assert r["K"] == 3 and r["steps"][0] == 100 and r["steps"][-1] == 10_000
    assert r["y_net"].shape == r["y_ode"].shape == (S, 3)
    assert r["err_full"].shape == r["err_y"].shape == (S,) and r["message"] == ""
    assert np.all(np.isfinite(r["err_full"])) and r["err_full"][0] == pytest.approx(0.0)
    # the projected fit reproduces the mean margin exactly at the records (up to RK4 error)
    assert np.allclose(r["y_ode"].mean(axis=1), r["y_net"].mean(axis=1), rtol=1e-3)
    assert r["gap_pred"] is not None and r["gap_pred"].shape == (S,)


def test_compute_is_deterministic(explorer):
    a = explorer.compute(**explorer.params(source="NTK (measured)"))
    b = explorer.compute(**explorer.params(source="NTK (measured)"))
    assert np.array_equal(a["y_ode"], b["y_ode"])


def test_explorer_step_bound_is_accurate():
    R = W.load_record("GeoMNIST (K=3)")
    i0 = R.index(100)
    X = R.class_means[:, i0:].mean(axis=0)
    a, b = R.alpha.mean(axis=0), R.beta.mean(axis=0)
    coarse = imitation.imitate(R.times[i0:], X, source="ntk", impact_times=R.impact_times,
                               alpha=a, beta=b, max_step=W.MAX_STEP)
    fine = imitation.imitate(R.times[i0:], X, source="ntk", impact_times=R.impact_times,
                             alpha=a, beta=b, max_step=0.02)
    assert np.max(np.abs(coarse.solution - fine.solution)) < 1e-3


def test_each_control_changes_the_result(explorer, default_result):
    base = default_result
    ntk = explorer.compute(**explorer.params(source="NTK (measured)"))
    assert ntk["gap_pred"] is None and len(ntk["impact_steps"]) < 15
    assert not np.allclose(ntk["y_ode"], base["y_ode"])
    ident = explorer.compute(**explorer.params(source="identity fit"))
    # the identity variant cannot follow the margins as well as the projected one (chapter 6)
    assert ident["err_y"][-1] > base["err_y"][-1]
    one = explorer.compute(**explorer.params(trial="3"))
    assert not np.allclose(one["y_net"], base["y_net"])
    later = explorer.compute(**explorer.params(start=1000))
    assert later["steps"][0] == 1000 and len(later["steps"]) < len(base["steps"])
    short = explorer.compute(**explorer.params(end=0.5))
    assert short["steps"][-1] == 5000
    assert np.allclose(short["y_ode"], base["y_ode"][:len(short["steps"])])   # a prefix
    d5 = explorer.compute(**explorer.params(dataset="digits (K=5)"))
    assert d5["K"] == 5 and d5["y_net"].shape[1] == 5 and d5["steps"][-1] == 5000


def test_ill_posed_fit_is_flagged_not_plotted_as_nan(explorer):
    # K = 2, single trial: the contrast of the two margins passes through zero in some trials;
    # the estimators refuse such a window (lecode.exact) and the explorer flags it
    flagged = []
    for trial in W.TRIALS[1:]:
        r = explorer.compute(**explorer.params(dataset="digits (K=2)", trial=trial))
        if r["message"]:
            assert r["ill_posed"] and r["y_ode"] is None and np.all(np.isnan(r["err_full"]))
            assert "projected contrast z changes sign" in r["message"]
            flagged.append(trial)
        else:
            assert not r["ill_posed"] and np.all(np.isfinite(r["y_ode"]))
    assert "2" in flagged and len(flagged) < len(W.TRIALS) - 1
    fig = explorer.figure(dataset="digits (K=2)", trial="2")
    ax_e = fig.axes[1]
    assert "ill-posed" in ax_e.get_title() and not ax_e.lines
    assert any(t.get_text().startswith("ill-posed fit:") for t in ax_e.texts)
    # the trial mean keeps its sign and is imitated
    assert explorer.compute(**explorer.params(dataset="digits (K=2)"))["message"] == ""


def test_ode_failure_is_not_called_an_ill_posed_fit(explorer, monkeypatch):
    def overflow(*args, **kwargs):
        raise NonFiniteError("the LE-ODE solution left the float range at t = 1; shorten it")
    monkeypatch.setattr(W._im, "imitate", overflow)
    r = W.compute(**explorer.defaults)
    assert r["message"].startswith("the LE-ODE solution left") and not r["ill_posed"]


def test_large_error_is_capped_and_flagged(explorer, default_result):
    import matplotlib.pyplot as plt

    r = dict(default_result, err_full=default_result["err_full"] * 1e3)
    fig, axes = plt.subplots(1, 3)
    W.draw(r, axes, explorer.params())
    assert axes[1].get_ylim()[1] <= W.ERROR_CAP and "ill-posed" in axes[1].get_title()
    plt.close(fig)


@pytest.mark.parametrize("bad", [dict(dataset="CIFAR"), dict(source="mse"), dict(trial="11"),
                                 dict(start=50), dict(end=0.1), dict(end=1.5)])
def test_out_of_range_params_raise(explorer, bad):
    with pytest.raises(ValueError):
        explorer.params(**bad)
    with pytest.raises(ValueError):
        W.compute(**{**explorer.defaults, **bad})


def test_draw_produces_artists(explorer, default_result):
    fig = explorer.figure()
    ax_y, ax_e, ax_i = fig.axes
    assert len(ax_y.lines) == 6 and len(ax_e.lines) == 2 and len(ax_i.lines) >= 4
    assert ax_y.get_xlabel() and ax_e.get_ylabel() and ax_i.get_xscale() == "log"


def test_small_multiples(explorer):
    fig = explorer.small_multiples("dataset", ["GeoMNIST (K=3)", "digits (K=4)"])
    assert len(fig.axes) == 6
