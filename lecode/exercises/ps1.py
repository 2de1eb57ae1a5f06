"""Answer checks of problem set I (*From networks to SDEs*, chapters 1–2; ``problem_sets/part1.ipynb``).

Every expected answer is computed by :mod:`lecode` along a route other than the
derivation the solution shows: the matched noise by :func:`lecode.sgd_noise_sigma`
at the given state, the margin by :func:`lecode.exact.ce_symmetric_margin`, the
impact of a deep linear network from its parameter Jacobian by central
differences, the model time by summing the learning rates.
"""

from __future__ import annotations

import numpy as np

from ..grade._problems import Answer, Problem, ProblemSet
from . import register, sig, within

PROBLEM_SET = ProblemSet("ps1", "Problem set I: from networks to SDEs", "problem_sets/part1.ipynb", (
    Problem("p1", "Noise that fades with the gradient", "ps1-ex-noise",
            (Answer("ps1-sigma-s2", "sigma_s2"), Answer("ps1-sigma-tenth", "s_tenth"))),
    Problem("p2", "The square-root law of the fluctuations", "ps1-ex-sqrt",
            (Answer("ps1-ode-margin", "s_ode"), Answer("ps1-sqrt-exponent", "exponent"))),
    Problem("p3", "The impact of a deep linear network", "ps1-ex-linear-ntk",
            (Answer("ps1-linear-ntk", "impact"),)),
    Problem("p4", "Model time is the sum of the learning rates", "ps1-ex-schedule",
            (Answer("ps1-schedule-time", "t_end"), Answer("ps1-schedule-margin", "s_sched"))),
))

# --------------------------------------------------------------------------- problem 1

#: The setting of problem 1: K, n, alpha, beta, learning rate, and the margin asked about.
NOISE = dict(K=3, n=5, alpha=2.0, beta=0.5, lr=0.01, s=2.0)


def _sigma_at(s: float) -> float:
    from ..model import LEModel
    from ..simulate import sgd_noise_sigma

    K, n = NOISE["K"], NOISE["n"]
    U = np.eye(K) - 1.0 / K
    X = np.repeat((s * U)[:, None, :], n, axis=1)
    model = LEModel(K, n, alpha=NOISE["alpha"], beta=NOISE["beta"], gradient="ce")
    return sgd_noise_sigma(model, NOISE["lr"], x=X)


@register("ps1-sigma-s2", exercise="ps1-ex-noise", precision=sig(3),
          mistakes={"variance": (lambda t: t ** 2, "that is sigma squared; the problem asks for sigma"),
                    "no-fade": (lambda t: _sigma_at(0.0), "that is the noise at the origin: the gradients "
                                "at X_k = s u_k are smaller, and sigma scales with them"),
                    "exp-only": (lambda t: _sigma_at(0.0) * np.exp(-NOISE["s"]),
                                 "the factor is K / (e^s + K - 1), not e^(-s)"),
                    "c-squared": (lambda t: t ** 2 / _sigma_at(0.0),
                                  "the covariances scale by c(s)^2, so sigma itself scales by c(s), not c(s)^2")},
          hint="at X_k = s u_k every gradient is a multiple of u_k; find the multiple")
def _sigma_s2():
    return _sigma_at(NOISE["s"])


def _s_tenth() -> float:
    from scipy.optimize import brentq

    target = _sigma_at(0.0) / 10.0
    return brentq(lambda s: _sigma_at(s) - target, 0.0, 20.0, xtol=1e-12)


@register("ps1-sigma-tenth", exercise="ps1-ex-noise", precision=sig(3),
          mistakes={"no-K": (lambda t: np.log(10.0), "K / (e^s + K - 1) = 1/10 is not e^(-s) = 1/10"),
                    "variance": (lambda t: np.log(NOISE["K"] * np.sqrt(10.0) - NOISE["K"] + 1),
                                 "that is where the variance sigma^2 falls to a tenth")},
          hint="solve K / (e^s + K - 1) = 1/10 for s")
def _sigma_tenth():
    return _s_tenth()


# --------------------------------------------------------------------------- problem 2

#: The impacts of problem 2 (the explorer's defaults); its horizon is ``sgd_vs_sde.T_END``.
SQRT = dict(alpha=2.0, beta=0.5)


def _ode_margin(gap: float) -> float:
    from ..exact import ce_margin_from_gap
    from ..widgets.sgd_vs_sde import K, T_END

    return float(ce_margin_from_gap(np.array([gap * T_END]), n_classes=K)[0])


def _log_margin(gap: float) -> float:
    from ..widgets.sgd_vs_sde import T_END

    return float(np.log(1.0 + gap * T_END))


@register("ps1-ode-margin", exercise="ps1-ex-sqrt", precision=sig(3),
          mistakes={"no-linear-term": (lambda t: _log_margin(SQRT["alpha"] - SQRT["beta"]),
                                       "the margin law is e^s + (K - 1) s = 1 + (alpha - beta) t: "
                                       "the (K - 1) s term is missing"),
                    "alpha-not-gap": (lambda t: _ode_margin(SQRT["alpha"]), "the force is alpha - beta, not alpha")},
          hint="the LE-ODE from the origin stays at s(t) u_k; use the margin law of chapter 4")
def _margin():
    return _ode_margin(SQRT["alpha"] - SQRT["beta"])


@register("ps1-sqrt-exponent", exercise="ps1-ex-sqrt", precision=within(0.1),
          mistakes={"variance": (lambda t: 2 * t, "that is the exponent of the variance, not of the spread"),
                    "sign": (lambda t: -t, "the spread grows with the learning rate: the slope is positive")},
          hint="fit the slope of log(spread) against log(learning rate); the noise of one step is of order eta")
def _exponent():
    return 0.5          # the order of the diffusion: sigma^2 = O(eta) (chapter 2), spread ~ sqrt(eta t)


# --------------------------------------------------------------------------- problem 3

#: The deep linear network of problem 3: f(x) = A B x with these shapes and seeds.
LINEAR = dict(K=3, hidden=8, dim=5, seed=13)


def linear_network():
    """(W2, W1, x, x2) of problem 3: W2 (K, m), W1 (m, d), two inputs (seeded; shared with the notebook)."""
    rng = np.random.default_rng(LINEAR["seed"])
    K, h, d = LINEAR["K"], LINEAR["hidden"], LINEAR["dim"]
    A = rng.standard_normal((K, h)) / np.sqrt(h)
    B = rng.standard_normal((h, d)) / np.sqrt(d)
    x = rng.standard_normal(d)
    x2 = rng.standard_normal(d)
    return A, B, x, x2


def _jacobian(A, B, x, eps=1e-5):
    """d f / d (A, B) at x by central differences, shape (K, n_params)."""
    theta = np.concatenate([A.ravel(), B.ravel()])

    def f(th):
        a = th[:A.size].reshape(A.shape)
        b = th[A.size:].reshape(B.shape)
        return a @ (b @ x)

    cols = []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        cols.append((f(theta + e) - f(theta - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def _linear_impact():
    A, B, x, x2 = linear_network()
    J1, J2 = _jacobian(A, B, x), _jacobian(A, B, x2)
    return float(np.trace(J1 @ J2.T) / A.shape[0])


@register("ps1-linear-ntk", exercise="ps1-ex-linear-ntk", precision=sig(3),
          mistakes={"last-layer-only": (lambda t: float(np.dot(*(linear_network()[1] @ v
                                                                   for v in linear_network()[2:])))
                                        , "that is the contribution of W2 alone; W1's parameters move f too"),
                    "first-layer-only": (lambda t: float(linear_network()[2] @ linear_network()[3]
                                                         * np.sum(linear_network()[0] ** 2) / LINEAR["K"]),
                                         "that is the contribution of W1 alone; W2's parameters move f too"),
                    "no-1/K": (lambda t: LINEAR["K"] * t, "the scalar impact is the trace divided by K")},
          hint="differentiate f = W2 W1 x with respect to W2 and to W1; Theta = J(x) J(x')^T")
def _linear():
    return _linear_impact()


# --------------------------------------------------------------------------- problem 4

#: The schedule of problem 4: eta_j = eta0 / (1 + j / J0), j = 0 .. steps - 1, and the impacts.
SCHEDULE = dict(eta0=0.05, J0=200, steps=2000, K=3, alpha=2.0, beta=0.5)


def _schedule_time(first: int = 0) -> float:
    j = np.arange(first, first + SCHEDULE["steps"])
    return float(np.sum(SCHEDULE["eta0"] / (1.0 + j / SCHEDULE["J0"])))


def _integral_time() -> float:
    return float(SCHEDULE["eta0"] * SCHEDULE["J0"] * np.log(1 + SCHEDULE["steps"] / SCHEDULE["J0"]))


# four figures: to three, the sum (24.00) and its integral approximation (23.98) are the same number
@register("ps1-schedule-time", exercise="ps1-ex-schedule", precision=sig(4),
          mistakes={"constant-rate": (lambda t: SCHEDULE["eta0"] * SCHEDULE["steps"],
                                      "the learning rate decays: add the rates of all steps"),
                    "no-eta0": (lambda t: t / SCHEDULE["eta0"],
                                "each step advances the model time by its learning rate eta_j, eta0 included"),
                    "integral": (lambda t: _integral_time(),
                                 "that is the integral approximation eta0 J0 log(1 + J/J0); the problem asks for the sum"),
                    "off-by-one": (lambda t: _schedule_time(first=1),
                                   "the steps are j = 0, ..., J - 1: the first rate is eta0 itself")},
          hint="t after J steps is the sum of the learning rates eta_0 + ... + eta_(J-1)")
def _time():
    return _schedule_time()


@register("ps1-schedule-margin", exercise="ps1-ex-schedule", precision=sig(3),
          mistakes={"constant-rate": (lambda t: _margin_after(SCHEDULE["eta0"] * SCHEDULE["steps"]),
                                      "that is the margin after the time eta0 * J of a constant rate"),
                    "no-linear-term": (lambda t: float(np.log(1 + (SCHEDULE["alpha"] - SCHEDULE["beta"])
                                                              * _schedule_time())),
                                       "the margin law is e^s + (K - 1) s = 1 + (alpha - beta) t: "
                                       "the (K - 1) s term is missing"),
                    "alpha-not-gap": (lambda t: _margin_after(_schedule_time(), beta=0.0),
                                      "the force is alpha - beta, not alpha")},
          hint="insert the model time into the margin law e^s + (K - 1) s = 1 + (alpha - beta) t")
def _sched_margin():
    return _margin_after(_schedule_time())


def _margin_after(t: float, beta: float | None = None) -> float:
    from ..exact import ce_symmetric_margin

    beta = SCHEDULE["beta"] if beta is None else beta
    return float(ce_symmetric_margin(np.array([t]), alpha=SCHEDULE["alpha"], beta=beta,
                                     n_classes=SCHEDULE["K"])[0])
