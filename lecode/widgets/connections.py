"""Explorers of chapter 8 (*Connections*): Euler–Maruyama's error on the LE-SDE; lazy training.

The LE-SDE has *additive* noise (``sigma(t) dB``, independent of the
features), and for additive noise the Euler–Maruyama scheme coincides with
the Milstein scheme: its strong order is 1, not the 1/2 of the general case
(Kloeden & Platen 1992, Higham 2001). The explorer measures the strong error

.. math::

    e(h) = \\E\\,\\big|X_h(T) - X_{\\rm ref}(T)\\big|

of Euler–Maruyama with step ``h`` against a fine reference driven by the *same*
Brownian paths (the fine increments summed over coarse steps), for the LE
drift with additive noise and, as a contrast, with the multiplicative noise
``sigma X dB`` (componentwise) for which the order drops to 1/2.

Public functions
----------------
:func:`strong_errors`
    The coupled Euler–Maruyama experiment (used by the explorer and by the
    chapter's check cells).
:func:`make_explorer`
    The main :class:`~lecode.widgets.Explorer` of the chapter (step size of
    Euler–Maruyama).
:func:`train_two_layer` and helpers
    Gradient descent on the two-layer ReLU network in NTK parameterisation
    :math:`f(x) = A\\,\\mathrm{relu}(Wx)/\\sqrt m` of section 8.1, with the
    relative change of its parameters and of its impacts (lazy training).
:func:`make_lazy_explorer`
    Width against the change of the impacts alpha-hat, beta-hat.
"""

from __future__ import annotations

import numpy as np

from .._validate import (NonFiniteError, as_generator, check_array, check_choice, check_int,
                         check_real)
from ._explorer import Control, Explorer

__all__ = ["NOISE_TYPES", "strong_errors", "make_explorer", "cluster_data", "two_layer_init",
           "two_layer_loss_grad", "two_layer_impacts", "class_alpha_beta", "train_two_layer",
           "make_lazy_explorer"]

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

        X_{m+1} = X_m + h\,b(X_m, t_m) + \sigma(t_m)\,S(X_m)\,\Delta W_m,

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


def make_explorer() -> Explorer:
    """Strong error of Euler–Maruyama on the LE-SDE (chapter 8).

    Controls: noise model (additive = the LE-SDE, multiplicative = contrast),
    sigma, alpha, beta, horizon, number of Brownian paths. Main control for the
    static figure: ``noise``.
    """
    return Explorer("Euler–Maruyama on the LE-SDE: strong error against the step",
                    CONTROLS, compute, draw, panels=[{}, {}], panel_size=(4.2, 3.3))


# --------------------------------------------------------------------------
# lazy training of a wide two-layer network (section 8.1)
# --------------------------------------------------------------------------

def cluster_data(n_classes: int = 3, n_per_class: int = 10, dim: int = 10, spread: float = 0.6,
                 seed=0):
    """K Gaussian clusters projected on the unit sphere of R^dim (inputs with |x| = 1).

    Returns ``X`` (K n, dim) and integer labels ``y`` (K n,), class by class.
    """
    K = check_int("n_classes", n_classes, minimum=2)
    n = check_int("n_per_class", n_per_class, minimum=2)
    d = check_int("dim", dim, minimum=1)
    spread = check_real("spread", spread, minimum=0.0)
    rng = as_generator(seed)
    centres = rng.standard_normal((K, d))
    X = (centres[:, None, :] + spread * rng.standard_normal((K, n, d))).reshape(K * n, d)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.repeat(np.arange(K), n)


def two_layer_init(width: int, dim: int, n_classes: int, seed=None) -> dict:
    """Parameters ``{"W": (m, d), "A": (K, m)}`` of f(x) = A relu(W x)/sqrt(m), entries N(0, 1)."""
    m = check_int("width", width, minimum=1)
    dim = check_int("dim", dim, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    rng = as_generator(seed)
    return {"W": rng.standard_normal((m, dim)), "A": rng.standard_normal((n_classes, m))}


def two_layer_loss_grad(net: dict, X: np.ndarray, y: np.ndarray):
    r"""Mean cross-entropy of :math:`f(x) = A\,\mathrm{relu}(Wx)/\sqrt m`, its gradient, and mean_i |g_i|.

    With :math:`g_i = \mathrm{softmax}(f(x_i)) - e_{y_i}`, the gradient is
    :math:`\frac1N\sum_i J_i^\top g_i`: ``A``-part :math:`G^\top \mathrm{relu}(XW^\top)/\sqrt m`,
    ``W``-part :math:`((G A)\odot \mathbf 1[XW^\top > 0])^\top X/\sqrt m` (G = rows g_i / N).
    Returns ``(loss, grad, gbar)`` with ``grad`` a dict like ``net``.
    """
    m = net["W"].shape[0]
    H = X @ net["W"].T
    act = np.maximum(H, 0.0)
    Z = act @ net["A"].T / np.sqrt(m)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.mean(-np.log(P[rows, y])))
    G = P
    G[rows, y] -= 1.0
    gbar = float(np.linalg.norm(G, axis=1).mean())
    G /= len(y)
    grad = {"A": G.T @ act / np.sqrt(m), "W": ((G @ net["A"]) * (H > 0)).T @ X / np.sqrt(m)}
    return loss, grad, gbar


def two_layer_impacts(net: dict, X: np.ndarray) -> np.ndarray:
    r"""Scalar impacts :math:`\operatorname{tr}\Theta(x_i, x_j)/K` of the two-layer network, (N, N).

    From the closed-form NTK (chapter 8, eq. ch08-eq-ntk):
    :math:`\frac1m\sum_j[\mathrm{relu}(w_j\cdot x)\mathrm{relu}(w_j\cdot x')
    + \frac{|A_{:,j}|^2}{K}\mathbf 1[w_j\cdot x>0]\mathbf 1[w_j\cdot x'>0]\,x\cdot x']`.
    """
    m, K = net["W"].shape[0], net["A"].shape[0]
    H = X @ net["W"].T
    act, D = np.maximum(H, 0.0), (H > 0).astype(float)
    return act @ act.T / m + (X @ X.T) * ((D * (net["A"] ** 2).sum(axis=0)) @ D.T) / (m * K)


def class_alpha_beta(E: np.ndarray, y: np.ndarray):
    """Mean impact over same-class pairs (self-pairs excluded) and over cross-class pairs."""
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    return float(E[same].mean()), float(E[y[:, None] != y[None, :]].mean())


def train_two_layer(X, y, *, width: int, eta: float = 1.0, steps: int = 200, seed=1,
                    record_every: int = 20) -> dict:
    r"""Gradient descent on the two-layer network in NTK parameterisation; what lazy training measures.

    Returns a dict with ``dtheta`` (:math:`\|\theta_S-\theta_0\|/\|\theta_0\|`),
    ``dtheta_unit`` (the largest relative change of one hidden unit,
    :math:`\max_j |\theta_j(S)-\theta_j(0)|/|\theta_j(0)|` with :math:`\theta_j = (w_j, A_{:,j})`),
    ``bound`` (:math:`\exp(\frac{\eta}{\sqrt m}\sum_s \bar g_s) - 1`, proposition ch08-prop-lazy,
    which bounds both),
    ``dkernel`` (relative Frobenius change of the impacts), ``loss`` (final), ``times``
    and ``ab`` (R, 2) (alpha-hat, beta-hat every ``record_every`` steps), ``E0``, ``E1``.
    """
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, shape=(len(X),), dtype=None)
    if y.dtype.kind not in "iu" or y.min() < 0:
        raise ValueError("y must hold non-negative integer class labels, one per row of X")
    if len(np.unique(y)) < 2:
        raise ValueError("y must contain at least 2 classes")
    width = check_int("width", width, minimum=1)
    eta = check_real("eta", eta, minimum=0.0, strict_min=True)
    steps = check_int("steps", steps, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    net = two_layer_init(width, X.shape[1], int(y.max()) + 1, seed)
    start = {k: v.copy() for k, v in net.items()}
    E0 = two_layer_impacts(net, X)
    ab, times, gsum = [class_alpha_beta(E0, y)], [0.0], 0.0
    for s in range(steps):
        _, grad, gbar = two_layer_loss_grad(net, X, y)
        gsum += gbar
        for k in net:
            net[k] -= eta * grad[k]
        if (s + 1) % record_every == 0 or s + 1 == steps:
            ab.append(class_alpha_beta(two_layer_impacts(net, X), y))
            times.append(eta * (s + 1))
    if not all(np.all(np.isfinite(v)) for v in net.values()):
        raise NonFiniteError(f"training diverged at width {width}; lower eta (got {eta})")
    E1 = two_layer_impacts(net, X)

    def norm(d):
        return float(np.sqrt(sum(float((v ** 2).sum()) for v in d.values())))

    def unit_norms(d):          # |theta_j| per hidden unit j: rows of W, columns of A
        return np.sqrt((d["W"] ** 2).sum(axis=1) + (d["A"] ** 2).sum(axis=0))

    unit_change = unit_norms({k: net[k] - start[k] for k in net}) / unit_norms(start)
    return {"dtheta": norm({k: net[k] - start[k] for k in net}) / norm(start),
            "dtheta_unit": float(unit_change.max()),
            "bound": float(np.expm1(eta * gsum / np.sqrt(width))),
            "dkernel": float(np.linalg.norm(E1 - E0) / np.linalg.norm(E0)),
            "loss": two_layer_loss_grad(net, X, y)[0],
            "times": np.array(times), "ab": np.array(ab), "E0": E0, "E1": E1}


LAZY_CONTROLS = (
    Control("width", "width m", 256, 16, 4096, 0.301, kind="log"),
    Control("train_time", "training time ηS", 100.0, 10.0, 200.0, 10.0),
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
    ax.set_xlabel("training time t = ηs")
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


def make_lazy_explorer() -> Explorer:
    """Lazy training (section 8.1): width against the change of the parameters and of the impacts.

    Main control for the static figure: ``width``.
    """
    return Explorer("Lazy training: the impacts freeze as the width grows", LAZY_CONTROLS,
                    lazy_compute, lazy_draw, panels=[{}, {}], panel_size=(4.2, 3.3))
