"""Answer checks of chapter 3 (*The linear LE-ODE*).

Each expected answer is computed with :mod:`lecode.exact` (closed forms and
integrated impacts). :func:`mystery_class_means` provides the data of the
estimation exercise; its impacts are not shown in the book.
"""

from __future__ import annotations

import numpy as np

from . import register, rel, sig

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


_SCALES = dict(alpha=2.0, beta=0.5, t=3.0, K=4)


def _scale_exponents():
    from .. import exact

    s = _SCALES
    A, B = (float(v) for v in exact.integrated_impacts(s["alpha"], s["beta"], s["t"]))
    K = s["K"]
    return (A + (K - 1) * B) / K, (A - B) / K, A, B, K


@register("ch03-scales", exercise="ch03-ex-scales", precision=sig(3),
          hint="identity variant: the global mean scales by exp((A+(K-1)B)/K), the offsets by "
               "exp((A-B)/K), with A = alpha t and B = beta t",
          mistakes={
              "swapped": (lambda t: t[::-1], "the two factors are swapped: give (global-mean factor, offset factor)."),
              "exponents": (lambda t: np.log(t), "those are the exponents; the factors are their exponentials."),
              "missing-1/K": (lambda t: (lambda m, o, A, B, K: np.exp([K * m, K * o]))(*_scale_exponents()),
                              "the exponents carry a 1/K: (A + (K−1)B)/K and (A − B)/K."),
              "projected": (lambda t: (lambda m, o, A, B, K: np.exp([(A + B / (K - 1)) / K, (A - B) / K]))(
                  *_scale_exponents()),
                            "(A + B/(K−1))/K is the contrast mode of the *projected* variant; the identity "
                            "variant's global mean has (A + (K−1)B)/K."),
          })
def _scales():
    from .. import exact

    s = _SCALES
    A, B = exact.integrated_impacts(s["alpha"], s["beta"], s["t"])
    mean_scale, offset_scale = exact.identity_mode_scales(A, B, s["K"])
    return np.array([float(mean_scale), float(offset_scale)])


_RATE = dict(alpha=1.0, beta=0.5, K=3)


@register("ch03-rate-ratio", exercise="ch03-ex-rates", precision=sig(3),
          hint="compare the exponents (A + B/(K-1))/K and (A - B)/K",
          mistakes={
              "inverted": (lambda t: 1.0 / t, "that is the equal-y rate over the contrast rate; the exercise "
                                              "asks how many times *faster* the contrast grows."),
              "identity-variant": (lambda t: (_RATE["alpha"] + (_RATE["K"] - 1) * _RATE["beta"])
                                   / (_RATE["alpha"] - _RATE["beta"]),
                                   "(A + (K−1)B)/K is the global mean of the *identity* variant; the projected "
                                   "contrast modes have (A + B/(K−1))/K."),
              "missing-1/(K-1)": (lambda t: (_RATE["alpha"] + _RATE["beta"]) / (_RATE["alpha"] - _RATE["beta"]),
                                  "the contrast exponent is (A + B/(K−1))/K: β is divided by K − 1 = 2."),
          })
def _rate_ratio():
    from .. import exact

    r = _RATE
    A, B = exact.integrated_impacts(r["alpha"], r["beta"], 1.0)
    equal, contrast = exact.projected_mode_scales(A, B, r["K"])
    return float(np.log(contrast) / np.log(equal))


def _mystery_AB():
    from .. import exact

    a, b = _mystery_impacts()
    return tuple(float(v) for v in exact.integrated_impacts(a, b, _MYSTERY_T))


def _mystery_projected_B2():
    """B(2) that the projected estimator reports on the identity data of the exercise (a mistake)."""
    from .. import exact

    times, class_means = mystery_class_means()
    return float(exact.estimate_AB_projected(times, class_means)[1][-1])


@register("ch03-mystery", exercise="ch03-ex-mystery", precision=rel(0.02),
          hint="estimate_AB_identity(times, class_means) returns (A_hat, B_hat); read B_hat at t = 2",
          mistakes={
              "A-not-B": (lambda t: _mystery_AB()[0], "that is A(2) = ∫α; the exercise asks for B(2) = ∫β."),
              "rate-not-integral": (lambda t: float(_mystery_impacts()[1](_MYSTERY_T)),
                                    "that is β(2), the impact at t = 2; B(2) is its integral from 0 to 2."),
              "projected-estimator": (lambda t: _mystery_projected_B2(),
                                      "that is the projected variant's estimator; the data come from the "
                                      "*identity* LE-ODE: use estimate_AB_identity (B = L_m − L_o)."),
          })
def _mystery():
    """B(2) = ∫_0^2 β of the hidden impacts (the estimator's target; its error on this data is < 1e-3)."""
    return _mystery_AB()[1]
