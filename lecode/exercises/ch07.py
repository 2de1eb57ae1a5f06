"""Answer checks of chapter 7, *Label noise*.

Every expected answer is computed here with lecode (a long LE-ODE run, a
root of :func:`lecode.exact.label_noise_factor`, the model's drift), never
stored as a literal.
"""

from __future__ import annotations

import numpy as np

from . import register

__all__: list[str] = []


def _vertices(K: int) -> np.ndarray:
    return np.eye(K) - 1.0 / K


@register("ch07-fixed", rtol=1e-3,
          hint="the fixed point is where the softmax equals the label distribution: "
               "s* = log((K-1)(1-p)/p); the loss there is the entropy of the labels.")
def _fixed():
    """[margin, training loss] of the symmetric CE LE-ODE, K=4, p=0.3, after it has settled.

    The LE-ODE (alpha=1, beta=0.2, n=30, X(0)=0) is run to t=600, about 34
    relaxation times; Euler's method has the same fixed point as the ODE.
    """
    from .. import metrics
    from ..model import LEModel
    from ..simulate import simulate
    from .. import exact

    K, p = 4, 0.3
    model = LEModel(K, 30, alpha=1.0, beta=0.2, label_noise=p)
    traj = simulate(model, 600.0, dt=0.1, method="ode", x0=np.zeros((K, 1, K)), n_saves=2)
    final = traj.final()[0]
    s = float(exact.projected_coordinates(traj.class_means()[0, -1]).mean())
    loss = float(metrics.cross_entropy(final, labels=model.labels))
    return np.array([s, loss])


@register("ch07-critical", rtol=1e-3,
          hint="the CE factor is 1 - pK/(K-1); the projected variant's symmetric factor is "
               "1 - pK(K-2)/(K-1)^2.")
def _critical():
    """[p_c, projected factor at p_c] for K = 5.

    p_c is the root of :func:`lecode.exact.label_noise_factor`; the factor is
    the ratio of the projected drifts along u_0 at X_k = u_k with and without
    label noise (n = 20, so that p_c n is a multiple of K - 1).
    """
    from scipy.optimize import brentq

    from .. import exact
    from ..model import LEModel

    K, n = 5, 20
    p_c = brentq(lambda p: float(exact.label_noise_factor(p, K)), 0.0, 0.99, xtol=1e-14)
    U = _vertices(K)
    X = np.broadcast_to(U[:, None, :], (K, n, K))
    noisy = LEModel(K, n, alpha=1.0, beta=0.0, gradient="projected", label_noise=round(p_c, 12))
    clean = noisy.replace(label_noise=0.0)
    factor = (noisy.drift(X)[0, 0] @ U[0]) / (clean.drift(X)[0, 0] @ U[0])
    return np.array([p_c, factor])


@register("ch07-rate", rtol=1e-3,
          hint="linearise ds/dt = (alpha-beta)[1/(e^s+K-1) - p/(K-1)] at s*.")
def _rate():
    """Relaxation rate of the symmetric CE margin at s*, K=3, alpha=1, beta=0.5, p=0.2.

    Minus the central difference (h = 1e-5) of the margin's rate of change,
    read from :meth:`LEModel.drift` at (s* +- h) u_k.
    """
    from ..model import LEModel

    K, p, n, h = 3, 0.2, 20, 1e-5
    model = LEModel(K, n, alpha=1.0, beta=0.5, label_noise=p)
    U = _vertices(K)
    s_star = np.log((K - 1) * (1 - p) / p)

    def s_dot(s):
        b = model.drift(np.broadcast_to((s * U)[:, None, :], (K, n, K)))[0, 0]
        return b @ U[0] / (U[0] @ U[0])

    return -(s_dot(s_star + h) - s_dot(s_star - h)) / (2 * h)
