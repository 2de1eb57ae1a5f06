"""Answer checks of chapter 7, *Label noise*.

Every expected answer is computed here with lecode (a long LE-ODE run, a
root of :func:`lecode.exact.label_noise_factor`, the model's drift), never
stored as a literal.
"""

from __future__ import annotations

import math

import numpy as np

from . import register, sig

__all__: list[str] = []


def _vertices(K: int) -> np.ndarray:
    return np.eye(K) - 1.0 / K


_FIXED = dict(K=4, p=0.3)


def _label_entropy(p: float, K: int, *, per_class: bool = True) -> float:
    other = p / (K - 1) if per_class else p
    return float(-(1 - p) * math.log(1 - p) - p * math.log(other))


@register("ch07-fixed", exercise="ch07-ex-fixed", precision=sig(3),
          hint="the fixed point is where the softmax equals the label distribution: "
               "s* = log((K-1)(1-p)/p); the loss there is the entropy of the labels.",
          mistakes={
              "margin-without-K-1": (lambda t: np.array([math.log((1 - _FIXED["p"]) / _FIXED["p"]), t[1]]),
                                     "the softmax at s u_k puts e^{s}/(e^{s} + K − 1) on class k: "
                                     "s* = log((K−1)(1−p)/p)."),
              "entropy-without-K-1": (lambda t: np.array([t[0], _label_entropy(_FIXED["p"], _FIXED["K"],
                                                                               per_class=False)]),
                                      "each wrong class gets p/(K−1) of the labels: "
                                      "H = −(1−p) log(1−p) − p log(p/(K−1))."),
              "clean-start-loss": (lambda t: np.array([t[0], math.log(_FIXED["K"])]),
                                   "log K is the loss at X = 0; the loss at the fixed point is the label entropy."),
              "swapped": (lambda t: t[::-1], "the entries are swapped: give [s_star, loss]."),
          })
def _fixed():
    """[margin, training loss] of the symmetric CE LE-ODE, K=4, p=0.3, after it has settled.

    The LE-ODE (alpha=1, beta=0.2, n=30, X(0)=0) is run to t=600, about 34
    relaxation times; Euler's method has the same fixed point as the ODE.
    """
    from .. import exact, metrics
    from ..model import LEModel
    from ..simulate import simulate

    K, p = _FIXED["K"], _FIXED["p"]
    model = LEModel(K, 30, alpha=1.0, beta=0.2, label_noise=p)
    traj = simulate(model, 600.0, dt=0.1, method="ode", x0=np.zeros((K, 1, K)), n_saves=2)
    final = traj.final()[0]
    s = float(exact.projected_coordinates(traj.class_means()[0, -1]).mean())
    loss = float(metrics.cross_entropy(final, labels=model.labels))
    return np.array([s, loss])


_CRIT_K = 5


@register("ch07-critical", exercise="ch07-ex-critical", precision=sig(3),
          hint="the CE factor is 1 - pK/(K-1); the projected variant's symmetric factor is "
               "1 - pK(K-2)/(K-1)^2.",
          mistakes={
              "ce-factor": (lambda t: np.array([t[0], 0.0]), "the *cross-entropy* force vanishes at p_c; the "
                                                             "projected variant's factor 1 − pK(K−2)/(K−1)² does not."),
              "K-equals-3": (lambda t: np.array([2.0 / 3.0, t[1]]), "2/3 is p_c for K = 3; here K = 5, "
                                                                    "p_c = (K−1)/K."),
              "not-squared": (lambda t: np.array([t[0], 1 - t[0] * _CRIT_K * (_CRIT_K - 2) / (_CRIT_K - 1)]),
                              "the projected factor divides by (K−1)², not K − 1."),
          })
def _critical():
    """[p_c, projected factor at p_c] for K = 5.

    p_c is the root of :func:`lecode.exact.label_noise_factor`; the factor is
    the ratio of the projected drifts along u_0 at X_k = u_k with and without
    label noise (n = 20, so that p_c n is a multiple of K - 1).
    """
    from scipy.optimize import brentq

    from .. import exact
    from ..model import LEModel

    K, n = _CRIT_K, 20
    p_c = brentq(lambda p: float(exact.label_noise_factor(p, K)), 0.0, 0.99, xtol=1e-14)
    U = _vertices(K)
    X = np.broadcast_to(U[:, None, :], (K, n, K))
    noisy = LEModel(K, n, alpha=1.0, beta=0.0, gradient="projected", label_noise=round(p_c, 12))
    clean = noisy.replace(label_noise=0.0)
    factor = (noisy.drift(X)[0, 0] @ U[0]) / (clean.drift(X)[0, 0] @ U[0])
    return np.array([p_c, factor])


_RATE = dict(K=3, alpha=1.0, beta=0.5, p=0.2)


@register("ch07-rate", exercise="ch07-ex-rate", precision=sig(3),
          hint="linearise ds/dt = (alpha-beta)[1/(e^s+K-1) - p/(K-1)] at s*.",
          mistakes={
              "sign": (lambda t: -t, "λ is the decay rate in ṡ ≈ −λ(s − s*): it is positive (the fixed point attracts)."),
              "missing-factor": (lambda t: (_RATE["K"] - 1) * t,
                                 "λ = (α−β) p(1−p)/(K−1): the 1/(K−1) = 1/2 is missing (or α − β = 0.5 is)."),
              "p-not-p(1-p)": (lambda t: (_RATE["alpha"] - _RATE["beta"]) * _RATE["p"] / (_RATE["K"] - 1),
                               "the derivative of 1/(e^s + K − 1) at s* gives p(1−p), not p."),
          })
def _rate():
    """Relaxation rate of the symmetric CE margin at s*, K=3, alpha=1, beta=0.5, p=0.2.

    Minus the central difference (h = 1e-5) of the margin's rate of change,
    read from :meth:`LEModel.drift` at (s* +- h) u_k.
    """
    from ..model import LEModel

    K, p, n, h = _RATE["K"], _RATE["p"], 20, 1e-5
    model = LEModel(K, n, alpha=_RATE["alpha"], beta=_RATE["beta"], label_noise=p)
    U = _vertices(K)
    s_star = np.log((K - 1) * (1 - p) / p)

    def s_dot(s):
        b = model.drift(np.broadcast_to((s * U)[:, None, :], (K, n, K)))[0, 0]
        return b @ U[0] / (U[0] @ U[0])

    return -(s_dot(s_star + h) - s_dot(s_star - h)) / (2 * h)


_CHANCE = dict(K=3, p=0.8)


@register("ch07-below-chance", exercise="ch07-ex-below-chance", precision=sig(3),
          hint="at the fixed point the argmax of a class-k sample is one of the other classes; each of them "
               "is the observed label of a share p/(K−1) of class k. For (c), when is the label "
               "distribution the same for every class?",
          mistakes={
              "true-class-share": (lambda t: np.array([1 - _CHANCE["p"], t[1]]),
                                   "1 − p is how often the observed label is the true class, which the model "
                                   "never predicts at p > 2/3; it predicts one of the other classes."),
              "chance": (lambda t: np.array([1.0 / _CHANCE["K"], t[1]]),
                         "1/3 is random guessing; the LE-ODE's argmax is one particular other class."),
              "critical-is-given-p": (lambda t: np.array([t[0], _CHANCE["p"]]),
                                      "p = 0.8 is the corruption of part (b); for (c) find the p at which "
                                      "every class has the uniform label distribution."),
          })
def _below_chance():
    """[accuracy of the LE-ODE fixed point against the observed labels at p = 0.8, the p where it is uninformative], K = 3.

    At X_k = s* u_k with s* < 0 the K - 1 other classes tie for the argmax;
    the accuracy is averaged over that tie, from the observed labels of
    :class:`lecode.LEModel` (n = 30: p n is a multiple of K - 1). The second
    entry is the root of :func:`lecode.exact.label_noise_factor`.
    """
    from scipy.optimize import brentq

    from .. import exact
    from ..model import LEModel

    K, p, n = _CHANCE["K"], _CHANCE["p"], 30
    labels = np.asarray(LEModel(K, n, alpha=1.0, beta=0.0, label_noise=p).labels)
    s_star = math.log((K - 1) * (1 - p) / p)
    logits = s_star * _vertices(K)                                   # row k: the logits of class k
    acc = np.mean([np.mean([np.mean(labels[k] == j) for j in range(K)
                            if np.isclose(logits[k, j], logits[k].max())]) for k in range(K)])
    p_flat = brentq(lambda q: float(exact.label_noise_factor(q, K)), 0.0, 0.99, xtol=1e-14)
    return np.array([float(acc), p_flat])
