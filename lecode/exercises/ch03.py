"""Answer checks of chapter 3 (*The linear LE-ODE*).

Each expected answer is computed with :mod:`lecode.exact` (closed forms and
integrated impacts). :func:`mystery_class_means` provides the data of the
estimation exercise; its impacts are not shown in the book.
"""

from __future__ import annotations

import numpy as np

from . import register

_MYSTERY_K = 3
_MYSTERY_T = 2.0


def _mystery_impacts():
    return (lambda t: 1.2 + 0.6 * np.exp(-t)), (lambda t: 0.3 + 0.2 * t)


def mystery_class_means():
    """Data of exercise ch03-ex-mystery: ``(times, class_means)`` of a noise-free identity LE-ODE.

    ``times`` has shape (41,) (from 0 to 2), ``class_means`` (41, 3, 3). The
    impacts alpha(t), beta(t) that generated it are for the learner to find.
    """
    from ..model import LEModel
    from ..simulate import simulate

    a, b = _mystery_impacts()
    x0 = np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0.0], [0.4, 0.1, 0.6]])
    model = LEModel(_MYSTERY_K, 1, alpha=a, beta=b, gradient="identity")
    traj = simulate(model, _MYSTERY_T, dt=1e-4, method="ode", x0=x0[:, None, :], n_saves=41)
    return traj.times, traj.class_means()[0]


@register("ch03-scales", rtol=1e-3,
          hint="identity variant: the global mean scales by exp((A+(K-1)B)/K), the offsets by "
               "exp((A-B)/K), with A = alpha t and B = beta t")
def _scales():
    from .. import exact

    A, B = exact.integrated_impacts(2.0, 0.5, 3.0)
    mean_scale, offset_scale = exact.identity_mode_scales(A, B, 4)
    return np.array([float(mean_scale), float(offset_scale)])


@register("ch03-rate-ratio", rtol=1e-3,
          hint="compare the exponents (A + B/(K-1))/K and (A - B)/K")
def _rate_ratio():
    from .. import exact

    A, B = exact.integrated_impacts(1.0, 0.5, 1.0)
    equal, contrast = exact.projected_mode_scales(A, B, 3)
    return float(np.log(contrast) / np.log(equal))


@register("ch03-mystery", rtol=2e-2,
          hint="estimate_AB_identity(times, class_means) returns (A_hat, B_hat); read B_hat at t = 2")
def _mystery():
    from .. import exact

    a, b = _mystery_impacts()
    return float(exact.integrated_impacts(a, b, _MYSTERY_T)[1])
