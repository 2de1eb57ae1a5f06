"""Answer checks of chapter 4, *The phase transition*.

Every expected answer is computed here (from :mod:`lecode.exact`, from a
numerical integral, or from a count), never stored as a literal.
"""

from __future__ import annotations

import math

import numpy as np

from . import register

__all__: list[str] = []


@register("ch04-loss-time", rtol=1e-3,
          hint="solve log(1 + (K-1) e^{-s}) = 0.01 for s, then t = (e^s + (K-1) s - e^{s0} - (K-1) s0)/(α - β).")
def _loss_time():
    """First time at which the symmetric CE LE-ODE (K=4, α=1, β=0.25, s0=0) has loss 1e-2.

    Found by bisection on :func:`lecode.exact.ce_symmetric_loss`, which decreases in t.
    """
    from scipy.optimize import brentq

    from .. import exact

    K, alpha, beta, target = 4, 1.0, 0.25, 1e-2

    def gap(t):
        return float(exact.ce_symmetric_loss(t, alpha=alpha, beta=beta, n_classes=K)) - target

    hi = 1.0
    while gap(hi) > 0:
        hi *= 2.0
    return brentq(gap, 0.0, hi, xtol=1e-10, rtol=1e-14)


def _ratio_r1(t: float, c: float, K: int) -> float:
    """(1/t) ∫_0^t ((1+t)/(1+s))^{2c/K} ds, the time-dependent factor of R(t) at r = 1.

    Computed by quadrature in u = log(1+s) (smooth integrand), as a check of
    the chapter's closed form.
    """
    from scipy.integrate import quad

    a = 2.0 * c / K
    L = math.log1p(t)
    # ds = e^u du; integrand e^{a (L - u)} e^u
    val, _ = quad(lambda u: math.exp(a * (L - u) + u), 0.0, L, limit=200, epsrel=1e-12)
    return val / t


@register("ch04-tail", rtol=1e-2,
          hint="at r = 1 the offsets grow like (1+t)^{c/K} and the clouds like t^{1/2}; "
               "R(t) grows like t^{2c/K - 1} when c > K/2.")
def _tail():
    """[critical c, growth exponent of R(t) for c = 3] for K = 4 and α - β = c/(1+t).

    The exponent is measured as the slope of log R against log t between
    t = 1e6 and 1e7 (numerical quadrature); the critical c is where the
    amplification exponent c/K of the offsets equals the diffusive exponent 1/2.
    """
    K, c = 4, 3.0
    t1, t2 = 1e6, 1e7
    slope = (math.log(_ratio_r1(t2, c, K)) - math.log(_ratio_r1(t1, c, K))) / math.log(t2 / t1)
    return np.array([0.5 * K, slope])


@register("ch04-cover", rtol=0.0, atol=0.5,
          hint="Cover's function-counting theorem: C(N, p+1) = 2 Σ_{j=0}^{p} binom(N-1, j).")
def _cover():
    """Number of linearly separable labellings of N = 7 points in general position in R^3."""
    N, p = 7, 3
    return 2 * sum(math.comb(N - 1, j) for j in range(p + 1))
