r"""Explorer of chapter 3: the modes of the linear LE-ODE against their closed forms.

For the ``identity`` variant the two modes are the global mean of the class
means (scale :math:`e^{(A+(K-1)B)/K}`) and the class offsets (scale
:math:`e^{(A-B)/K}`); for the ``projected`` variant, in the coordinates
:math:`y_k = u_k\cdot\bar X_k/|u_k|^2`, the equal-y mode (scale
:math:`e^{(A-B)/K}`) and the contrast modes :math:`\sum_k y_k = 0` (scale
:math:`e^{(A+B/(K-1))/K}`), with :math:`A=\int_0^t\alpha`, :math:`B=\int_0^t\beta`
(:mod:`lecode.exact`).

The left panel plots the logarithm of each mode's amplitude along a
simulation of the LE-ODE (markers) and the closed form (lines). The right
panel estimates :math:`\alpha(t)` and :math:`\beta(t)` back from the class
means of a *noisy* LE-SDE run (n samples per class with noise sigma, simulated
through its exact class-mean equation: one point per class with noise
sigma/sqrt(n); :func:`lecode.exact.estimate_AB_identity` /
:func:`~lecode.exact.estimate_AB_projected` followed by
:func:`~lecode.exact.impacts_from_AB`) and compares them with the truth.
"""

from __future__ import annotations

import numpy as np

from .. import exact
from .._validate import check_choice, check_int, check_real
from ..model import LEModel
from ..plots import class_colors
from ..simulate import simulate
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = ["make_explorer", "compute", "draw", "schedules", "mode_amplitudes", "T_END"]

T_END = 4.0
N_SAVES = 41
ODE_DT = 0.005
SDE_DT = 0.02
N_NOISY = 50          # samples per class of the noisy run
SIGMA = 0.1           # its noise level
WINDOW = 7            # points per local slope in impacts_from_AB

SCHEDULES = ("constant", "decaying", "oscillating")

CONTROLS = (
    Control("alpha", "same-class impact α", 1.5, 0.0, 3.0, 0.1),
    Control("beta", "cross-class impact β", 0.5, 0.0, 3.0, 0.1),
    Control("K", "classes K", 3, 2, 8, 1, kind="int"),
    Control("variant", "gradient variant", "identity", kind="choice", options=("identity", "projected")),
    Control("schedule", "impact schedule", "constant", kind="choice", options=SCHEDULES),
)


def schedules(alpha: float, beta: float, schedule: str):
    r"""The impact functions :math:`\alpha(t), \beta(t)` of the explorer.

    ``constant``: :math:`\alpha, \beta`; ``decaying``: both divided by
    :math:`1+t`; ``oscillating``: multiplied by :math:`1+\tfrac12\sin(2t)` and
    :math:`1-\tfrac12\sin(2t)` respectively.
    """
    alpha = check_real("alpha", alpha)
    beta = check_real("beta", beta)
    check_choice("schedule", schedule, SCHEDULES)
    if schedule == "constant":
        return alpha, beta
    if schedule == "decaying":
        return (lambda t: alpha / (1.0 + t)), (lambda t: beta / (1.0 + t))
    return (lambda t: alpha * (1.0 + 0.5 * np.sin(2.0 * t))), (lambda t: beta * (1.0 - 0.5 * np.sin(2.0 * t)))


def mode_amplitudes(class_means: np.ndarray, variant: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Amplitudes of the two modes of class means (..., K, K).

    ``identity``: (|global mean|, ||offsets||_F); ``projected``:
    (|mean of y|, ||y - mean(y)||).
    """
    check_choice("variant", variant, ("identity", "projected"))
    M = np.asarray(class_means, dtype=float)
    if variant == "identity":
        g = M.mean(axis=-2)
        return np.linalg.norm(g, axis=-1), np.linalg.norm(M - g[..., None, :], axis=(-2, -1))
    y = exact.projected_coordinates(M)
    yb = y.mean(axis=-1)
    return np.abs(yb), np.linalg.norm(y - yb[..., None], axis=-1)


def _initial_class_means(K: int, seed: int) -> np.ndarray:
    """Seeded initial class means (K, K) with all modes clearly non-zero."""
    rng = np.random.default_rng(seed)
    x0 = 0.3 * rng.standard_normal((K, K))
    x0 += 0.5 * np.eye(K)          # a common push along the own vertex: equal-y mode > 0
    x0 += 0.4                      # a global mean away from 0 (identity variant)
    return x0


def compute(alpha: float = 1.5, beta: float = 0.5, K: int = 3, variant: str = "identity",
            schedule: str = "constant", *, seed: int = 0) -> dict:
    """Simulate the linear LE-ODE and a noisy LE-SDE; return mode amplitudes and estimated impacts.

    Returns a dict with ``times`` (S,), simulated log-amplitudes ``log_mode1``
    and ``log_mode2`` (relative to t = 0), their closed forms ``exact_mode1``,
    ``exact_mode2``, the true impacts ``alpha_t``, ``beta_t``, the estimates
    ``alpha_hat``, ``beta_hat`` from the noisy run (NaN, with the reason in
    ``ill_posed``, when a mode of the noisy run changes sign so that no linear
    LE-ODE fits it), and ``names`` of the modes.
    """
    alpha = check_real("alpha", alpha, minimum=CONTROLS[0].minimum, maximum=CONTROLS[0].maximum)
    beta = check_real("beta", beta, minimum=CONTROLS[1].minimum, maximum=CONTROLS[1].maximum)
    K = check_int("K", K, minimum=int(CONTROLS[2].minimum), maximum=int(CONTROLS[2].maximum))
    check_choice("variant", variant, ("identity", "projected"))
    a_fun, b_fun = schedules(alpha, beta, schedule)
    x0 = _initial_class_means(K, seed)
    model = LEModel(K, 1, alpha=a_fun, beta=b_fun, gradient=variant)
    ode = simulate(model, T_END, dt=ODE_DT, method="ode", x0=x0[:, None, :], n_saves=N_SAVES)
    t = ode.times
    m1, m2 = mode_amplitudes(ode.class_means()[0], variant)
    A, B = exact.integrated_impacts(a_fun, b_fun, t)
    if variant == "identity":
        e1, e2 = (A + (K - 1) * B) / K, (A - B) / K
        names = (r"global mean, $(A+(K-1)B)/K$", r"class offsets, $(A-B)/K$")
    else:
        e1, e2 = (A - B) / K, (A + B / (K - 1)) / K
        names = (r"equal-$y$ mode, $(A-B)/K$", r"contrast modes, $(A+B/(K-1))/K$")

    # For the linear variants the class means of the LE-SDE with n samples and noise sigma
    # follow exactly the LE-SDE of one point per class with noise sigma / sqrt(n)
    # (chapter 2): simulate that, n times cheaper.
    noisy_model = LEModel(K, 1, alpha=a_fun, beta=b_fun, gradient=variant,
                          sigma=SIGMA / np.sqrt(N_NOISY))
    sde = simulate(noisy_model, T_END, dt=SDE_DT, method="sde", x0=x0[:, None, :],
                   n_saves=N_SAVES, seed=seed)
    cm = sde.class_means()[0]
    estimate = exact.estimate_AB_identity if variant == "identity" else exact.estimate_AB_projected
    try:
        A_hat, B_hat = estimate(t, cm)
        alpha_hat, beta_hat = exact.impacts_from_AB(t, A_hat, B_hat, window=WINDOW)
        ill_posed = ""
    except ValueError as exc:
        # A mode of the noisy run crossed zero (e.g. alpha << beta, projected variant):
        # a linear LE-ODE only scales its modes, so no (A, B) fits; say so instead of
        # showing meaningless numbers.
        A_hat = B_hat = alpha_hat = beta_hat = np.full_like(t, np.nan)
        ill_posed = str(exc)
    E_t = np.array([model.impacts(s) for s in t])          # (S, K, K): alpha on the diagonal
    alpha_t, beta_t = E_t[:, 0, 0], E_t[:, 0, 1]
    return {
        "times": t,
        "log_mode1": np.log(m1 / m1[0]),
        "log_mode2": np.log(m2 / m2[0]),
        "exact_mode1": e1,
        "exact_mode2": e2,
        "names": names,
        "A": A, "B": B, "A_hat": A_hat, "B_hat": B_hat,
        "alpha_t": alpha_t, "beta_t": beta_t,
        "alpha_hat": alpha_hat, "beta_hat": beta_hat, "ill_posed": ill_posed,
        "K": K, "variant": variant,
    }


def draw(result: dict, axes, params: dict) -> None:
    """Left: log mode amplitudes (markers: simulation; lines: closed form). Right: impacts recovered."""
    c = class_colors(4)
    t = result["times"]
    ax = axes[0]
    for key_sim, key_exact, name, col in (("log_mode1", "exact_mode1", result["names"][0], c[0]),
                                          ("log_mode2", "exact_mode2", result["names"][1], c[1])):
        ax.plot(t, result[key_exact], color=col, lw=1.5, label=name)
        ax.plot(t[::4], result[key_sim][::4], "o", color=col, ms=4, mfc="none")
    ax.set_xlabel("time t")
    ax.set_ylabel("log(amplitude / amplitude at t = 0)")
    ax.set_title(f"{result['variant']}, K = {result['K']}, α = {params['alpha']:g}, β = {params['beta']:g}"
                 f" ({params['schedule']})\n○ simulated LE-ODE, — closed form", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1]
    ax.plot(t, result["alpha_t"], color=c[2], lw=1.5, label="α(t) true")
    ax.plot(t, result["beta_t"], color=c[3], lw=1.5, label="β(t) true")
    if result["ill_posed"]:
        ax.text(0.5, 0.55, "no estimate: a mode of the noisy run\nchanges sign, so no linear LE-ODE fits it",
                transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3")
    else:
        ax.plot(t, result["alpha_hat"], "--", color=c[2], lw=1.2, label="α̂(t) from noisy class means")
        ax.plot(t, result["beta_hat"], "--", color=c[3], lw=1.2, label="β̂(t) from noisy class means")
    top = max(result["alpha_t"].max(), result["beta_t"].max())
    ax.set_ylim(0.0, 1.6 * top + 0.2)
    ax.set_xlabel("time t")
    ax.set_ylabel("impact")
    ax.set_title(f"estimated from an LE-SDE run (σ = {SIGMA:g}, n = {N_NOISY})", fontsize=9)
    ax.legend(fontsize=7, loc="upper right", ncol=2)


@site_grid(beta=(0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0), alpha=(0.5, 1.5, 3.0))
def make_explorer() -> Explorer:
    """The chapter-3 explorer: α, β, K, variant, schedule → modes against closed forms, impacts recovered."""
    return Explorer("Modes of the linear LE-ODE and the impacts recovered from them",
                    CONTROLS, compute, draw, panels=[{}, {}], panel_size=(4.4, 3.3))
