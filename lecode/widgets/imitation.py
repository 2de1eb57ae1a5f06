r"""Explorer of chapter 6: the LE-ODE imitating a network's class-mean logits.

The stored training records of :mod:`lecode.experiments` (``geomnist``: an
MLP 1024-128-3 on GeoMNIST, 60 trials; ``digits``: an MLP 64-128-K on
handwritten digits for K = 2, ..., 5, 25 trials) give the class-mean probe
logits :math:`\bar X_k(t)` at model times :math:`t = \eta m` and the NTK
impacts at a few checkpoints.  The explorer starts an LE-ODE from the record
at a chosen SGD step and drives it with impacts from one of three sources
(:func:`lecode.imitation.imitate`):

* ``"projected"`` / ``"identity"`` -- the linear LE-ODE of that variant with
  the impacts fitted to the record itself (interval-average rates, so the two
  fitted modes are reproduced exactly at the records);
* ``"ntk"`` -- the cross-entropy LE-ODE with the measured NTK impacts
  (interpolated linearly between checkpoints).

Panels: the projected coordinates :math:`y_k = u_k\cdot\bar X_k/|u_k|^2`
(each class's margin along its own vertex direction) of the network (solid)
and of the LE-ODE (dashed); the relative error over the window (full centred
logits, and the projected coordinates); the impacts that drove the LE-ODE
(for the fitted sources the smoothed :math:`\hat\alpha, \hat\beta` and
their difference, with the NTK prediction of :math:`\hat\alpha-\hat\beta`
from the conversion of chapter 6,
:math:`K(\alpha-\beta)_{\rm NTK}/(\bar y(e^{\bar y}+K-1))`, see
:func:`lecode.imitation.linear_equivalent_gap`).

Everything is computed from the stored npz files (loaded once per process);
one update solves one small ODE (about 0.1 s).
"""

from __future__ import annotations

import functools
import textwrap

import numpy as np

from .. import exact
from .. import imitation as _im
from .._validate import NonFiniteError
from ..plots import class_colors
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["DATASETS", "SOURCES", "TRIALS", "START_STEPS", "make_explorer", "compute", "draw",
           "load_record"]

#: Data sets of the explorer: label -> (experiment, setting).
DATASETS = {
    "GeoMNIST (K=3)": ("geomnist", None),
    "digits (K=2)": ("digits", 2),
    "digits (K=3)": ("digits", 3),
    "digits (K=4)": ("digits", 4),
    "digits (K=5)": ("digits", 5),
}

#: Impact sources: label -> source of :func:`lecode.imitation.imitate`.
SOURCES = {"projected fit": "projected", "identity fit": "identity", "NTK (measured)": "ntk"}

#: Trial choices: the mean over trials or one of the first ten trials.
TRIALS = ("mean",) + tuple(str(j) for j in range(10))

#: SGD steps at which the imitation may start (record steps of every data set).
START_STEPS = (100, 300, 1000)

#: Errors above this are drawn off the axis and reported as an ill-posed fit.
ERROR_CAP = 1.5

#: Runge-Kutta step bound of the explorer (checked against 0.02 in the tests).
MAX_STEP = 0.25

CONTROLS = (
    Control("dataset", "data set", "GeoMNIST (K=3)", kind="choice", options=tuple(DATASETS)),
    Control("source", "impacts", "projected fit", kind="choice", options=tuple(SOURCES)),
    Control("trial", "trial", "mean", kind="choice", options=TRIALS),
    Control("start", "start at SGD step", 100, kind="choice", options=START_STEPS),
    Control("end", "end (fraction of training)", 1.0, 0.2, 1.0, 0.1),
)


@functools.lru_cache(maxsize=None)
def load_record(dataset: str) -> _im.Record:
    """The stored record of ``dataset`` (a key of :data:`DATASETS`), loaded once per process."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}; got {dataset!r}")
    name, setting = DATASETS[dataset]
    return _im.record(name, setting)


def compute(dataset="GeoMNIST (K=3)", source="projected fit", trial="mean", start=100, end=1.0):
    """Imitate one record (pure; the records are fixed files, no randomness).

    Returns a dict with ``steps`` (S,) of the window, ``y_net``/``y_ode``
    (S, K) projected coordinates, ``err_full``/``err_y`` (S,) relative
    errors, ``impact_steps``/``alpha``/``beta`` of the source, ``gap_pred``
    (the NTK prediction of the fitted gap, fitted sources only), ``K``,
    ``message`` (non-empty if the fit or the LE-ODE broke down) and
    ``ill_posed`` (True if the fit itself broke down: a fitted mode changes
    sign or vanishes in the window, the ``ValueError`` of
    :func:`lecode.exact.estimate_AB_projected` and
    :func:`lecode.exact.estimate_AB_identity`).
    """
    given = dict(dataset=dataset, source=source, trial=trial, start=start, end=end)
    for c in CONTROLS:
        c.validate(given[c.name])
    R = load_record(dataset)
    src = SOURCES[source]
    i0 = R.index(int(start))
    last = int(np.searchsorted(R.steps, end * R.steps[-1], side="right")) - 1
    if last - i0 < 4:
        raise ValueError(f"the window from step {start} to {end:g} of training holds fewer than 5 "
                         f"records; move the end later")
    sl = slice(i0, last + 1)
    if trial == "mean":
        X, a, b = R.class_means.mean(axis=0), R.alpha.mean(axis=0), R.beta.mean(axis=0)
    else:
        j = int(trial)
        X, a, b = R.class_means[j], R.alpha[j], R.beta[j]
    X = X[sl]
    t = R.times[sl]
    K = R.n_classes
    y_net = exact.projected_coordinates(X)
    out = dict(steps=R.steps[sl], y_net=y_net, K=K, message="", ill_posed=False, gap_pred=None)
    fitting = False
    try:
        if src == "ntk":
            res = _im.imitate(t, X, source="ntk", impact_times=R.impact_times, alpha=a, beta=b,
                              max_step=MAX_STEP)
            keep = (R.impact_steps >= R.steps[i0]) & (R.impact_steps <= R.steps[last])
            out.update(impact_steps=R.impact_steps[keep], alpha=a[keep], beta=b[keep])
        else:
            fitting = True
            fit = _im.fit_impacts(t, X, variant=src)       # ValueError: a mode changes sign
            fitting = False
            res = _im.imitate(t, X, source=src, max_step=MAX_STEP)
            out.update(impact_steps=R.steps[sl], alpha=fit.alpha, beta=fit.beta)
            ybar = y_net.mean(axis=1)
            if np.all(ybar > 0):
                gap_ntk = np.interp(t, R.impact_times, a - b)
                out["gap_pred"] = K * gap_ntk / (ybar * (np.exp(ybar) + K - 1))
        y_ode = exact.projected_coordinates(res.solution)
        out.update(y_ode=y_ode, err_full=res.error,
                   err_y=np.linalg.norm(y_ode - y_net, axis=-1) / np.linalg.norm(y_net, axis=-1))
    except (NonFiniteError, ValueError) as exc:
        nan = np.full(len(t), np.nan)
        out.update(y_ode=None, err_full=nan, err_y=nan, impact_steps=R.steps[sl][:0],
                   alpha=nan[:0], beta=nan[:0], ill_posed=fitting,
                   message=str(exc).split(";")[0].removeprefix("class_means: "))
    return out


def draw(result, axes, params):
    """Projected coordinates (left), relative errors (middle), impacts (right)."""
    ax_y, ax_e, ax_i = axes
    K = result["K"]
    colors = class_colors(K)
    steps = result["steps"]
    for k in range(K):
        ax_y.plot(steps, result["y_net"][:, k], color=colors[k], lw=1.6,
                  label="network" if k == 0 else None)
        if result["y_ode"] is not None:
            ax_y.plot(steps, result["y_ode"][:, k], "--", color=colors[k], lw=1.2,
                      label="LE-ODE" if k == 0 else None)
    lo, hi = float(result["y_net"].min()), float(result["y_net"].max())
    if result["y_ode"] is not None and (result["y_ode"].max() > hi + (hi - lo) or
                                        result["y_ode"].min() < lo - (hi - lo)):
        ax_y.set_ylim(lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo))     # keep the network in view
    ax_y.set_xlabel("SGD step m  (t = ηm)")
    ax_y.set_ylabel("margin along own vertex  y_k")
    ax_y.legend(fontsize=7, loc="upper left")
    ax_y.set_title(f"{params['dataset']}, trial {params['trial']}\nimpacts: {params['source']}",
                   fontsize=8)

    if result["message"]:
        head = "ill-posed fit" if result.get("ill_posed") else "LE-ODE failed"
        ax_e.text(0.5, 0.5, head + ":\n" + textwrap.fill(result["message"][:150], 45),
                  ha="center", va="center", fontsize=7, transform=ax_e.transAxes)
        if result.get("ill_posed"):
            ax_e.set_title("no imitation: ill-posed fit (a fitted mode changes sign)", fontsize=8)
    else:
        ax_e.plot(steps, result["err_full"], color="black", label="centred logits")
        ax_e.plot(steps, result["err_y"], color="#D55E00", label="projected coords y")
        top = float(max(result["err_full"].max(), result["err_y"].max()))
        ax_e.set_ylim(0, min(max(0.05, 1.1 * top), ERROR_CAP))
        ax_e.legend(fontsize=7)
        title = (f"relative error at the end: {result['err_full'][-1]:.3f} (logits), "
                 f"{result['err_y'][-1]:.3f} (y)")
        if top > ERROR_CAP:
            title += f"\nlargest error {top:.2g}: ill-posed fit (a fitted mode nearly vanishes)"
        ax_e.set_title(title, fontsize=8)
    ax_e.set_xlabel("SGD step m")
    ax_e.set_ylabel("relative error")

    isteps = result["impact_steps"]
    if len(isteps):
        ax_i.plot(isteps, result["alpha"], "o-" if len(isteps) < 20 else "-", ms=3,
                  color="#0072B2", label="α")
        ax_i.plot(isteps, result["beta"], "s-" if len(isteps) < 20 else "-", ms=3,
                  color="#E69F00", label="β")
        if result["gap_pred"] is not None:
            ax_i.plot(isteps, result["alpha"] - result["beta"], "-", color="black", lw=1.2,
                      label="α−β fitted")
            ax_i.plot(steps, result["gap_pred"], ":", color="black",
                      label="α−β from NTK (conversion)")
        ax_i.set_xscale("log")
        ax_i.legend(fontsize=7)
    ax_i.axhline(0, color="grey", lw=0.6)
    ax_i.set_xlabel("SGD step m (log scale)")
    ax_i.set_ylabel("impact (per unit t)")
    units = "NTK units" if SOURCES[params["source"]] == "ntk" else "effective linear units"
    ax_i.set_title(f"impacts driving the LE-ODE ({units})", fontsize=8)
    _lean_ticks(ax_y, ax_e, ax_i)


def _lean_ticks(*axes):
    """Few ticks, no minor tick labels: keeps one update well under the 200 ms budget."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    plain = FuncFormatter(lambda v, _: f"{v:g}")          # no mathtext (expensive to lay out)
    for ax in axes:
        ax.yaxis.set_major_locator(MaxNLocator(5))
        if ax.get_xscale() == "log":
            ax.xaxis.set_major_locator(LogLocator(numticks=5))
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_locator(NullLocator())
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4))


@site_grid(dataset=tuple(DATASETS), source=tuple(SOURCES))
def make_explorer() -> Explorer:
    """The chapter-6 explorer: data set, impact source, trial, window → LE-ODE vs network."""
    return Explorer("LE-ODE imitating a network's class-mean logits", CONTROLS, compute, draw,
                    panels=[{}, {}, {}], panel_size=(4.0, 3.2))
