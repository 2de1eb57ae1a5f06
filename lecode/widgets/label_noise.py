r"""Explorer of chapter 7 (label noise): the cross-entropy LE-SDE with corrupted labels.

A fraction p of each class carries a label drawn evenly from the other K - 1
classes; impacts follow the true class, gradients the observed label. At the
symmetric configuration X_k = s u_k the class-mean margin s obeys (chapter 7)

.. math::

    \dot s = (\alpha-\beta)\Big[\frac{1}{e^{s}+K-1} - \frac{p}{K-1}\Big],

so the separating force at s = 0 is :math:`(\alpha-\beta)(1 - pK/(K-1))/K`
and, for alpha > beta, the margin settles at the fixed point

.. math::

    s^* = \log\frac{(K-1)(1-p)}{p}

(:func:`fixed_point`), positive for p < (K-1)/K and negative beyond. At
s* the softmax equals the label distribution of each true class, and the
training loss (against the observed labels) equals its entropy
(:func:`loss_floor`).

The explorer draws, for the chosen p, K, alpha and beta,

* left: the LE-SDE features at the final time in a viewing plane of the
  sum-zero subspace (dots in the colour of the true class: clean samples;
  rings in the colour of their label: relabelled samples), the paths of the
  class means, and the fixed points s* u_k (crosses);
* middle: the margin s(t) of the LE-ODE and of the LE-SDE class means, the
  clean (p = 0) LE-ODE for reference, and s*;
* right: the stored network runs (GeoMNIST, K = 3, ``chapters/data/label_noise.npz``)
  at the stored p nearest to the chosen one (p = 0.65 shows the runs at the
  critical point 2/3): the class-mean logit margin of
  every trial (thin) and their mean (thick) over training against s* (orange).
"""

from __future__ import annotations

import functools

import numpy as np

from .. import exact, metrics
from .._validate import check_array, check_int, check_real
from ..model import LEModel
from ..plots import class_colors
from ..simulate import simulate
from ._explorer import Control, Explorer
from ._site import site_grid
from .phase import projection_basis

__all__ = ["make_explorer", "compute", "draw", "style", "fixed_point", "loss_floor", "network_runs", "n_per_class",
           "CONTROLS", "SEED", "SIGMA", "T_END", "N_STEPS"]

#: Seed of the explorer's LE-SDE simulation.
SEED = 7
#: Noise level of the LE-SDE (constant).
SIGMA = 0.1
#: Horizon of the simulations.
T_END = 30.0
#: Euler-Maruyama steps per run.
N_STEPS = 300
#: Saved times per run.
N_SAVES = 61

CONTROLS = (
    Control("p", "p (label noise)", 0.3, 0.0, 0.9, 0.05),
    Control("K", "K (classes)", 3, 2, 6, 1, kind="int"),
    Control("alpha", "α (same-class impact)", 1.0, 0.2, 3.0, 0.05),
    Control("beta", "β (cross-class impact)", 0.4, 0.0, 3.0, 0.05),
)


def n_per_class(K: int) -> int:
    """Samples per class used by the explorer: 20 (K - 1).

    With p a multiple of 0.05, round(p n) is then a multiple of K - 1 and the
    relabelled samples are spread exactly evenly over the other classes.
    """
    return 20 * (check_int("K", K, minimum=2) - 1)


def _check_p(p) -> np.ndarray:
    p = check_array("p", p)
    if np.any((p < 0) | (p >= 1)):
        raise ValueError("p must be in [0, 1)")
    return p


def fixed_point(p, n_classes):
    r"""Fixed point of the symmetric label-noise margin, :math:`s^*=\log((K-1)(1-p)/p)` (chapter 7).

    ``+inf`` at p = 0 (the clean margin grows without bound); zero at
    p = (K-1)/K; negative beyond. Array in, array out.
    """
    K = check_int("n_classes", n_classes, minimum=2)
    p = _check_p(p)
    with np.errstate(divide="ignore"):
        return np.log((K - 1) * (1.0 - p)) - np.log(p)


def loss_floor(p, n_classes):
    r"""Entropy of the observed label of a true class, the training loss at s* (chapter 7).

    .. math::

        H(p) = -(1-p)\log(1-p) - p\log\frac{p}{K-1}

    (0 log 0 = 0). It is the smallest cross-entropy that any classifier
    whose logits depend only on the true class can reach.
    """
    K = check_int("n_classes", n_classes, minimum=2)
    p = _check_p(p)
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(q > 0, -q * np.log(np.where(q > 0, q, 1.0)), 0.0)
        b = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0) / (K - 1)), 0.0)
    return a + b


@functools.lru_cache(maxsize=1)
def network_runs():
    """The stored label-noise runs, reduced to what the explorer draws (cached; None if absent).

    Returns a dict with ``p`` (S,) in increasing order (0, 0.1, ..., 0.6,
    2/3, 0.7, 0.8: the critical point included), ``t`` (R,) training times lr * step,
    ``margin`` (S, T, R) the mean over classes of the projected class-mean
    probe logit ``y_k = u_k . mu_k / |u_k|^2``, ``val_acc`` and
    ``train_loss`` (S,) at the last record (means over trials).
    """
    from .. import experiments

    try:
        res = experiments.by_setting(experiments.load("label_noise"))   # p increasing
    except FileNotFoundError:
        return None
    cm = res["class_means"].astype(float)                       # (S, T, R, K, K)
    margin = exact.projected_coordinates(cm).mean(axis=-1)      # (S, T, R)
    out = dict(p=res["settings"].astype(float),
               t=float(res["cfg_lr"]) * res["record_steps"].astype(float),
               margin=margin,
               val_acc=res["val_acc"][:, :, -1].astype(float).mean(axis=1),
               train_loss=res["train_loss"][:, :, -1].astype(float).mean(axis=1))
    for v in out.values():
        v.setflags(write=False)
    return out


def _margin(class_means: np.ndarray) -> np.ndarray:
    """Mean over classes of the projected coordinates, (..., K, K) -> (...)."""
    return exact.projected_coordinates(class_means).mean(axis=-1)


def compute(p, K, alpha, beta):
    r"""Simulate the cross-entropy LE-SDE and LE-ODE with label noise p (pure, seeded).

    Returns
    -------
    dict with
        ``times`` (S,); ``margin_ode``, ``margin_clean``, ``margin_sde`` (S,)
        the margins of the LE-ODE (from X = 0), of the clean LE-ODE (the
        margin law of chapter 4) and of the LE-SDE class means; ``points`` (K, n, 2) final LE-SDE features
        in the viewing plane, ``means`` (S, K, 2) their class means over time,
        ``labels`` (K, n) observed labels; ``factor`` = 1 - pK/(K-1);
        ``s_star`` (float, inf at p = 0); ``fixed`` (K, 2) s* u_k in the plane
        (NaN when alpha <= beta or p = 0); ``acc_true``, ``acc_observed``,
        ``loss_observed`` of the final LE-SDE features; ``network`` the
        stored run nearest to p (dict with ``p``, ``t``, ``margin`` (T, R),
        ``val_acc``, ``train_loss``) or None.
    """
    p = check_real("p", p, minimum=0.0, maximum=0.9)
    K = check_int("K", K, minimum=2)
    n = n_per_class(K)
    model = LEModel(K, n, alpha=alpha, beta=beta, sigma=SIGMA, label_noise=p)
    dt = T_END / N_STEPS
    sde = simulate(model, T_END, dt=dt, n_saves=N_SAVES, seed=SEED)
    ode = simulate(model, T_END, dt=dt, n_saves=N_SAVES, method="ode", x0=np.zeros((K, 1, K)))
    X = sde.features[0]
    P = projection_basis(K)
    final = X[-1]
    s_star = float(fixed_point(p, K))
    U = np.eye(K) - 1.0 / K
    fixed = (s_star * U) @ P if (alpha > beta and p > 0) else np.full((K, 2), np.nan)
    net = None
    runs = network_runs()
    if runs is not None:
        j = int(np.argmin(np.abs(runs["p"] - p)))
        net = dict(p=float(runs["p"][j]), t=runs["t"], margin=runs["margin"][j],
                   val_acc=float(runs["val_acc"][j]), train_loss=float(runs["train_loss"][j]))
    return {
        "times": sde.times,
        "margin_ode": _margin(ode.class_means()[0]),
        "margin_clean": exact.ce_symmetric_margin(sde.times, alpha=alpha, beta=beta, n_classes=K),
        "margin_sde": _margin(sde.class_means()[0]),
        "points": final @ P,
        "means": sde.class_means()[0] @ P,
        "labels": model.labels,
        "factor": float(1.0 - p * K / (K - 1)),
        "s_star": s_star,
        "fixed": fixed,
        "acc_true": float(metrics.accuracy(final)),
        "acc_observed": float(metrics.accuracy(final, labels=model.labels)),
        "loss_observed": float(metrics.cross_entropy(final, labels=model.labels)),
        "network": net,
    }


def draw(result, axes, params):
    """Draw the features, the margins and the stored network runs of :func:`compute`'s result."""
    ax_f, ax_m, ax_n = axes
    _thin_ticks(axes[1:])
    K, p = params["K"], params["p"]
    colors = class_colors(K)
    pts, lab = result["points"], result["labels"]
    for k in range(K):
        clean = lab[k] == k
        ax_f.scatter(pts[k, clean, 0], pts[k, clean, 1], s=10, color=colors[k], alpha=0.8)
        if np.any(~clean):
            ax_f.scatter(pts[k, ~clean, 0], pts[k, ~clean, 1], s=16, facecolors="none",
                         edgecolors=[colors[j] for j in lab[k, ~clean]], linewidths=0.9)
        ax_f.plot(result["means"][:, k, 0], result["means"][:, k, 1], color=colors[k], lw=1.2)
    if np.all(np.isfinite(result["fixed"])):
        ax_f.scatter(result["fixed"][:, 0], result["fixed"][:, 1], marker="x", s=60, color="black",
                     zorder=3)
    ax_f.set_aspect("equal", adjustable="datalim")
    plane = "sum-zero plane" if K > 2 else "plane of u₁ and 1"
    ax_f.set_title(f"LE-SDE at t = {T_END:g} ({plane})\naccuracy {result['acc_true']:.2f} (true), "
                   f"{result['acc_observed']:.2f} (labels)", fontsize=8)

    t = result["times"]
    ax_m.plot(t, result["margin_clean"], ":", color="grey", label="LE-ODE, p = 0")
    ax_m.plot(t, result["margin_sde"], color="#0072B2", label="LE-SDE class means")
    ax_m.plot(t, result["margin_ode"], "--", color="black", label="LE-ODE")
    if np.isfinite(result["s_star"]) and params["alpha"] > params["beta"]:
        ax_m.axhline(result["s_star"], color="#D55E00", lw=1, label="s* = log((K−1)(1−p)/p)")
    ax_m.axhline(0, color="grey", lw=0.6)
    ax_m.set_xlabel("time t")
    ax_m.set_ylabel("margin s (projected class mean)")
    ax_m.set_title(f"p = {p:g}, K = {K}: factor 1 − pK/(K−1) = {result['factor']:.2f}", fontsize=9)
    ax_m.legend(fontsize=7, loc="upper left")

    net = result["network"]
    if net is None:
        ax_n.text(0.5, 0.5, "stored network runs not found\n(python -m lecode.experiments label_noise)",
                  ha="center", va="center", transform=ax_n.transAxes, fontsize=8)
        ax_n.set_axis_off()
        return
    for row in net["margin"]:
        ax_n.plot(net["t"], row, color="#009E73", lw=0.7, alpha=0.6)
    ax_n.plot(net["t"], net["margin"].mean(axis=0), color="#009E73", lw=2)
    s3 = float(fixed_point(net["p"], 3)) if net["p"] > 0 else np.nan
    if np.isfinite(s3):
        ax_n.axhline(s3, color="#D55E00", lw=1)
    ax_n.axhline(0, color="grey", lw=0.6)
    ax_n.set_xlabel("training time t = lr · step")
    ax_n.set_ylabel("margin of class-mean logits")
    ax_n.set_title(f"network (K = 3), stored p = {net['p']:.3g}\nvalidation accuracy {net['val_acc']:.2f}",
                   fontsize=9)


def _thin_ticks(axes) -> None:
    """Four ticks per axis: fewer text objects make the update (and its PNG) faster."""
    for ax in axes:
        ax.locator_params(nbins=4)


@site_grid(p=(0.0, 0.3, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9), K=(2, 3, 5))   # 0.65: the stored runs at p = 2/3 are the nearest
def make_explorer() -> Explorer:
    """The chapter-7 explorer: p, K, α, β → LE-SDE features, margins, stored network runs."""
    return Explorer("Label noise: the LE-SDE and the network", CONTROLS, compute, draw,
                    panels=[{}, {}, {}], panel_size=(4.0, 3.5), style=style)


def style(ax, j: int) -> None:
    """Fixed styling: the feature panel (0) has no axes, since the coordinates of its viewing
    plane are arbitrary (no ticks is also a faster update)."""
    if j == 0:
        ax.set_axis_off()
