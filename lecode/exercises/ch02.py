"""Answer checks of chapter 2 (*From SGD to the LE-SDE*).

Each expected answer is computed with :mod:`lecode` (``LEModel.drift``,
``sgd_noise_sigma``), a route independent of the hand computation that the
solutions in the book show.
"""

from __future__ import annotations

import numpy as np

from . import register


@register("ch02-drift", rtol=1e-6, atol=1e-10,
          hint="every sample of class k sits at 0.5 u_k + 0.2 (1, 1, 1); use the first form of "
               "the drift equation with the class-average gradients softmax(X_k) - e_k")
def _drift():
    from ..model import LEModel

    K, n = 3, 2
    U = np.eye(K) - 1.0 / K
    points = 0.5 * U + 0.2 * np.ones(K)
    X = np.repeat(points[:, None, :], n, axis=1)
    return LEModel(K, n, alpha=1.5, beta=0.25, gradient="ce").drift(X)[0, 0]


@register("ch02-conserved", rtol=1e-6, atol=1e-6,
          hint="v . x is conserved when W v is a multiple of (1, ..., 1)")
def _conserved():
    """p minus the dimension of the span of many LE-ODE drifts at random states."""
    from ..model import LEModel

    K, p, n = 3, 5, 2
    W = np.random.default_rng(2).standard_normal((K, p))
    model = LEModel(K, n, alpha=1.0, beta=0.3, gradient="ce", dim=p, readout=W)
    rng = np.random.default_rng(0)
    drifts = model.drift(2.0 * rng.standard_normal((40, K, n, p))).reshape(-1, p)
    return float(p - np.linalg.matrix_rank(drifts, tol=1e-9))


@register("ch02-sigma", rtol=1e-3,
          hint="sigma^2 = n lr / (K d) * sum_k tr C_kk with d = K - 1, at the all-zero state")
def _sigma():
    from ..model import LEModel
    from ..simulate import sgd_noise_sigma

    return sgd_noise_sigma(LEModel(3, 5, alpha=2.0, beta=0.5, gradient="ce"), 0.01)
