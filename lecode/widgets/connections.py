"""Explorers of chapter 8 (*Connections*): Euler–Maruyama's error on the LE-SDE; lazy training.

The LE-SDE has *additive* noise (``sigma(t) dW``, independent of the
features), and for additive noise the Euler–Maruyama scheme coincides with
the Milstein scheme: its strong order is 1, not the 1/2 of the general case
(Kloeden & Platen 1992, Higham 2001). The explorer measures the strong error

.. math::

    e(h) = \\E\\,\\big|X_h(T) - X_{\\rm ref}(T)\\big|

of Euler–Maruyama with step ``h`` against a fine reference driven by the *same*
Brownian paths (the fine increments summed over coarse steps), for the LE
drift with additive noise and, as a contrast, with the multiplicative noise
``sigma X dW`` (componentwise) for which the order drops to 1/2.

Public functions
----------------
:func:`strong_errors`
    The coupled Euler–Maruyama experiment (used by the explorer and by the
    chapter's check cells).
:func:`make_explorer`
    The main :class:`~lecode.widgets.Explorer` of the chapter (step size of
    Euler–Maruyama).
:func:`make_lazy_explorer`
    Lazy training (section 8.1): width against the change of the parameters
    and of the impacts alpha-hat, beta-hat of the two-layer network trained
    by :func:`lecode.lazy.train_two_layer`.
"""

from __future__ import annotations

import numpy as np

from .._validate import NonFiniteError, as_generator, check_choice, check_int, check_real
from ..lazy import cluster_data, train_two_layer
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["NOISE_TYPES", "strong_errors", "make_explorer", "make_lazy_explorer"]

#: Noise models of :func:`strong_errors`.
NOISE_TYPES = ("additive", "multiplicative")


def _default_x0(model, seed) -> np.ndarray:
    """X_{k,i}(0) = u_k / 2 + 0.3 * standard normal jitter (seeded), shape (K, n, p)."""
    K, n, p = model.n_classes, model.n_per_class, model.dim
    rng = as_generator(seed)
    base = np.zeros((K, p))
    base[:, :min(K, p)] = (np.eye(K) - 1.0 / K)[:, :min(K, p)]
    return 0.5 * base[:, None, :] + 0.3 * rng.standard_normal((K, n, p))


def strong_errors(model, t_end: float, *, levels=(2, 3, 4, 5, 6), fine_level: int = 8,
                  n_paths: int = 200, noise: str = "additive", x0=None, seed=0) -> dict:
    r"""Strong error of Euler–Maruyama on the LE-SDE against a fine reference on the same paths.

    The scheme with step ``h`` is

    .. math::

        X_{j+1} = X_j + h\,b(X_j, t_j) + \sigma(t_j)\,S(X_j)\,\Delta W_j,

    with ``b = model.drift``, ``S(X) = 1`` (``noise="additive"``, the LE-SDE)
    or ``S(X) = X`` componentwise (``noise="multiplicative"``). Brownian
    increments are drawn on the fine grid ``h_f = t_end / 2**fine_level`` and
    summed over blocks of ``2**(fine_level - level)`` fine steps for the
    coarse grids, so all schemes see the same Brownian path (Higham 2001).
    The strong error at level ``l`` is the mean over paths of the Euclidean
    norm of ``X_h(T) - X_ref(T)`` over all ``K n p`` coordinates; the order is
    the least-squares slope of ``log e`` against ``log h``.

    Parameters
    ----------
    model : lecode.LEModel
        Drift and noise level ``sigma`` (constant or a function of t).
    t_end : float > 0
    levels : sequence of int
        Coarse grids ``h = t_end / 2**level``; each >= 0 and < ``fine_level``.
    fine_level : int in 1..14
    n_paths : int >= 2
    noise : {"additive", "multiplicative"}
    x0 : array (K, n, p), optional
        Initial features; default ``u_k / 2`` plus a seeded jitter of size 0.3.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    dict
        ``dt`` (L,), ``error`` (L,), ``stderr`` (L,) (standard error of the
        mean over paths), ``order`` (slope over all levels), ``order_fine``
        (slope over the three smallest steps, closer to the asymptotic
        order), ``exact`` (True when every error is at rounding level, e.g.
        zero drift with additive noise; the orders are then NaN),
        ``times`` and ``path`` per level
        (one coordinate of the first path: the margin
        ``X_{0,0,0} - max_{j>0} X_{0,0,j}``), ``t_fine``, ``path_fine``.
    """
    t_end = check_real("t_end", t_end, minimum=0.0, strict_min=True)
    fine_level = check_int("fine_level", fine_level, minimum=1, maximum=14)
    n_paths = check_int("n_paths", n_paths, minimum=2)
    noise = check_choice("noise", noise, NOISE_TYPES)
    levels = [check_int("levels", lv, minimum=0, maximum=fine_level - 1) for lv in levels]
    if len(levels) < 2 or len(set(levels)) != len(levels):
        raise ValueError(f"levels must hold at least 2 distinct integers, got {levels}")
    levels = sorted(levels)
    rng = as_generator(seed)
    shape = (model.n_classes, model.n_per_class, model.dim)
    if x0 is None:
        x0 = _default_x0(model, rng)
    else:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != shape:
            raise ValueError(f"x0 must have shape {shape} = (K, n, p), got {x0.shape}")
    n_fine = 2 ** fine_level
    h_fine = t_end / n_fine
    dW = rng.standard_normal((n_fine, n_paths) + shape) * np.sqrt(h_fine)

    def run(level):
        steps = 2 ** level
        h = t_end / steps
        incr = dW.reshape((steps, n_fine // steps, n_paths) + shape).sum(axis=1)
        X = np.broadcast_to(x0, (n_paths,) + shape).copy()
        path = np.empty(steps + 1)
        path[0] = _margin(X[0])
        for m in range(steps):
            t = m * h
            s = model.sigma_at(t)
            kick = s * incr[m] if noise == "additive" else s * X * incr[m]
            X += h * model.drift(X, t) + kick
            path[m + 1] = _margin(X[0])
        if not np.all(np.isfinite(X)):
            raise NonFiniteError(f"Euler–Maruyama overflowed at h = {h:g}; lower sigma or the impacts")
        return X, np.linspace(0.0, t_end, steps + 1), path

    ref, t_fine, path_fine = run(fine_level)
    dts, errs, ses, times, paths = [], [], [], [], []
    for level in levels:
        X, tt, pp = run(level)
        e = np.sqrt(((X - ref) ** 2).reshape(n_paths, -1).sum(axis=1))
        dts.append(t_end / 2 ** level)
        errs.append(e.mean())
        ses.append(e.std(ddof=1) / np.sqrt(n_paths))
        times.append(tt)
        paths.append(pp)
    dts, errs = np.array(dts), np.array(errs)
    scale = max(1.0, float(np.sqrt((ref ** 2).reshape(n_paths, -1).sum(axis=1)).mean()))
    exact = bool(np.all(errs <= 1e-12 * scale))
    if exact:            # e.g. zero drift with additive noise: EM is exact, there is no order to fit
        order = order_fine = float("nan")
    else:
        logh, loge = np.log(dts), np.log(np.maximum(errs, 1e-300))
        order = float(np.polyfit(logh, loge, 1)[0])
        order_fine = float(np.polyfit(logh[-3:], loge[-3:], 1)[0])
    return {"dt": dts, "error": errs, "stderr": np.array(ses), "order": order,
            "order_fine": order_fine, "exact": exact,
            "times": times, "path": paths, "t_fine": t_fine, "path_fine": path_fine,
            "levels": levels, "noise": noise}


def _margin(X0) -> float:
    """Margin of the first sample of class 0: x_0 - max_{j>0} x_j (logit features)."""
    x = X0[0, 0]
    return float(x[0] - np.max(x[1:]))


# --------------------------------------------------------------------------
# the explorer
# --------------------------------------------------------------------------

CONTROLS = (
    Control("noise", "noise", "additive", kind="choice", options=NOISE_TYPES),
    Control("sigma", "σ (noise level)", 0.5, 0.05, 1.0, 0.05),
    Control("alpha", "α (same-class impact)", 4.0, 0.0, 8.0, 0.25),
    Control("beta", "β (cross-class impact)", 1.0, 0.0, 8.0, 0.25),
    Control("t_end", "horizon T", 1.0, 0.25, 2.0, 0.25),
    Control("n_paths", "Brownian paths", 100, 50, 400, 50, kind="int"),
)


def compute(noise="additive", sigma=0.5, alpha=4.0, beta=1.0, t_end=1.0, n_paths=100):
    """Strong errors of Euler–Maruyama on a 3-class LE-SDE (2 samples per class), seeded."""
    from ..model import LEModel

    model = LEModel(3, 2, alpha=alpha, beta=beta, sigma=sigma)
    return strong_errors(model, t_end, levels=(1, 2, 3, 4), fine_level=7, n_paths=n_paths,
                         noise=noise, seed=2021)


def draw(result, axes, params):
    """Left: strong error against the step (log-log) with slopes 1/2 and 1 through the
    smallest step; right: one path at several steps."""
    ax, ax2 = axes
    dt, err = result["dt"], result["error"]
    if result["exact"]:
        ax.text(0.5, 0.5, "EM is exact here\n(zero drift, additive noise):\nno discretisation error",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("step size h")
        ax.set_ylabel("strong error E|X_h(T) − X_ref(T)|")
        ax.set_title(f"{params['noise']} noise, σ = {params['sigma']:g}", fontsize=9)
        _draw_paths(result, ax2)
        return
    ax.loglog(dt, err, "o-", color="#0072B2",
              label=f"EM; order ≈ {result['order_fine']:.2f} (3 smallest h)")
    for order, style in ((0.5, ":"), (1.0, "--")):
        ax.loglog(dt, err[-1] * (dt / dt[-1]) ** order, style, color="0.4", lw=1,
                  label=f"slope {order:g}")
    _plain_log_ticks(ax)
    ax.set_xticks(dt, [f"{h:.3g}" for h in dt])
    ax.set_xlabel("step size h")
    ax.set_ylabel("strong error E|X_h(T) − X_ref(T)|")
    ax.set_title(f"{params['noise']} noise, σ = {params['sigma']:g}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    _draw_paths(result, ax2)


def _draw_paths(result, ax2):
    """One coordinate of the first Brownian path at three step sizes and on the reference grid."""
    dt = result["dt"]
    colors = ("#E69F00", "#009E73", "#CC79A7")
    for j, idx in enumerate((0, 1, len(dt) - 1)):
        if idx < len(result["path"]) and (j == 0 or idx > (0, 1, len(dt) - 1)[j - 1]):
            h = dt[idx]
            ax2.plot(result["times"][idx], result["path"][idx], "o-", ms=3, lw=1,
                     color=colors[j], label=f"h = {h:.3g}")
    ax2.plot(result["t_fine"], result["path_fine"], color="k", lw=1, label="reference")
    ax2.set_xlabel("time t")
    ax2.set_ylabel("margin of one sample")
    ax2.set_title("one Brownian path, several steps", fontsize=9)
    ax2.legend(fontsize=8)


def _plain_log_ticks(ax):
    """Log axes with major ticks only, labelled as plain numbers (cheap to render)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
        axis.set_major_formatter(fmt)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))


@site_grid(sigma=(0.1, 0.25, 0.5, 0.75, 1.0), noise=NOISE_TYPES)
def make_explorer() -> Explorer:
    """Strong error of Euler–Maruyama on the LE-SDE (chapter 8).

    Controls: noise model (additive = the LE-SDE, multiplicative = contrast),
    sigma, alpha, beta, horizon, number of Brownian paths. Main control for the
    static figure: ``noise``.
    """
    return Explorer("Euler–Maruyama on the LE-SDE: strong error against the step",
                    CONTROLS, compute, draw, panels=[{}, {}], panel_size=(4.2, 3.3))


# --------------------------------------------------------------------------
# the lazy-training explorer (section 8.1; the network is lecode.lazy)
# --------------------------------------------------------------------------

LAZY_CONTROLS = (
    Control("width", "width m", 256, 16, 4096, 0.301, kind="log"),
    Control("train_time", "training time t = ηj", 100.0, 10.0, 200.0, 10.0),
    Control("eta", "step η", 1.0, 0.25, 2.0, 0.25),
    Control("spread", "cluster spread", 0.6, 0.1, 1.5, 0.1),
)


def lazy_compute(width=256, train_time=100.0, eta=1.0, spread=0.6):
    """Train the two-layer network of section 8.1 on three clusters (seeded) at this width."""
    X, y = cluster_data(3, 10, 10, spread, seed=0)
    steps = max(1, int(round(train_time / eta)))
    m = int(round(width))
    return train_two_layer(X, y, width=m, eta=eta, steps=steps, seed=1,
                           record_every=max(1, steps // 10))


def lazy_draw(result, axes, params):
    """Left: alpha-hat(t), beta-hat(t) relative to t = 0; right: change of the impact matrix."""
    ax, ax2 = axes
    ab, t = result["ab"], result["times"]
    ax.plot(t, ab[:, 0] / ab[0, 0], "-", color="#0072B2", label="α̂(t)/α̂(0)")
    ax.plot(t, ab[:, 1] / ab[0, 1], "--", color="#E69F00", label="β̂(t)/β̂(0)")
    ax.axhline(1.0, color="0.5", lw=0.8)
    rel = ab / ab[0]
    ax.set_ylim(min(0.8, float(np.min(rel)) * 0.95), max(1.6, float(np.max(rel)) * 1.05))
    ax.set_xlabel("training time t = ηj")
    ax.set_ylabel("impact relative to t = 0")
    ax.set_title(f"m = {int(round(params['width']))}: |Δθ|/|θ| = {result['dtheta']:.3f}, "
                 f"loss {result['loss']:.3f}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    dE = result["E1"] - result["E0"]
    ax2.imshow(dE, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    ax2.set_title(f"E(T) − E(0), colours ±0.5 (rel. change {result['dkernel']:.3f})", fontsize=9)
    ax2.set_xlabel("sample j (sorted by class)")
    ax2.set_ylabel("sample i (sorted by class)")
    ax2.grid(False)


@site_grid(width=(16, 64, 256, 1024, 4096), train_time=(10.0, 50.0, 100.0, 200.0))
def make_lazy_explorer() -> Explorer:
    """Lazy training (section 8.1): width against the change of the parameters and of the impacts.

    Main control for the static figure: ``width``.
    """
    return Explorer("Lazy training: the impacts freeze as the width grows", LAZY_CONTROLS,
                    lazy_compute, lazy_draw, panels=[{}, {}], panel_size=(4.2, 3.3))
