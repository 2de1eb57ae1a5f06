r"""Explorer of chapter 2: feature-SGD against the LE-SDE as the learning rate shrinks.

Both start from the same deterministic state (every feature at the origin of
the logit space) with the cross-entropy gradient, K = 3 classes and constant
impacts alpha, beta. Feature-SGD runs with learning rate ``lr`` (time
t = lr * steps); the LE-SDE runs by Euler–Maruyama with the noise level sigma that matches the class-mean variance of SGD at the
initial state (:func:`lecode.simulate.sgd_noise_sigma`, sigma^2 of order lr)
and the step min(lr, 0.02).
The LE-ODE (sigma = 0) is the common limit as lr -> 0.

Two class-mean statistics are recorded at the horizon T:

* ``y0`` -- the coordinate of the class-0 mean along its own vertex direction,
  :math:`y_0 = u_0\cdot\bar X_0/|u_0|^2`; SGD and the matched SDE both give it
  a spread of order :math:`\sqrt{\eta}`, but not the same one (close at
  T = 2 for the default impacts, far apart when beta > alpha);
* ``s`` -- the symmetric margin :math:`s = \frac1K\sum_k y_k`; the SGD noise is
  (nearly) blind to it, the isotropic LE-SDE noise is not.

Matching sigma equalises the *trace* of the two class-mean noise covariances
at the initial state, not the covariances themselves, so the two dynamics
give different spreads in general; :func:`limit_variances` computes, for
each, the variance per unit learning rate that the small-lr limit predicts
(the linear-noise approximation of chapter 2), and the explorer shows the
predicted standard deviations next to the measured ones.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validate import check_int, check_real
from ..exact import ce_symmetric_margin, projected_coordinates
from ..model import LEModel
from ..plots import class_colors
from ..simulate import sgd_noise_sigma, simulate
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["make_explorer", "compute", "draw", "vertex_coordinates", "limit_variances", "K",
           "N_PER_CLASS", "T_END"]

#: Fixed settings of the explorer (the chapter states them).
K = 3
N_PER_CLASS = 2
T_END = 2.0
N_TRIALS = 200
SDE_DT = 0.02
N_SAVES = 21

CONTROLS = (
    Control("lr", "learning rate η", 0.02, 0.004, 0.1, 0.1, kind="log"),
    Control("alpha", "same-class impact α", 2.0, 0.0, 4.0, 0.1),
    Control("beta", "cross-class impact β", 0.5, 0.0, 4.0, 0.1),
)


#: Coordinates y_k = u_k . mu_k / |u_k|^2 of class means (..., K, K) -> (..., K); the same
#: function as :func:`lecode.exact.projected_coordinates` (chapter 3), under this chapter's name.
vertex_coordinates = projected_coordinates


def _impact_matrix(alpha: float, beta: float) -> np.ndarray:
    E = np.full((K, K), beta)
    np.fill_diagonal(E, alpha)
    return E


def limit_variances(alpha: float = 2.0, beta: float = 0.5, *, t_end: float = T_END,
                    n_points: int = N_SAVES, steps_per_point: int = 2) -> dict:
    r"""Small-lr variances of :math:`y_0(t)` and :math:`s(t)`, per unit lr, for both dynamics.

    Linear-noise approximation (chapter 2, proposition "Diffusion scaling"
    (ii)): around the LE-ODE path :math:`m(t)` of the class means (started at
    the origin), the covariance of :math:`(ar X(t) - m(t))/\sqrt{\eta}`
    tends to the solution of the Lyapunov equation

    .. math::

        \dot\Sigma = J\Sigma + \Sigma J^	op + D, \qquad \Sigma(0) = 0,

    with :math:`J_{kj} = -	frac{1}{K}E_{kj}H(m_j)` the Jacobian of the
    class-mean drift (:math:`H(x) = \mathrm{diag}(q) - qq^	op`,
    :math:`q = \mathrm{softmax}(x)`, the Hessian of the cross-entropy) and
    :math:`D` the class-mean diffusion per unit lr: the step covariance
    :math:`C(m)` of feature-SGD, or :math:`(\sigma^2/\eta)\,I/n` for the
    LE-SDE with sigma matched at the origin
    (:func:`lecode.simulate.sgd_noise_sigma`). Integrated by the classical
    Runge-Kutta method, ``steps_per_point`` steps between output times.

    Returns
    -------
    dict
        ``times`` (n_points,), the LE-ODE statistics ``ode_y0``, ``ode_s`` and
        the variances per unit lr ``var_y0_sgd``, ``var_y0_sde``,
        ``var_s_sgd``, ``var_s_sde`` (so that the standard deviation at
        learning rate lr is about ``sqrt(lr * var)``), and the matched
        ``sigma2_per_lr`` = sigma^2 / lr.
    """
    alpha = check_real("alpha", alpha, minimum=0.0)
    beta = check_real("beta", beta, minimum=0.0)
    t_end = check_real("t_end", t_end, minimum=0.0, strict_min=True)
    n_points = check_int("n_points", n_points, minimum=2)
    steps_per_point = check_int("steps_per_point", steps_per_point, minimum=1)
    E = _impact_matrix(alpha, beta)
    eye = np.eye(K)
    sigma2 = sgd_noise_sigma(LEModel(K, N_PER_CLASS, alpha=alpha, beta=beta, gradient="ce"), 1.0) ** 2
    D_sde = sigma2 / N_PER_CLASS * np.eye(K * K)

    def rhs(state):
        M, S_sgd, S_sde = state
        q = np.exp(M - M.max(axis=-1, keepdims=True))
        q /= q.sum(axis=-1, keepdims=True)
        g = q - eye                                             # gradients at the class means
        H = q[:, :, None] * eye - q[:, :, None] * q[:, None, :]   # (K, p, p) Hessians
        J = (-E[:, None, :, None] / K * H.transpose(1, 0, 2)[None]).reshape(K * K, K * K)
        V = E[:, :, None] * g[None, :, :]                       # V[k, k'] = E_kk' g_k'
        drift = -V.mean(axis=1)                                 # (K, p)
        C = (np.einsum("kjp,ljq->kplq", V, V) / K
             - np.einsum("kp,lq->kplq", drift, drift)).reshape(K * K, K * K)
        return (drift, J @ S_sgd + S_sgd @ J.T + C, J @ S_sde + S_sde @ J.T + D_sde)

    h = t_end / ((n_points - 1) * steps_per_point)
    state = (np.zeros((K, K)), np.zeros((K * K, K * K)), np.zeros((K * K, K * K)))
    saved = [state]
    for _ in range(n_points - 1):
        for _ in range(steps_per_point):
            k1 = rhs(state)
            k2 = rhs(tuple(x + 0.5 * h * d for x, d in zip(state, k1)))
            k3 = rhs(tuple(x + 0.5 * h * d for x, d in zip(state, k2)))
            k4 = rhs(tuple(x + h * d for x, d in zip(state, k3)))
            state = tuple(x + h / 6 * (a + 2 * b + 2 * c + d)
                          for x, a, b, c, d in zip(state, k1, k2, k3, k4))
        saved.append(state)
    U = eye - 1.0 / K
    w_y0 = np.zeros((K, K))
    w_y0[0] = U[0] * K / (K - 1)                                # y_0 = u_0 . m_0 / |u_0|^2
    w_s = U / (K - 1)                                           # s = (1/K) sum_k u_k . m_k / |u_k|^2
    w_y0, w_s = w_y0.ravel(), w_s.ravel()
    quad = lambda w, S: float(w @ S @ w)
    return {
        "times": np.linspace(0.0, t_end, n_points),
        "ode_y0": np.array([vertex_coordinates(st[0])[0] for st in saved]),
        "ode_s": np.array([vertex_coordinates(st[0]).mean() for st in saved]),
        "var_y0_sgd": np.array([quad(w_y0, st[1]) for st in saved]),
        "var_y0_sde": np.array([quad(w_y0, st[2]) for st in saved]),
        "var_s_sgd": np.array([quad(w_s, st[1]) for st in saved]),
        "var_s_sde": np.array([quad(w_s, st[2]) for st in saved]),
        "sigma2_per_lr": sigma2,
    }


@functools.lru_cache(maxsize=128)
def _limit_at_T(alpha: float, beta: float) -> tuple[float, float, float]:
    """Var(y0)/lr (SGD, SDE) and Var(s)/lr (SDE) at T_END; cached, since moving the lr slider reuses them."""
    r = limit_variances(alpha, beta, n_points=2, steps_per_point=40)
    return float(r["var_y0_sgd"][-1]), float(r["var_y0_sde"][-1]), float(r["var_s_sde"][-1])


def compute(lr: float = 0.02, alpha: float = 2.0, beta: float = 0.5, *, n_trials: int = N_TRIALS,
            seed: int = 0) -> dict:
    """Run feature-SGD (``lr``) and the matched LE-SDE, solve the LE-ODE; return class-mean statistics.

    Returns a dict with ``times`` (S,) (those of the LE-ODE and the LE-SDE),
    ``sgd_times`` (S,) (the save times of feature-SGD, whole numbers of
    steps, within lr/2 of ``times``), the LE-ODE paths ``ode_y0`` (S,) and
    ``ode_s`` (S,) (equal: from the origin the LE-ODE is the symmetric
    margin law :func:`lecode.exact.ce_symmetric_margin`), per-trial paths ``sgd_y0``/``sde_y0`` (n_trials, S), the
    final statistics ``sgd_y0_T``, ``sde_y0_T``, ``sgd_s_T``, ``sde_s_T``
    (n_trials,), the matched ``sigma``, and the standard deviations at T
    that the small-lr limit predicts (:func:`limit_variances`):
    ``limit_sd_y0_sgd``, ``limit_sd_y0_sde``, ``limit_sd_s_sde`` (for
    feature-SGD the first-order prediction for s is 0).
    """
    lr = check_real("lr", lr, minimum=CONTROLS[0].minimum, maximum=CONTROLS[0].maximum)
    alpha = check_real("alpha", alpha, minimum=0.0, maximum=CONTROLS[1].maximum)
    beta = check_real("beta", beta, minimum=0.0, maximum=CONTROLS[2].maximum)
    n_trials = check_int("n_trials", n_trials, minimum=2)
    model = LEModel(K, N_PER_CLASS, alpha=alpha, beta=beta, gradient="ce")
    x0 = np.zeros((K, 1, K))
    sigma = sgd_noise_sigma(model, lr, x=np.zeros((K, N_PER_CLASS, K)))
    ss = np.random.SeedSequence(seed).spawn(2)
    sgd = simulate(model, T_END, method="sgd", lr=lr, x0=x0, n_trials=n_trials, n_saves=N_SAVES,
                   seed=np.random.default_rng(ss[0]))
    sde = simulate(model.replace(sigma=sigma), T_END, dt=min(lr, SDE_DT), method="sde", x0=x0,
                   n_trials=n_trials, n_saves=N_SAVES, seed=np.random.default_rng(ss[1]))
    y_sgd = vertex_coordinates(sgd.class_means())        # (trials, S, K)
    y_sde = vertex_coordinates(sde.class_means())
    # From the origin the LE-ODE stays symmetric, X_k = s(t) u_k, so y_k = s(t) for every k:
    # the closed-form margin law of chapter 4 (what an Euler LE-ODE run converges to).
    margin = ce_symmetric_margin(sde.times, alpha=alpha, beta=beta, n_classes=K)
    var_y0_sgd, var_y0_sde, var_s_sde = _limit_at_T(alpha, beta)
    return {
        "times": sde.times,
        "sgd_times": sgd.times,
        "limit_sd_y0_sgd": float(np.sqrt(lr * var_y0_sgd)),
        "limit_sd_y0_sde": float(np.sqrt(lr * var_y0_sde)),
        "limit_sd_s_sde": float(np.sqrt(lr * var_s_sde)),
        "ode_y0": margin,
        "ode_s": margin.copy(),
        "sgd_y0": y_sgd[..., 0],
        "sde_y0": y_sde[..., 0],
        "sgd_y0_T": y_sgd[:, -1, 0],
        "sde_y0_T": y_sde[:, -1, 0],
        "sgd_s_T": y_sgd[:, -1].mean(axis=-1),
        "sde_s_T": y_sde[:, -1].mean(axis=-1),
        "sigma": sigma,
        "lr": lr,
    }


def _band(ax, t, paths, color, label):
    lo, mid, hi = np.percentile(paths, [5, 50, 95], axis=0)
    ax.fill_between(t, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(t, mid, color=color, lw=1.2, label=label)


def _hist(ax, a, b, ref, xlabel):
    lo = min(a.min(), b.min(), ref)
    hi = max(a.max(), b.max(), ref)
    pad = 0.05 * (hi - lo) + 1e-3
    bins = np.linspace(lo - pad, hi + pad, 31)
    c = class_colors(2)
    ax.hist(a, bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=c[0], label="feature-SGD")
    ax.hist(b, bins=bins, density=True, histtype="step", lw=1.5, color=c[1], label="LE-SDE")
    ax.axvline(ref, color="k", lw=1.2, label="LE-ODE")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_yticks([])          # the shapes matter, not the density values (and fewer labels render faster)


def draw(result: dict, axes, params: dict) -> None:
    """Three panels: y0(t) bands, the law of y0(T), the law of the symmetric margin s(T)."""
    c = class_colors(2)
    t = result["times"]
    ax = axes[0]
    _band(ax, result["sgd_times"], result["sgd_y0"], c[0], "feature-SGD (5–95%)")
    _band(ax, t, result["sde_y0"], c[1], "LE-SDE (5–95%)")
    ax.plot(t, result["ode_y0"], color="k", lw=1.2, ls="--", label="LE-ODE")
    ax.set_xlabel("time t = η·steps")
    ax.set_ylabel("class-0 mean along u₀, y₀(t)")
    ax.set_title(f"η = {result['lr']:.3g}, matched σ = {result['sigma']:.3f}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    _hist(axes[1], result["sgd_y0_T"], result["sde_y0_T"], result["ode_y0"][-1], f"y₀(T), T = {T_END:g}")
    axes[1].set_title(f"sd: SGD {result['sgd_y0_T'].std():.3f}, SDE {result['sde_y0_T'].std():.3f}\n"
                      f"small-η limit: SGD {result['limit_sd_y0_sgd']:.3f}, SDE {result['limit_sd_y0_sde']:.3f}",
                      fontsize=8)
    axes[1].legend(fontsize=7)
    _hist(axes[2], result["sgd_s_T"], result["sde_s_T"], result["ode_s"][-1],
          f"symmetric margin s(T), T = {T_END:g}")
    axes[2].set_title(f"sd: SGD {result['sgd_s_T'].std():.4f}, SDE {result['sde_s_T'].std():.3f}\n"
                      f"small-η limit: SGD 0 (first order), SDE {result['limit_sd_s_sde']:.3f}",
                      fontsize=8)


def _inner_ticks():
    """Tick locator for the histograms' x axes: steps of 1, 2 or 5 times a power of ten, keeping
    only ticks at least 6 % of the view inside either edge. A label centred on such a tick stays
    within its panel (a label is about 4 % of a panel wide), wherever the data put the view's
    edges; pruning the outermost located ticks, as before, still let a tick sit on the edge."""
    from matplotlib.ticker import MaxNLocator

    class InnerTicks(MaxNLocator):
        def tick_values(self, vmin, vmax):
            ticks = super().tick_values(vmin, vmax)
            low, high = min(vmin, vmax), max(vmin, vmax)
            pad = 0.06 * (high - low)
            return ticks[(ticks >= low + pad) & (ticks <= high - pad)]

    return InnerTicks(nbins=5, steps=[1, 2, 5, 10])


def style(ax, j: int) -> None:
    """Fixed styling. Panel 0's y ticks step by 1, 2 or 5 times a power of ten, never 2.5:
    moving the learning rate then keeps one decimal on its tick labels ("0.2", not "0.25"),
    so their width, and the layout, stay as they are (a wider label forces a relayout,
    which costs a second render). The histograms keep their x ticks away from the panel's
    edges (:func:`_inner_ticks`), where a label would reach into the next panel."""
    from matplotlib.ticker import MaxNLocator

    if j == 0:
        ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10]))
    else:
        ax.xaxis.set_major_locator(_inner_ticks())


@site_grid(lr=(0.004, 0.007, 0.01, 0.02, 0.04, 0.07, 0.1))
def make_explorer() -> Explorer:
    """The chapter-2 explorer: learning rate, α, β → feature-SGD vs LE-SDE vs LE-ODE."""
    return Explorer("Feature-SGD against the LE-SDE (K = 3, cross-entropy, class means)",
                    CONTROLS, compute, draw, panels=[{}, {}, {}], panel_size=(3.6, 3.0), style=style)
