"""Answer checks of problem set II (*What the model predicts*, chapters 3–5; ``problem_sets/part2.ipynb``).

The expected answers are computed by :mod:`lecode` along routes other than the
solutions' derivations: integrated impacts by quadrature
(:func:`lecode.exact.integrated_impacts`) and the mode scales of
:func:`lecode.exact.identity_mode_scales`; the offset variance by integrating
its moment equation; the margin law with the self-impact by solving the
LE-ODE of one point per class with :func:`lecode.simulate` at a fine step;
the mode rates by the eigenvalues of the class part of :meth:`LEModel.drift`.
"""

from __future__ import annotations

import numpy as np

from ..grade._problems import Answer, Problem, ProblemSet
from . import register, sig, within

PROBLEM_SET = ProblemSet("ps2", "Problem set II: what the model predicts", "problem_sets/part2.ipynb", (
    Problem("p1", "A decaying gap in the linear LE-ODE", "ps2-ex-decay",
            (Answer("ps2-offset-power", "offset_power"), Answer("ps2-offset-factor", "offset_factor"))),
    Problem("p2", "Noise in the class offsets", "ps2-ex-offsets",
            (Answer("ps2-offset-var", "offset_var"), Answer("ps2-offset-var-limit", "offset_var_limit"))),
    Problem("p3", "The self-impact in the margin law", "ps2-ex-self",
            (Answer("ps2-self-margin", "s_self"),)),
    Problem("p4", "A class-impact matrix with a confusable pair", "ps2-ex-pair",
            (Answer("ps2-pair-rates", "rates"),)),
))

#: Problem 1: identity variant, alpha(t) = beta + c / (1 + t), constant beta.
DECAY = dict(K=3, beta=1.0, c=1.0, t=8.0)


def _decay_alpha(t):
    return DECAY["beta"] + DECAY["c"] / (1.0 + t)


def _offset_factor_at(t: float, K: int) -> float:
    from ..exact import identity_mode_scales, integrated_impacts

    A, B = integrated_impacts(_decay_alpha, DECAY["beta"], np.array([t]))
    return float(np.asarray(identity_mode_scales(A, B, K)[1])[0])


@register("ps2-offset-power", exercise="ps2-ex-decay", precision=sig(3),
          mistakes={"no-1/K": (lambda e: DECAY["c"], "the offsets scale by exp((A - B)/K): divide by K"),
                    "sqrt": (lambda e: 0.5, "1/2 is the exponent of the noise's spread, not of the offsets")},
          hint="A - B = c log(1 + t); the offsets scale by exp((A - B)/K)")
def _power():
    # the slope of log(offset factor) against log(1 + t), from quadratures of alpha - beta
    from ..exact import integrated_impacts

    t = np.array([1.0, 100.0])
    A, B = integrated_impacts(_decay_alpha, DECAY["beta"], t)
    return float(np.diff((A - B) / DECAY["K"])[0] / np.log((1 + t[1]) / (1 + t[0])))


@register("ps2-offset-factor", exercise="ps2-ex-decay", precision=sig(3),
          mistakes={"no-1/K": (lambda e: e ** DECAY["K"], "the offsets scale by exp((A - B)/K), not exp(A - B)"),
                    "constant-gap": (lambda e: float(np.exp(DECAY["c"] * DECAY["t"] / DECAY["K"])),
                                     "alpha - beta decays: integrate it, A - B = c log(1 + t)")},
          hint="the factor is exp((A(t) - B(t)) / K) at t = 8")
def _factor():
    return _offset_factor_at(DECAY["t"], DECAY["K"])


#: Problem 2: identity LE-SDE from X = 0.
OFFSETS = dict(K=3, n=10, sigma=0.5, t=10.0, alpha=1.0, beta=0.4, alpha_lim=0.5, beta_lim=1.5)


def _offset_variance(alpha, beta, t):
    """Var of one coordinate of a class offset, by integrating dV/dt = 2 lam V + q (RK4, fine step)."""
    K, n, sigma = OFFSETS["K"], OFFSETS["n"], OFFSETS["sigma"]
    lam = (alpha - beta) / K
    q = sigma ** 2 / n * (1 - 1 / K)
    steps = 20000
    h = t / steps
    V = 0.0
    f = lambda v: 2 * lam * v + q  # noqa: E731
    for _ in range(steps):
        k1 = f(V)
        k2 = f(V + h / 2 * k1)
        k3 = f(V + h / 2 * k2)
        k4 = f(V + h * k3)
        V += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return V


@register("ps2-offset-var", exercise="ps2-ex-offsets", precision=sig(3),
          mistakes={"no-(1-1/K)": (lambda v: v / (1 - 1 / OFFSETS["K"]),
                                   "an offset is m_k minus the global mean: its noise has variance (1 - 1/K) sigma^2/n"),
                    "no-1/n": (lambda v: v * OFFSETS["n"], "a class mean averages n Brownian motions: sigma^2 / n"),
                    "no-1/K-rate": (lambda v: _offset_variance(OFFSETS["K"] * OFFSETS["alpha"],
                                                               OFFSETS["K"] * OFFSETS["beta"], OFFSETS["t"]),
                                    "the offset mode grows at rate (alpha - beta)/K")},
          hint="the offset obeys dc = lam c dt + noise with lam = (alpha - beta)/K; solve the variance equation")
def _var():
    return _offset_variance(OFFSETS["alpha"], OFFSETS["beta"], OFFSETS["t"])


@register("ps2-offset-var-limit", exercise="ps2-ex-offsets", precision=sig(3),
          mistakes={"no-(1-1/K)": (lambda v: v / (1 - 1 / OFFSETS["K"]),
                                   "an offset is m_k minus the global mean: its noise has variance (1 - 1/K) sigma^2/n"),
                    "no-2": (lambda v: 2 * v, "the stationary variance of dV/dt = 2 lam V + q is q / (2 |lam|)")},
          hint="for alpha < beta the offset is an Ornstein-Uhlenbeck process; take t to infinity")
def _var_limit():
    # long after the start (|lam| t = 67) the variance has converged to its limit to machine precision
    return _offset_variance(OFFSETS["alpha_lim"], OFFSETS["beta_lim"], 200.0)


#: Problem 3: a self-impact gamma at alpha = beta.
SELF = dict(K=3, n=4, alpha=1.0, beta=1.0, gamma=1.0, t=20.0)


@register("ps2-self-margin", exercise="ps2-ex-self", precision=sig(3),
          mistakes={"no-1/n": (lambda s: _margin_with_gap(SELF["alpha"] - SELF["beta"] + SELF["gamma"]),
                               "the self term enters the drift as gamma/(K n), not gamma/K"),
                    "no-self": (lambda s: 0.0, "with gamma > 0 the margin grows even at alpha = beta")},
          hint="with collapsed classes the self term adds gamma/n to the gap alpha - beta in the margin law")
def _self_margin():
    from ..model import LEModel
    from ..simulate import simulate

    K, n = SELF["K"], SELF["n"]
    m = LEModel(K, n, alpha=SELF["alpha"], beta=SELF["beta"], gamma=SELF["gamma"])
    # Euler's method converges at order 1: extrapolate two steps (Richardson)
    ends = []
    for dt in (2e-3, 1e-3):
        tr = simulate(m, SELF["t"], dt=dt, method="ode", x0=np.zeros((K, n, K)), n_saves=2)
        X = tr.features[0, -1]
        U = np.eye(K) - 1.0 / K
        ends.append(float(np.einsum("kip,kp->", X, U) / (K * n) / ((K - 1) / K)))
    return 2 * ends[1] - ends[0]


def _margin_with_gap(gap):
    from ..exact import ce_margin_from_gap

    return float(ce_margin_from_gap(np.array([gap * SELF["t"]]), n_classes=SELF["K"])[0])


#: Problem 4: the class-impact matrix (classes 0 and 1 confusable).
PAIR = dict(alpha=1.0, beta=0.3, beta_pair=1.2)


def pair_matrix() -> np.ndarray:
    """The 3x3 class-impact matrix of problem 4 (shared with the notebook)."""
    a, b, bp = PAIR["alpha"], PAIR["beta"], PAIR["beta_pair"]
    E = np.full((3, 3), b) + (a - b) * np.eye(3)
    E[0, 1] = E[1, 0] = bp
    return E


@register("ps2-pair-rates", exercise="ps2-ex-pair", precision=sig(3),
          mistakes={"no-1/K": (lambda r: 3 * r, "the drift carries 1/K: the rates are the eigenvalues of E / K"),
                    "sign": (lambda r: -r[::-1], "for the identity variant -grad = x: the class means grow along E")},
          hint="for the identity variant dm/dt = (1/K) E m; the rates are the eigenvalues of E/K, sorted")
def _rates():
    from ..model import LEModel

    E = pair_matrix()
    model = LEModel(3, 1, impact_matrix=E, gradient="identity")
    # the class part of the drift is linear in the class means: build its matrix column by column
    M = np.empty((3, 3))
    for j in range(3):
        X = np.zeros((3, 1, 3))
        X[j, 0, 0] = 1.0
        M[:, j] = model.drift(X)[:, 0, 0]
    return np.sort(np.linalg.eigvals(M).real)
