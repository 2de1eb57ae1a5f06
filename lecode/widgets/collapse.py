r"""Explorer of chapter 5: neural collapse along the cross-entropy LE-SDE.

K = 3 classes of n = 20 samples with logit features in :math:`\mathbb R^3`
start from a small cloud around the origin (independent
:math:`N(0, 0.1^2 I)` draws) and move under constant impacts
:math:`\alpha, \beta` with one of two noise models:

* ``"LE-SDE"`` -- the LE-SDE with a constant noise level :math:`\sigma`: every
  sample has its own Brownian motion, so the within-class spread grows like
  :math:`\sigma\sqrt t`;
* ``"feature-SGD"`` -- the discrete feature-SGD with learning rate ``lr``:
  its noise is the randomness of the drawn sample, common to a whole class
  and vanishing with the gradients, so the within-class spread never grows.

The explorer shows the features at time ``t`` in :math:`\mathbb R^3` (with
the vertex directions :math:`u_k = e_k - \frac13\mathbf 1`), their projection
onto the sum-zero plane (where the cross-entropy dynamics live), and the
neural-collapse statistics NC1, ETF distance, NC3 along the run (NC4 at time
``t`` in the title), with the chapter's narrow-cloud prediction
:math:`\mathrm{NC1}\approx (K-1)\frac{n-1}{n}(v_0 + \sigma^2 t)/s(t)^2`
(:func:`predicted_nc1`; :math:`\sigma = 0` for feature-SGD, whose clouds are frozen).

Long horizons are simulated on a geometric time grid (:func:`log_trajectory`):
:func:`lecode.simulate` runs segment by segment with a step proportional to
the elapsed time, which is accurate because the cross-entropy drift decays
like :math:`1/t` once the classes separate.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_generator, check_choice, check_int, check_real
from ..exact import ce_symmetric_margin, projected_coordinates
from ..metrics import cross_entropy, neural_collapse
from ..model import LEModel
from ..plots import class_colors
from ..simulate import X0_SCALE, simulate
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["make_explorer", "compute", "draw", "log_trajectory", "log_times", "symmetric_margin",
           "predicted_nc1", "plane_coordinates", "PLANE_BASIS", "sparse_log_ticks", "style",
           "vertex_coordinates", "NOISE_MODELS", "K",
           "N_PER_CLASS", "T_MIN"]

#: Fixed settings of the explorer (the chapter states them).
K = 3
N_PER_CLASS = 20
T_MIN = 0.1
N_POINTS = 36
REL_DT = 0.05
MAX_EARLY_DT = 0.02
SEED = 0

#: The two noise models of the chapter.
NOISE_MODELS = ("LE-SDE", "feature-SGD")

CONTROLS = (
    Control("alpha", "same-class impact α", 1.0, 0.0, 2.0, 0.05),
    Control("beta", "cross-class impact β", 0.2, 0.0, 2.0, 0.05),
    Control("sigma", "noise σ (LE-SDE)", 0.05, 0.0, 0.4, 0.01),
    Control("lr", "learning rate η (feature-SGD)", 0.2, 0.05, 0.5, 0.05),
    Control("t", "time t", 100.0, 1.0, 300.0, 0.05, kind="log"),
    Control("noise", "noise model", "LE-SDE", kind="choice", options=NOISE_MODELS),
)


# --------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------

def plane_coordinates(x) -> np.ndarray:
    r"""Coordinates of logit vectors (..., 3) in an orthonormal basis of the sum-zero plane.

    The basis is :math:`b_1 = (-1, 1, 0)/\sqrt 2`, :math:`b_2 = (-1, -1, 2)/\sqrt 6`,
    so that :math:`u_3` points straight up, :math:`u_1` down-left and
    :math:`u_2` down-right. The projection discards the component along
    :math:`\mathbf 1`, which the cross-entropy loss cannot see (chapter 5,
    the 2-D panel).
    """
    x = np.asarray(x, dtype=float)
    if x.shape[-1] != 3:
        raise ValueError(f"x must have a last axis of length 3 (K = 3 logits), got shape {x.shape}")
    return x @ PLANE_BASIS.T


#: Rows: an orthonormal basis of the sum-zero plane {x : x_1 + x_2 + x_3 = 0}.
PLANE_BASIS = np.array([[-1.0, 1.0, 0.0], [-1.0, -1.0, 2.0]]) / np.sqrt([[2.0], [6.0]])


#: Coordinates y_k = u_k . mu_k / |u_k|^2 of class means (..., K, K) -> (..., K); the same
#: function as :func:`lecode.exact.projected_coordinates` (chapter 3), under this chapter's name.
vertex_coordinates = projected_coordinates


def symmetric_margin(t, alpha_minus_beta: float, n_classes: int = K, s0: float = 0.0) -> np.ndarray:
    r"""The coordinate s(t) of the symmetric LE-ODE solution :math:`X_k = s(t) u_k`.

    The root of the margin law (chapter 4; equation ``ch05-eq-margin-law``)

    .. math::

        e^{s} + (K-1)s = e^{s_0} + (K-1)s_0 + (\alpha-\beta)t ,

    for constant impacts, computed by :func:`lecode.exact.ce_symmetric_margin`.
    Only the difference :math:`\alpha-\beta` matters.
    """
    c = check_real("alpha_minus_beta", alpha_minus_beta)
    return ce_symmetric_margin(t, alpha=c, beta=0.0, n_classes=n_classes, s0=s0)


def predicted_nc1(t, sigma: float, alpha_minus_beta: float, *, n_classes: int = K,
                  n_per_class: int = N_PER_CLASS, v0: float = X0_SCALE ** 2,
                  s0: float = 0.0) -> np.ndarray:
    r"""The rigid-cloud prediction of NC1 along the constant-σ LE-SDE (chapter 5).

    .. math::

        \mathrm{NC1}(t) \approx (K-1)\,\frac{n-1}{n}\,\frac{v_0 + \sigma^2 t}{s(t)^2},

    with :math:`s(t)` the symmetric margin (:func:`symmetric_margin`) and
    :math:`v_0` the initial variance per coordinate of a sample around its
    class mean (default: that of :func:`lecode.simulate`'s initial cloud).
    Valid while the within-class spread :math:`\sigma\sqrt t` stays small
    against the margin :math:`s(t)`; later the margin is driven by the
    stragglers of each class and NC1 levels off (the chapter's plateau).
    """
    sigma = check_real("sigma", sigma, minimum=0.0)
    K_ = check_int("n_classes", n_classes, minimum=2)
    n = check_int("n_per_class", n_per_class, minimum=1)
    v0 = check_real("v0", v0, minimum=0.0)
    t = np.asarray(t, dtype=float)
    s = symmetric_margin(t, alpha_minus_beta, K_, s0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (K_ - 1) * (n - 1) / n * (v0 + sigma ** 2 * t) / s ** 2


# --------------------------------------------------------------------------
# long runs on a geometric time grid
# --------------------------------------------------------------------------

def log_times(t_end: float, n_points: int = N_POINTS, t_min: float = T_MIN) -> np.ndarray:
    """``0`` followed by ``n_points`` geometrically spaced times from ``t_min`` to ``t_end``."""
    t_end = check_real("t_end", t_end, minimum=0.0, strict_min=True)
    t_min = check_real("t_min", t_min, minimum=0.0, strict_min=True)
    n_points = check_int("n_points", n_points, minimum=1)
    if t_min >= t_end:
        return np.array([0.0, t_end])
    return np.concatenate([[0.0], np.geomspace(t_min, t_end, n_points)])


def log_trajectory(model: LEModel, t_end: float, *, method: str = "sde", n_points: int = N_POINTS,
                   t_min: float = T_MIN, rel_dt: float = REL_DT, max_early_dt: float = MAX_EARLY_DT,
                   lr: float | None = None, x0=None, n_trials: int = 1, seed=None):
    r"""Simulate ``model`` and save on a geometric time grid (chapter 5).

    For ``method="sde"``/``"ode"`` the run is split at the times of
    :func:`log_times` and at the knots of a geometric grid of ratio
    :math:`1 + 10\,\text{rel\_dt}`; the segment starting at time :math:`a` is
    integrated by :func:`lecode.simulate` with step :math:`\max(\text{max\_early\_dt},
    \text{rel\_dt}\cdot a)`, so a horizon of :math:`10^3` costs a few hundred
    steps. Restarting the clock at every segment is exact because the impacts
    and the noise level must be constant. For ``method="sgd"`` every step is
    a feature-SGD step of size ``lr``; the grid is rounded to multiples of
    ``lr``.

    With noise (``"sde"``) the Brownian part is exact for any step, but the
    drift is frozen over a step of length ``rel_dt * t``. In the straggler
    regime of chapter 5 (constant sigma, long horizons) check the statistics
    you need against a smaller ``rel_dt``: the chapter does so up to
    t = 3000, and for K = 3, n = 5, sigma = 0.2 the default step visibly
    inflates the margin beyond t of about 10^4.

    Parameters
    ----------
    model : LEModel
        With constant ``alpha``, ``beta`` and ``sigma`` (callables raise).
    t_end : float > 0
    method : {"sde", "ode", "sgd"}
    n_points, t_min : grid of :func:`log_times`.
    rel_dt, max_early_dt : float > 0
        Relative step and the step used before ``max_early_dt/rel_dt``.
    lr : float, required for sgd.
    x0 : array (K, n, p) or (n_trials, K, n, p), optional
        Default: independent :math:`N(0, 0.1^2 I)` draws (as :func:`lecode.simulate`).
    n_trials : int
    seed : None, int or numpy Generator

    Returns
    -------
    times : ndarray (S,)
    features : ndarray (n_trials, S, K, n, p)
    """
    if not isinstance(model, LEModel):
        raise TypeError(f"model must be a lecode.LEModel, got {type(model).__name__}")
    for name in ("alpha", "beta", "sigma", "impact_matrix"):
        if callable(getattr(model, name)):
            raise ValueError(f"log_trajectory needs a constant {name} (it restarts the clock "
                             "at every segment); use lecode.simulate for time-varying models")
    check_choice("method", method, ("sde", "ode", "sgd"))
    rel_dt = check_real("rel_dt", rel_dt, minimum=0.0, strict_min=True)
    max_early_dt = check_real("max_early_dt", max_early_dt, minimum=0.0, strict_min=True)
    n_trials = check_int("n_trials", n_trials, minimum=1)
    rng = as_generator(seed)
    Kc, n, p = model.n_classes, model.n_per_class, model.dim
    if x0 is None:
        x = X0_SCALE * rng.standard_normal((n_trials, Kc, n, p))
    else:
        x = np.array(np.broadcast_to(np.asarray(x0, dtype=float), (n_trials, Kc, n, p)))
    grid = log_times(t_end, n_points, t_min)
    if method == "sgd":
        if lr is None:
            raise TypeError("method='sgd' needs the learning rate lr (a number > 0)")
        lr = check_real("lr", lr, minimum=0.0, strict_min=True)
        steps = np.unique(np.round(grid / lr).astype(np.int64))
        steps = steps[(steps > 0) | (np.arange(steps.size) == 0)]
        grid = steps * lr
    elif lr is not None:
        raise ValueError(f"lr is only used by method='sgd' (method={method!r})")
    feats = np.empty((n_trials, grid.size, Kc, n, p))
    feats[:, 0] = x
    if method == "sgd":
        for j in range(1, grid.size):
            length = grid[j] - grid[j - 1]
            tr = simulate(model, length, method="sgd", lr=length / round(length / lr), n_saves=2,
                          x0=x, n_trials=n_trials, seed=rng)
            x = np.array(tr.features[:, -1])
            feats[:, j] = x
        return grid, feats
    # integration knots: the save times plus a geometric grid (ratio 1 + 10 rel_dt) past the
    # time where the relative step takes over, so that every segment holds about ten steps
    t_switch = max_early_dt / rel_dt
    knots = [grid]
    if t_end > t_switch:
        count = int(math.ceil(math.log(t_end / t_switch) / math.log1p(10.0 * rel_dt)))
        knots.append(np.geomspace(t_switch, t_end, count + 1))
    knots = np.unique(np.concatenate(knots))
    knots = knots[knots <= t_end]
    j = 1
    for a, b in zip(knots[:-1], knots[1:]):
        dt = max(max_early_dt, rel_dt * a)
        tr = simulate(model, b - a, method=method, dt=dt, n_saves=2, x0=x, n_trials=n_trials,
                      seed=rng)
        x = np.array(tr.features[:, -1])
        while j < grid.size and np.isclose(grid[j], b, rtol=1e-12, atol=0.0):
            feats[:, j] = x
            j += 1
    return grid, feats


# --------------------------------------------------------------------------
# the explorer
# --------------------------------------------------------------------------

def compute(alpha: float = 1.0, beta: float = 0.2, sigma: float = 0.05, lr: float = 0.2,
            t: float = 100.0, noise: str = "LE-SDE", *, seed: int = SEED) -> dict:
    """Run the LE-SDE (or feature-SGD) for K = 3 up to time ``t``; return geometry and NC curves.

    Returns a dict with ``times`` (S,), the NC statistics ``nc1``,
    ``etf_distance``, ``nc3``, ``nc4``, ``nc2_equinorm``, ``nc2_equiangle``
    (S,), the training loss ``loss`` (S,), the features at ``t`` ``X`` (K, n, 3),
    their class means ``means`` (K, 3), the symmetric margin ``s`` (S,) of
    the class means (:func:`vertex_coordinates`, averaged over classes), and
    ``nc1_pred`` (S,), the rigid-cloud prediction of :func:`predicted_nc1`
    (with sigma = 0 for feature-SGD, whose within-class spread is frozen;
    NaN when alpha <= beta).
    """
    by = {c.name: c for c in CONTROLS}
    alpha = by["alpha"].validate(alpha)
    beta = by["beta"].validate(beta)
    sigma = by["sigma"].validate(sigma)
    lr = by["lr"].validate(lr)
    t = by["t"].validate(t)
    noise = by["noise"].validate(noise)
    if noise == "LE-SDE":
        model = LEModel(K, N_PER_CLASS, alpha=alpha, beta=beta, sigma=sigma)
        times, X = log_trajectory(model, t, method="sde", seed=seed)
    else:
        model = LEModel(K, N_PER_CLASS, alpha=alpha, beta=beta)
        times, X = log_trajectory(model, t, method="sgd", lr=lr, t_min=max(T_MIN, lr), seed=seed)
    X = X[0]
    nc = neural_collapse(X)
    means = X.mean(axis=-2)
    s = vertex_coordinates(means).mean(axis=-1)
    if alpha > beta:
        pred = predicted_nc1(times, sigma if noise == "LE-SDE" else 0.0, alpha - beta,
                             n_per_class=N_PER_CLASS)
        pred[0] = np.nan
    else:
        pred = np.full(times.shape, np.nan)
    out = {name: np.asarray(getattr(nc, name)) for name in nc._fields}
    out.update(times=times, loss=cross_entropy(X), X=X[-1], means=means[-1], s=s, nc1_pred=pred,
               noise=noise)
    return out


def _ideal_vertices(means: np.ndarray) -> np.ndarray:
    """The aligned simplex with the same centre and mean radius as ``means`` (K, 3)."""
    centre = means.mean(axis=0)
    radius = np.linalg.norm(means - centre, axis=1).mean()
    U = np.eye(K) - 1.0 / K
    return centre + radius * U / np.linalg.norm(U[0])


def draw(result: dict, axes, params: dict) -> None:
    """Draw the features in R^3, their sum-zero-plane projection and the NC curves."""
    from matplotlib.ticker import MaxNLocator

    ax3, ax2, axn = axes
    colors = class_colors(K)
    X, means = result["X"], result["means"]
    ideal = _ideal_vertices(means)
    t = result["times"][-1]

    # 3-D: samples, class means, the aligned simplex triangle and the 1-axis
    point_colors = np.repeat(colors, X.shape[1])
    ax3.scatter(*X.reshape(-1, 3).T, s=5, c=point_colors, depthshade=False, linewidths=0)
    ax3.scatter(*means.T, s=50, c=colors, edgecolor="k", depthshade=False)
    tri = np.vstack([ideal, ideal[:1]])
    ax3.plot(*tri.T, "k--", lw=0.8)
    mtri = np.vstack([means, means[:1]])
    ax3.plot(*mtri.T, color="0.3", lw=1.2)
    r = max(np.abs(X).max(), 1e-9)
    diag = np.array([-1.0, 1.0])[:, None] * r * np.ones(3) / np.sqrt(3)
    ax3.plot(*diag.T, color="0.6", lw=0.8, ls=":")
    ax3.set_xlabel("logit 1", labelpad=-8)
    ax3.set_ylabel("logit 2", labelpad=-8)
    ax3.set_zlabel("logit 3", labelpad=-8)
    ax3.set_title(f"logits in R³, t = {t:.3g}", fontsize=9)

    # 2-D: projection onto the sum-zero plane
    P = plane_coordinates(X)
    Pm = plane_coordinates(means)
    Pi = plane_coordinates(ideal)
    ax2.scatter(*P.reshape(-1, 2).T, s=5, c=point_colors, linewidths=0)
    ax2.scatter(*Pm.T, s=50, c=colors, edgecolor="k", zorder=3)
    ax2.plot(*np.vstack([Pi, Pi[:1]]).T, "k--", lw=0.8)
    ax2.plot(*np.vstack([Pm, Pm[:1]]).T, color="0.3", lw=1.2)
    c = Pm.mean(axis=0)
    d = 1.25 * (Pi - c)                  # the vertex directions u_k, drawn from the centre
    ax2.quiver(np.full(K, c[0]), np.full(K, c[1]), d[:, 0], d[:, 1], color=colors, angles="xy",
               scale_units="xy", scale=1.0, width=0.006, alpha=0.7)
    ax2.set_aspect("equal", adjustable="datalim")
    ax2.xaxis.set_major_locator(MaxNLocator(4))
    ax2.yaxis.set_major_locator(MaxNLocator(4))
    ax2.set_xlabel("sum-zero plane, coordinate 1")
    ax2.set_ylabel("coordinate 2")
    ax2.set_title("sum-zero plane: means (grey), aligned\nsimplex (dashed), directions uₖ (arrows)",
                  fontsize=8)

    # NC curves
    times = result["times"][1:]
    for key, lab, col in (("nc1", "NC1", "#0072B2"), ("etf_distance", "ETF distance", "#E69F00"),
                          ("nc3", "NC3 (self-duality)", "#009E73")):
        y = np.asarray(result[key][1:], dtype=float)
        axn.plot(times, np.where(y > 0, y, np.nan), color=col, label=lab)
    pred = result["nc1_pred"][1:]
    if np.any(np.isfinite(pred)):
        axn.plot(times, pred, color="#0072B2", ls="--", lw=0.9, label="NC1 prediction")
    axn.set_xscale("log")
    axn.set_yscale("log")
    sparse_log_ticks(axn)
    axn.set_xlabel("time t")
    axn.set_ylabel("statistic (log scale)")
    nc4 = float(result["nc4"][-1])
    axn.set_title(f"{result['noise']}: NC4 = {nc4:.2f} at t = {t:.3g}", fontsize=9)
    axn.legend(fontsize=7, loc="lower left")


def style(ax, j: int) -> None:
    """Fixed styling of a new panel: small tick labels, three ticks and light panes on the 3-D one."""
    from matplotlib.ticker import MaxNLocator

    if j == 0:
        ax.tick_params(labelsize=6, pad=-2)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):     # light panes: smaller PNGs, clearer view
            axis.pane.fill = False
            axis.set_major_locator(MaxNLocator(3))


def sparse_log_ticks(*axes, numticks: int = 5) -> None:
    """At most ``numticks`` major and no minor ticks on the log-scaled axes of ``axes``.

    Tick labels dominate the rendering time of small log-log panels; the
    chapter's figures and the explorer use this to stay fast.
    """
    from matplotlib.ticker import LogLocator, NullLocator

    for ax in axes:
        for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
            if scale == "log":
                axis.set_major_locator(LogLocator(numticks=numticks))
                axis.set_minor_locator(NullLocator())


@site_grid(t=(2.0, 5.0, 20.0, 50.0, 100.0, 200.0, 300.0), noise=("LE-SDE", "feature-SGD"))
def make_explorer() -> Explorer:
    """The chapter-5 explorer: α, β, σ, η, t and the noise model."""
    return Explorer("Neural collapse along the LE-SDE (K = 3)", CONTROLS, compute, draw,
                    panels=[{"projection": "3d"}, {}, {}], panel_size=(3.6, 3.2), style=style)
