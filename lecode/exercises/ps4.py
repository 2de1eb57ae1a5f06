"""Answer checks of problem set IV (*Context*, chapter 8; ``problem_sets/part4.ipynb``).

Expected answers are computed by :mod:`lecode` or numerically along routes other
than the solutions' closed forms: the Euler–Maruyama variance by iterating its
moment recursion, the TD threshold by root-finding on the expected update built
from the chain's description, the infinite-width kernel by quadrature over the
direction of the first-layer weights.
"""

from __future__ import annotations

import numpy as np

from ..grade._problems import Answer, Problem, ProblemSet
from . import register, sig, within

PROBLEM_SET = ProblemSet("ps4", "Problem set IV: context", "problem_sets/part4.ipynb", (
    Problem("p1", "Euler–Maruyama on the class offsets", "ps4-ex-em",
            (Answer("ps4-em-variance-ratio", "var_ratio"), Answer("ps4-em-critical-dt", "dt_critical"))),
    Problem("p2", "TD(0) with updates at both states", "ps4-ex-td",
            (Answer("ps4-td-critical", "gamma_c"),)),
    Problem("p3", "Lazy training across widths", "ps4-ex-lazy",
            (Answer("ps4-lazy-exponent", "lazy_exponent"),)),
    Problem("p4", "The infinite-width impact of a ReLU layer", "ps4-ex-ntk-limit",
            (Answer("ps4-ntk-limit", "ntk_limit"),)),
))

#: Problem 1: identity LE-SDE, alpha < beta, step dt.
EM = dict(K=3, alpha=0.5, beta=3.5, dt=0.5)


def _em_variance(dt, theta, q, steps=100000):
    V = 0.0
    for _ in range(steps):
        V = (1 - theta * dt) ** 2 * V + q * dt
    return V


@register("ps4-em-variance-ratio", exercise="ps4-ex-em", precision=sig(3),
          mistakes={"inverse": (lambda r: 1 / r, "that is exact over Euler–Maruyama; the problem asks EM over exact"),
                    "first-order": (lambda r: 1 + (EM["beta"] - EM["alpha"]) / EM["K"] * EM["dt"] / 2,
                                    "that is only the first-order term; the ratio is exact: 2 / (2 - |lambda| dt)")},
          hint="iterate Var_(j+1) = (1 + lambda dt)^2 Var_j + q dt to its fixed point, lambda = (alpha - beta)/K")
def _ratio():
    theta = (EM["beta"] - EM["alpha"]) / EM["K"]
    q = 1.0
    return _em_variance(EM["dt"], theta, q, steps=2000) / (q / (2 * theta))


@register("ps4-em-critical-dt", exercise="ps4-ex-em", precision=sig(3),
          mistakes={"no-K": (lambda d: d / EM["K"], "the offset mode decays at rate |lambda| = (beta - alpha)/K"),
                    "half": (lambda d: d / 2, "|1 + lambda dt| < 1 allows |lambda| dt up to 2, not 1")},
          hint="the scheme multiplies the offset by 1 + lambda dt at each step")
def _critical():
    from scipy.optimize import brentq

    theta = (EM["beta"] - EM["alpha"]) / EM["K"]
    # the largest dt at which the amplification |1 - theta dt| stays below 1
    return brentq(lambda d: abs(1 - theta * d) - 1, 1e-9 + 1 / theta, 100.0 / theta, xtol=1e-14)


#: Problem 2: two states, features phi, state 1 -> 2 -> 2, reward 0; a fraction d of updates at state 2.
TD = dict(phi1=1.0, phi2=2.0, d=0.2)


def _td_rate(gamma):
    phi1, phi2, d = TD["phi1"], TD["phi2"], TD["d"]
    # expected TD(0) update of w per step: sum over the updated state s of P(s) phi(s) (gamma phi(s') - phi(s)) w
    nxt = {1: 2, 2: 2}
    phi = {1: phi1, 2: phi2}
    prob = {1: 1 - d, 2: d}
    return sum(prob[s] * phi[s] * (gamma * phi[nxt[s]] - phi[s]) for s in (1, 2))


@register("ps4-td-critical", exercise="ps4-ex-td", precision=sig(3),
          mistakes={"off-policy-only": (lambda g: TD["phi1"] / TD["phi2"],
                                        "that is the threshold with updates at state 1 only (d = 0)"),
                    "on-policy": (lambda g: 1.0, "with d < 1 TD can diverge below gamma = 1")},
          hint="TD diverges when the expected update (1-d) phi1 (gamma phi2 - phi1) + d phi2 (gamma phi2 - phi2) is positive")
def _td():
    from scipy.optimize import brentq

    return brentq(_td_rate, 0.0, 1.0, xtol=1e-14)


@register("ps4-lazy-exponent", exercise="ps4-ex-lazy", precision=within(0.1),
          mistakes={"kernel-1/m": (lambda e: 2 * e, "the parameters' relative change goes like m^(-1/2), not 1/m"),
                    "sign": (lambda e: -e, "the relative change shrinks as the width grows")},
          hint="fit the slope of log |dtheta|/|theta| against log m")
def _lazy():
    # theory (chapter 8, lazy training): |theta| ~ sqrt(m) while the change needed is O(1)
    return -0.5


#: Problem 4: two unit inputs at angle PI/3 in the plane.
NTK = dict(angle=np.pi / 3)


def _ntk_limit():
    from scipy.integrate import quad

    th = NTK["angle"]
    relu = lambda v: max(v, 0.0)  # noqa: E731
    # w = r (cos f, sin f), N(0, I): E[r^2] over the radial part with density r e^{-r^2/2} is 2
    first = quad(lambda f: relu(np.cos(f)) * relu(np.cos(f - th)), -np.pi, np.pi,
                 points=[-np.pi / 2, np.pi / 2, th - np.pi / 2, th + np.pi / 2], limit=200)[0] * 2 / (2 * np.pi)
    gates = quad(lambda f: float(np.cos(f) > 0 and np.cos(f - th) > 0), -np.pi, np.pi,
                 points=[-np.pi / 2, np.pi / 2, th - np.pi / 2, th + np.pi / 2], limit=200)[0] / (2 * np.pi)
    return first + gates * np.cos(th)


@register("ps4-ntk-limit", exercise="ps4-ex-ntk-limit", precision=sig(3),
          mistakes={"no-gates": (lambda v: v - (np.pi - NTK["angle"]) / (2 * np.pi) * np.cos(NTK["angle"]),
                                 "that is the second layer's part only; the first layer's weights move f too"),
                    "no-relu-part": (lambda v: (np.pi - NTK["angle"]) / (2 * np.pi) * np.cos(NTK["angle"]),
                                     "that is the first layer's part only (the gates); add E[relu relu]"),
                    "no-radius": (lambda v: v - 0.5 * (np.sin(NTK["angle"]) + (np.pi - NTK["angle"])
                                                       * np.cos(NTK["angle"])) / (2 * np.pi),
                                  "E[relu(w.x) relu(w.x')] carries E|w|^2 = 2 for w ~ N(0, I_2)")},
          hint="E[relu(w.x) relu(w.x')] and P(w.x > 0, w.x' > 0) for Gaussian w depend only on the angle")
def _ntk():
    return _ntk_limit()
