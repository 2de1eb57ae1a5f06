"""Answer checks of chapter 6, *Imitating real training*.

Every expected answer is computed here with :mod:`lecode` (the exact margin
law, the conversion of :mod:`lecode.imitation`, or the stored GeoMNIST record),
never stored as a literal.
"""

from __future__ import annotations

import math

import numpy as np

from . import register

__all__: list[str] = []


@register("ch06-horizon", rtol=1e-3,
          hint="the model time is t = η m; then solve e^s + (K-1) s = e^{s0} + (K-1) s0 + (α-β) t.")
def _horizon():
    """Margin of the symmetric CE LE-ODE after 30,000 SGD steps at η = 0.001, K = 5, α - β = 5, s0 = 0."""
    from .. import exact
    from ..imitation import model_times

    t = float(model_times(30_000, 0.001))
    return float(exact.ce_symmetric_margin(t, alpha=5.0, beta=0.0, n_classes=5, s0=0.0))


@register("ch06-rate", rtol=1e-3,
          hint="match ds/dt of the two LE-ODEs at the same margin s: "
               "(α-β)_lin s / K = (α-β)_ce / (e^s + K - 1).")
def _rate():
    """Linear-equivalent gap rate at margin s = 4 for an NTK gap of 8 with K = 3."""
    K, s, gap = 3, 4.0, 8.0
    return K * gap / (s * (math.exp(s) + K - 1))


@register("ch06-tail", rtol=2e-2,
          hint="fit the projected variant to the trial-mean GeoMNIST record from SGD step 100 on, "
               "then lecode.imitation.tail_index(times, alpha - beta, t_min=5).")
def _tail():
    """Tail index of the fitted projected gap on the trial-mean GeoMNIST record, t >= 5."""
    from .. import imitation

    R = imitation.record("geomnist")
    i0 = R.index(100)
    fit = imitation.fit_impacts(R.times[i0:], R.class_means[:, i0:].mean(axis=0),
                                variant="projected")
    gap = fit.alpha - fit.beta
    return imitation.tail_index(fit.times, gap, t_min=5.0)[0]


@register("ch06-asym", rtol=1e-2,
          hint="centre each logit vector, find the best multiple s U of U = I - 11^T/K by least "
               "squares (s = <C, U>/<U, U>), and divide the residual norm by the norm of C.")
def _asym():
    """Relative distance of the trial-mean GeoMNIST class means at step 10000 from the symmetric family s U."""
    from .. import imitation

    R = imitation.record("geomnist")
    X = R.class_means[:, R.index(10_000)].mean(axis=0)
    K = R.n_classes
    U = np.eye(K) - 1.0 / K
    C = X - X.mean(axis=-1, keepdims=True)
    s = np.sum(C * U) / np.sum(U * U)
    return float(np.linalg.norm(C - s * U) / np.linalg.norm(C))
