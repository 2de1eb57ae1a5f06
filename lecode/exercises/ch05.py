"""Answer checks for chapter 5 (neural collapse).

Every expected answer is computed by lecode when the check runs: from
:func:`lecode.metrics.neural_collapse`, the drift of :class:`lecode.LEModel`
and the margin law in :mod:`lecode.widgets.collapse`.
"""

from __future__ import annotations

import numpy as np

from . import register


@register("ch05-nc1-value", rtol=1e-3,
          hint="NC1 = Tr(Sigma_W Sigma_B^+)/K with Sigma_B = (s^2/K) P; do not forget the 1/K.")
def _nc1_value():
    """NC1 of means 4 u_k with within-class covariance 0.5 P (K = 3), measured by lecode.metrics."""
    from ..metrics import neural_collapse
    from ..widgets.collapse import PLANE_BASIS

    s, v = 4.0, 0.5
    U = np.eye(3) - 1.0 / 3.0
    cloud = np.sqrt(2.0 * v) * np.vstack([PLANE_BASIS, -PLANE_BASIS])
    return float(neural_collapse(s * U[:, None, :] + cloud[None]).nc1)


@register("ch05-tstar", rtol=1e-3,
          hint="minimise t / s(t)^2 with the margin law e^s + 2s = 1 + (alpha - beta) t.")
def _tstar():
    """Minimiser of the narrow-cloud NC1 formula (v0 = 0, K = 3, alpha - beta = 0.5)."""
    from scipy.optimize import minimize_scalar

    from ..widgets.collapse import predicted_nc1

    res = minimize_scalar(lambda logt: float(predicted_nc1(np.exp(logt), 1.0, 0.5, v0=0.0)),
                          bounds=(0.0, 8.0), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(res.x))


@register("ch05-rotation-rate", rtol=1e-4,
          hint="the rate is (beta - alpha) / (K (e^s + K - 1)) at the point s of the ray.")
def _rotation_rate():
    """Growth rate of the rotation mode at s = -1 (K = 3, alpha = 0.2, beta = 1), by finite differences."""
    from ..model import LEModel

    K, s, h = 3, -1.0, 1e-5
    U = np.eye(K) - 1.0 / K
    d = np.array([[0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]])
    model = LEModel(K, 1, alpha=0.2, beta=1.0)
    Jd = (model.drift((s * U + h * d)[:, None, :]) - model.drift((s * U - h * d)[:, None, :]))[:, 0] / (2 * h)
    return float((Jd * d).sum() / (d * d).sum())


@register("ch05-pairing-equiangle", rtol=1e-6,
          hint="cosines: -1 with the partner, 0 with the two other classes; compare with -1/3.")
def _pairing_equiangle():
    """NC2 equiangularity of the K = 4 pairing e_pi(k) - e_k, pi = (1 3)(2 4), measured by lecode.metrics."""
    from ..metrics import neural_collapse

    pi = [2, 3, 0, 1]
    X = (np.eye(4)[pi] - np.eye(4))[:, None, :]
    return float(neural_collapse(X).nc2_equiangle)
