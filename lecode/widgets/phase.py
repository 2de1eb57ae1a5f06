r"""Explorer of chapter 4 (the phase transition): the cross-entropy LE-SDE.

One simulation of the cross-entropy LE-SDE with logit features (p = K),
started with every sample at the origin, is drawn two ways:

* left, the features at the final time t, projected on a plane of the
  sum-zero subspace in which the vertex directions u_k form a regular K-gon
  (for K = 2, on the u-direction and the all-ones direction), with the
  noiseless prediction s(t) u_k of the margin law marked by crosses;
* right, the training loss (cross-entropy with the model's own readout) along
  the run, against the noiseless margin law

  .. math::

      e^{s} + (K-1)s = 1 + (\alpha-\beta)t,\qquad
      \ell(t) = \log\big(1 + (K-1)e^{-s(t)}\big),

  and, when alpha > beta, its asymptote (K-1)/((alpha-beta) t).

The title of the left panel states both notions of separability: whether
*some* linear classifier separates the classes (exact linear program,
:func:`lecode.metrics.is_separable`) and the accuracy of the model's own
readout (argmax of the logits).
"""

from __future__ import annotations

import numpy as np

from .. import exact, metrics
from .._validate import check_int
from ..model import LEModel
from ..plots import class_colors
from ..simulate import simulate
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["make_explorer", "compute", "draw", "projection_basis", "CONTROLS", "SEED", "N_STEPS"]

#: Seed of the explorer's simulation (the same picture for the same sliders).
SEED = 2021
#: Euler-Maruyama steps per run (dt = t / N_STEPS), which keeps an update fast.
N_STEPS = 300
#: Saved times per run (the points of the loss curve).
N_SAVES = 61

CONTROLS = (
    Control("alpha", "α (same-class impact)", 1.0, 0.0, 2.0, 0.05),
    Control("beta", "β (cross-class impact)", 0.5, 0.0, 2.0, 0.05),
    Control("sigma", "σ (noise)", 0.1, 0.0, 0.5, 0.01),
    Control("K", "K (classes)", 3, 2, 6, 1, kind="int"),
    Control("n", "n (samples per class)", 30, 2, 100, 1, kind="int"),
    Control("t", "t (training time)", 30.0, 2.0, 60.0, 1.0),
)


def projection_basis(K: int) -> np.ndarray:
    r"""Orthonormal (K, 2) basis of a viewing plane for logit features.

    For K >= 3 the columns are :math:`a = c\sum_k \cos(2\pi k/K)\,e_k` and
    :math:`b = c\sum_k \sin(2\pi k/K)\,e_k` (normalised); both are orthogonal
    to the all-ones vector, and the vertex directions u_k project onto a
    regular K-gon (for K = 3 the plane *is* the sum-zero plane). For K = 2 the
    columns are (e_1 - e_2)/sqrt(2) and the all-ones direction (1, 1)/sqrt(2).
    """
    K = check_int("K", K, minimum=2)
    if K == 2:
        return np.array([[1.0, 1.0], [-1.0, 1.0]]) / np.sqrt(2.0)
    angles = 2 * np.pi * np.arange(K) / K
    B = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return B / np.linalg.norm(B, axis=0)


def compute(alpha, beta, sigma, K, n, t):
    r"""Simulate the cross-entropy LE-SDE from X(0) = 0 and measure it (pure, seeded).

    Parameters are the explorer's controls (validated by the explorer): the
    impacts alpha, beta, the noise sigma, K classes, n samples per class and
    the horizon t; ``N_STEPS`` Euler-Maruyama steps, seed ``SEED``.

    Returns
    -------
    dict with
        ``times`` (S,), ``loss`` (S,) simulated training loss,
        ``loss_ode`` (S,) the noiseless margin law,
        ``margin_ode`` (S,) s(t) of the margin law,
        ``points`` (K, n, 2) the final features in the viewing plane,
        ``vertices`` (K, 2) the noiseless class means s(t) u_k in that plane,
        ``separable`` (bool) some linear classifier separates the classes,
        ``accuracy`` (float) accuracy of the model's own readout,
        ``loss_final`` (float).
    """
    model = LEModel(K, n, alpha=alpha, beta=beta, sigma=sigma, gradient="ce")
    traj = simulate(model, t, dt=t / N_STEPS, n_saves=N_SAVES, x0=np.zeros((K, 1, K)), seed=SEED)
    X = traj.features[0]                                   # (S, K, n, K)
    times = traj.times
    loss = metrics.cross_entropy(X)
    s = exact.ce_symmetric_margin(times, alpha=alpha, beta=beta, n_classes=K)
    loss_ode = exact.ce_symmetric_loss(times, alpha=alpha, beta=beta, n_classes=K)
    P = projection_basis(K)
    final = X[-1]
    U = np.eye(K) - 1.0 / K
    return {
        "times": times,
        "loss": loss,
        "loss_ode": loss_ode,
        "margin_ode": s,
        "points": final @ P,
        "vertices": (s[-1] * U) @ P,
        "separable": bool(metrics.is_separable(final)),
        "accuracy": float(metrics.accuracy(final)),
        "loss_final": float(loss[-1]),
    }


def draw(result, axes, params):
    """Draw the features (left) and the loss curve (right) of :func:`compute`'s result.

    Kept lean for speed (one legend, linear axes, no mathtext): an update must
    stay well under the book's 200 ms budget.
    """
    ax_f, ax_l = axes
    K = params["K"]
    colors = class_colors(K)
    pts = result["points"]
    for k in range(K):
        ax_f.scatter(pts[k, :, 0], pts[k, :, 1], s=9, color=colors[k], alpha=0.7)
    v = result["vertices"]
    ax_f.scatter(v[:, 0], v[:, 1], marker="x", s=60, color="black", zorder=3)
    # equal scales on both axes, from a square data window around the points
    allp = np.concatenate([pts.reshape(-1, 2), v])
    centre = (allp.max(axis=0) + allp.min(axis=0)) / 2
    half = 0.55 * max(float(np.ptp(allp[:, 0])), float(np.ptp(allp[:, 1])), 1e-3)
    ax_f.set_xlim(centre[0] - half, centre[0] + half)
    ax_f.set_ylim(centre[1] - half, centre[1] + half)
    ax_f.set_aspect("equal", adjustable="box")
    if K > 2:
        ax_f.set_xlabel("logits projected on a (sum-zero plane)")
        ax_f.set_ylabel("logits projected on b")
    else:
        ax_f.set_xlabel("(x₁ − x₂)/√2")
        ax_f.set_ylabel("(x₁ + x₂)/√2")
    sep = "yes" if result["separable"] else "no"
    ax_f.set_title(f"t = {params['t']:g}: linearly separable: {sep}; readout accuracy {result['accuracy']:.2f}",
                   fontsize=8)

    t = result["times"]
    a, b = params["alpha"], params["beta"]
    hi = max(result["loss"].max(), result["loss_ode"].max())
    ax_l.plot(t, result["loss"], color="#0072B2", label="LE-SDE (simulated)")
    ax_l.plot(t, result["loss_ode"], "--", color="black", label="margin law (σ = 0)")
    if a > b:
        tt = t[t > 0]
        ax_l.plot(tt, np.minimum((K - 1) / ((a - b) * tt), 2 * hi), ":", color="#D55E00",
                  label="(K−1)/((α−β)t)")
    ax_l.plot([], [], "x", color="black", label="left: noiseless s(t)·u_k")
    ax_l.set_ylim(0, 1.1 * hi)
    ax_l.set_xlabel("training time t")
    ax_l.set_ylabel("training loss (cross-entropy)")
    ax_l.set_title(f"α = {a:g}, β = {b:g}, σ = {params['sigma']:g}", fontsize=8)
    ax_l.legend(fontsize=7, loc="best")
    for ax in axes:                     # fewer tick labels: text is most of the render time
        ax.locator_params(nbins=5)


@site_grid(beta=(0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0), t=(10.0, 30.0, 60.0))
def make_explorer() -> Explorer:
    """The chapter-4 explorer: α, β, σ, K, n, t → features and loss curve."""
    return Explorer("Cross-entropy LE-SDE: features at time t and training loss",
                    CONTROLS, compute, draw, panels=[{}, {}], panel_size=(4.2, 3.6))
