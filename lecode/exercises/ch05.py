"""Answer checks for chapter 5 (neural collapse).

Every expected answer is computed by lecode when the check runs: from
:func:`lecode.metrics.neural_collapse`, the drift of :class:`lecode.LEModel`
and the margin law in :mod:`lecode.widgets.collapse`.
"""

from __future__ import annotations

import numpy as np

from . import register, sig

_NC1 = dict(K=3, s=4.0, v=0.5)


@register("ch05-nc1-value", exercise="ch05-ex-nc1-value", precision=sig(3),
          hint="NC1 = Tr(Sigma_W Sigma_B^+)/K with Sigma_B = (s^2/K)(I - Pi), Pi = 11^T/K; do not forget the 1/K.",
          mistakes={
              "missing-1/K": (lambda t: _NC1["K"] * t, "NC1 has a 1/K in front of the trace: Tr(Σ_W Σ_B⁺)/K."),
              "sigma-B-without-1/K": (lambda t: t / _NC1["K"],
                                      "Σ_B averages over the K classes: Σ_B = (s²/K)(I − Π), not s²(I − Π)."),
              "trace-K": (lambda t: _NC1["v"] * _NC1["K"] / _NC1["s"] ** 2,
                          "Tr(I − Π) = K − 1 = 2 (I − Π projects on the sum-zero plane), not K."),
          })
def _nc1_value():
    """NC1 of means 4 u_k with within-class covariance 0.5 (I - Pi) (K = 3), measured by lecode.metrics."""
    from ..metrics import neural_collapse
    from ..widgets.collapse import PLANE_BASIS

    s, v = _NC1["s"], _NC1["v"]
    U = np.eye(3) - 1.0 / 3.0
    cloud = np.sqrt(2.0 * v) * np.vstack([PLANE_BASIS, -PLANE_BASIS])
    return float(neural_collapse(s * U[:, None, :] + cloud[None]).nc1)


def _tstar_margin() -> float:
    from ..widgets.collapse import symmetric_margin

    t = _REGISTERED_TSTAR()
    return float(symmetric_margin(np.array([t]), 0.5)[0])


@register("ch05-tstar", exercise="ch05-ex-tstar", precision=sig(3),
          hint="minimise t / s(t)^2 with the margin law e^s + 2s = 1 + (alpha - beta) t.",
          mistakes={
              "margin-not-time": (lambda t: _tstar_margin(), "that is the margin s* at the minimum; convert it "
                                                             "to the time t* = (e^s + 2s − 1)/(α − β)."),
              "missing-gap": (lambda t: 0.5 * t, "that is τ* = (α − β) t*; divide by α − β = 0.5."),
          })
def _tstar():
    """Minimiser of the narrow-cloud NC1 formula (v0 = 0, K = 3, alpha - beta = 0.5)."""
    from scipy.optimize import minimize_scalar

    from ..widgets.collapse import predicted_nc1

    res = minimize_scalar(lambda logt: float(predicted_nc1(np.exp(logt), 1.0, 0.5, v0=0.0)),
                          bounds=(0.0, 8.0), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(res.x))


_REGISTERED_TSTAR = _tstar

_ROT = dict(K=3, s=-1.0, alpha=0.2, beta=1.0)


@register("ch05-rotation-rate", exercise="ch05-ex-rotation-rate", precision=sig(3),
          hint="the rate is (beta - alpha) / (K (e^s + K - 1)) at the point s of the ray.",
          mistakes={
              "sign": (lambda t: -t, "on the anti-aligned ray (α < β) the rotation mode grows: λ > 0."),
              "limit": (lambda t: (_ROT["beta"] - _ROT["alpha"]) / (_ROT["K"] * (_ROT["K"] - 1)),
                        "that is the limit s → −∞; at s = −1 keep the e^s in K(e^s + K − 1)."),
              "missing-1/K": (lambda t: _ROT["K"] * t, "the rate has a 1/K: (β − α)/(K(e^s + K − 1))."),
              "e-to-minus-s": (lambda t: (_ROT["beta"] - _ROT["alpha"])
                               / (_ROT["K"] * (np.exp(-_ROT["s"]) + _ROT["K"] - 1)),
                               "at s = −1 the exponential is e^s = e^(−1) ≈ 0.368, not e ≈ 2.718."),
          })
def _rotation_rate():
    """Growth rate of the rotation mode at s = -1 (K = 3, alpha = 0.2, beta = 1), by finite differences."""
    from ..model import LEModel

    K, s, h = _ROT["K"], _ROT["s"], 1e-5
    U = np.eye(K) - 1.0 / K
    d = np.array([[0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]])
    model = LEModel(K, 1, alpha=_ROT["alpha"], beta=_ROT["beta"])
    Jd = (model.drift((s * U + h * d)[:, None, :]) - model.drift((s * U - h * d)[:, None, :]))[:, 0] / (2 * h)
    return float((Jd * d).sum() / (d * d).sum())


def _equiangle(pi) -> float:
    from ..metrics import neural_collapse

    K = len(pi)
    return float(neural_collapse((np.eye(K)[pi] - np.eye(K))[:, None, :]).nc2_equiangle)


@register("ch05-pairing-equiangle", exercise="ch05-ex-pairing", precision=sig(3),
          hint="cosines: -1 with the partner, 0 with the two other classes; compare with -1/3.",
          mistakes={
              "cycle": (lambda t: _equiangle([1, 2, 3, 0]), "that is the 4-cycle π = (1 2 3 4); the runs end in "
                                                           "the pairing π = (1 3)(2 4)."),
              "plus-1/K": (lambda t: (abs(-1 + 1 / 4) + 2 * abs(0 + 1 / 4)) / 3,
                           "the simplex ETF has cosines −1/(K−1) = −1/3, not −1/K."),
              "mean-cosine": (lambda t: -1.0 / 3.0, "NC2 averages |cos + 1/(K−1)| over the other classes; "
                                                   "that is the mean cosine itself."),
              "no-absolute-value": (lambda t: 0.0, "NC2 averages the absolute values |cos + 1/(K−1)|; without "
                                                   "them −2/3 + 1/3 + 1/3 cancels to 0."),
          })
def _pairing_equiangle():
    """NC2 equiangularity of the K = 4 pairing e_pi(k) - e_k, pi = (1 3)(2 4), measured by lecode.metrics."""
    return _equiangle([2, 3, 0, 1])
