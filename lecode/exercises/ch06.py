"""Answer checks of chapter 6, *Imitating real training*.

Every expected answer is computed here with :mod:`lecode` (the exact margin
law, the conversion of :mod:`lecode.imitation`, or the stored GeoMNIST record),
never stored as a literal.
"""

from __future__ import annotations

import math

import numpy as np

from . import register, sig

__all__: list[str] = []

_HORIZON = dict(steps=30_000, lr=0.001, K=5, gap=5.0)


def _horizon_margin(t: float, gap: float = _HORIZON["gap"]) -> float:
    from .. import exact

    return float(exact.ce_symmetric_margin(t, alpha=gap, beta=0.0, n_classes=_HORIZON["K"], s0=0.0))


@register("ch06-horizon", exercise="ch06-ex-horizon", precision=sig(3),
          hint="the model time is t = η j (j SGD steps); then solve e^s + (K-1) s = e^{s0} + (K-1) s0 + (α-β) t.",
          mistakes={
              "steps-not-time": (lambda t: _horizon_margin(float(_HORIZON["steps"])),
                                 "the model time is t = η j = 30, not the number of steps j."),
              "no-(K-1)s": (lambda t: math.log(1.0 + _HORIZON["gap"] * _HORIZON["steps"] * _HORIZON["lr"]),
                            "the margin law is e^s + (K−1)s = 1 + (α−β)t: the (K−1)s term is missing."),
              "missing-gap": (lambda t: _horizon_margin(_HORIZON["steps"] * _HORIZON["lr"], gap=1.0),
                              "the right-hand side is 1 + (α − β)t with α − β = 5."),
          })
def _horizon():
    """Margin of the symmetric CE LE-ODE after 30,000 SGD steps at η = 0.001, K = 5, α - β = 5, s0 = 0."""
    from ..imitation import model_times

    return _horizon_margin(float(model_times(_HORIZON["steps"], _HORIZON["lr"])))


_RATE = dict(K=3, s=4.0, gap=8.0)


@register("ch06-rate", exercise="ch06-ex-rate", precision=sig(3),
          hint="match ds/dt of the two LE-ODEs at the same margin s: "
               "(α-β)_lin s / K = (α-β)_ce / (e^s + K - 1).",
          mistakes={
              "missing-K": (lambda t: t / _RATE["K"], "the linear LE-ODE moves s at the rate (α−β)_lin s / K: "
                                                      "multiply by K = 3."),
              "missing-s": (lambda t: t * _RATE["s"], "the linear force grows with the margin: divide by s = 4."),
              "K-not-K-1": (lambda t: _RATE["K"] * _RATE["gap"] / (_RATE["s"] * (math.exp(_RATE["s"]) + _RATE["K"])),
                            "the cross-entropy rate is (α−β)/(e^s + K − 1), with K − 1 = 2."),
              "ntk-gap": (lambda t: _RATE["gap"], "that is the NTK gap itself; convert it to linear units."),
          })
def _rate():
    """Linear-equivalent gap rate at margin s = 4 for an NTK gap of 8 with K = 3."""
    K, s, gap = _RATE["K"], _RATE["s"], _RATE["gap"]
    return K * gap / (s * (math.exp(s) + K - 1))


def _tail_fit(variant: str = "projected", t_min: float | None = 5.0) -> float:
    from .. import imitation

    R = imitation.record("geomnist")
    i0 = R.index(100)
    fit = imitation.fit_impacts(R.times[i0:], R.class_means[:, i0:].mean(axis=0), variant=variant)
    return float(imitation.tail_index(fit.times, fit.alpha - fit.beta, t_min=t_min)[0])


@register("ch06-tail", exercise="ch06-ex-tail", precision=sig(3),
          hint="fit the projected variant to the trial-mean GeoMNIST record from SGD step 100 on, "
               "then lecode.imitation.tail_index(times, alpha - beta, t_min=5).",
          mistakes={
              "sign": (lambda t: -t, "that is the log–log slope of the gap; the tail index r of t^{−r} is minus it."),
              "identity-variant": (lambda t: _tail_fit("identity"),
                                   "that is the fit of the identity variant; the exercise fits the projected one."),
              "all-times": (lambda t: _tail_fit(t_min=None), "fit only over t ≥ 5 (t_min=5.0): the early gap "
                                                             "is not yet a power law."),
          })
def _tail():
    """Tail index of the fitted projected gap on the trial-mean GeoMNIST record, t >= 5."""
    return _tail_fit()


def _asym_at(step: int, *, relative: str = "C") -> float:
    from .. import imitation

    R = imitation.record("geomnist")
    X = R.class_means[:, R.index(step)].mean(axis=0)
    K = R.n_classes
    U = np.eye(K) - 1.0 / K
    C = X - X.mean(axis=-1, keepdims=True)
    s = np.sum(C * U) / np.sum(U * U)
    res = np.linalg.norm(C - s * U)
    return float(res / {"C": np.linalg.norm(C), "sU": np.linalg.norm(s * U), "none": 1.0}[relative])


@register("ch06-asym", exercise="ch06-ex-asym", precision=sig(3),
          hint="centre each logit vector, find the best multiple s U of U = I - 11^T/K by least "
               "squares (s = <C, U>/<U, U>), and divide the residual norm by the norm of C.",
          mistakes={
              "step-1000": (lambda t: _asym_at(1_000), "that is the distance at step 1,000; the exercise asks "
                                                       "for step 10,000."),
              "not-relative": (lambda t: _asym_at(10_000, relative="none"),
                               "that is the residual norm itself; divide by the norm of C."),
              "over-sU": (lambda t: _asym_at(10_000, relative="sU"),
                          "the error is relative to the network's class means: divide by ‖C‖, not ‖sU‖."),
          })
def _asym():
    """Relative distance of the trial-mean GeoMNIST class means at step 10000 from the symmetric family s U."""
    return _asym_at(10_000)
