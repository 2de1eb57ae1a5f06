"""Answer checks of chapter 4, *The phase transition*.

Every expected answer is computed here (from :mod:`lecode.exact`, from a
numerical integral, or from a count), never stored as a literal.
"""

from __future__ import annotations

import math

import numpy as np

from . import integer, register, sig, within

__all__: list[str] = []

_LOSS = dict(K=4, alpha=1.0, beta=0.25, target=1e-2)


def _loss_time_from(s: float, *, gap: bool = True, s_terms: bool = True) -> float:
    """t at which the symmetric margin law reaches margin s (from s0 = 0), optionally with a slip."""
    K, a, b = _LOSS["K"], _LOSS["alpha"], _LOSS["beta"]
    c = math.exp(s) + ((K - 1) * s - 1.0 if s_terms else -1.0)
    return c / (a - b) if gap else c


def _margin_at_loss(linearised: bool = False) -> float:
    K, L = _LOSS["K"], _LOSS["target"]
    return -math.log((L if linearised else math.expm1(L)) / (K - 1))


@register("ch04-loss-time", exercise="ch04-ex-loss-time", precision=sig(3),
          hint="solve log(1 + (K-1) e^{-s}) = 0.01 for s, then t = (e^s + (K-1) s - e^{s0} - (K-1) s0)/(α - β).",
          mistakes={
              "asymptotic": (lambda t: (_LOSS["K"] - 1) / ((_LOSS["alpha"] - _LOSS["beta"]) * _LOSS["target"]),
                             "that is the asymptotic estimate (K−1)/((α−β)L); the exercise asks for the exact "
                             "time from the margin law."),
              "no-(K-1)s": (lambda t: _loss_time_from(_margin_at_loss(), s_terms=False),
                            "the margin law has e^s + (K−1)s on both sides; the (K−1)s terms are missing."),
              "log-linearised": (lambda t: _loss_time_from(_margin_at_loss(linearised=True)),
                                 "log(1 + x) = L gives x = e^L − 1, not L: e^{−s} = (e^{0.01} − 1)/(K − 1)."),
              "missing-gap": (lambda t: _loss_time_from(_margin_at_loss(), gap=False),
                              "the margin law reads (α − β)t = ...: divide by α − β = 0.75."),
          })
def _loss_time():
    """First time at which the symmetric CE LE-ODE (K=4, α=1, β=0.25, s0=0) has loss 1e-2.

    Found by bisection on :func:`lecode.exact.ce_symmetric_loss`, which decreases in t.
    """
    from scipy.optimize import brentq

    from .. import exact

    K, alpha, beta, target = _LOSS["K"], _LOSS["alpha"], _LOSS["beta"], _LOSS["target"]

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


_TAIL = dict(K=4, c=3.0)


@register("ch04-tail", exercise="ch04-ex-tail", precision=within(0.01),
          hint="at r = 1 the offsets grow like (1+t)^{c/K} and the clouds like t^{1/2}; "
               "R(t) grows like t^{2c/K - 1} when c > K/2.",
          mistakes={
              "offsets-exponent": (lambda t: np.array([t[0], _TAIL["c"] / _TAIL["K"]]),
                                   "c/K is the growth exponent of the offsets; R(t) compares squared offsets "
                                   "with the squared cloud width t: 2c/K − 1."),
              "no-minus-one": (lambda t: np.array([t[0], 2 * _TAIL["c"] / _TAIL["K"]]),
                               "the squared cloud width grows like t, so the exponent of R is 2c/K − 1, not 2c/K."),
              "critical-K": (lambda t: np.array([float(_TAIL["K"]), t[1]]),
                             "R grows when 2c/K > 1, i.e. c > K/2; c = K is where the offsets grow like t."),
              "swapped": (lambda t: t[::-1], "the entries are swapped: give [c_critical, exponent]."),
          })
def _tail():
    """[critical c, growth exponent of R(t) for c = 3] for K = 4 and α - β = c/(1+t).

    The exponent is measured as the slope of log R against log t between
    t = 1e6 and 1e7 (numerical quadrature); the critical c is where the
    amplification exponent c/K of the offsets equals the diffusive exponent 1/2.
    """
    K, c = _TAIL["K"], _TAIL["c"]
    t1, t2 = 1e6, 1e7
    slope = (math.log(_ratio_r1(t2, c, K)) - math.log(_ratio_r1(t1, c, K))) / math.log(t2 / t1)
    return np.array([0.5 * K, slope])


_COVER = dict(N=7, p=3)


def _cover_sum(last: int, factor: int = 2, top: int | None = None) -> float:
    N = _COVER["N"]
    top = N - 1 if top is None else top
    return float(factor * sum(math.comb(top, j) for j in range(last + 1)))


@register("ch04-cover", exercise="ch04-ex-cover", precision=integer(),
          hint="Cover's function-counting theorem: C(N, p+1) = 2 Σ_{j=0}^{p} binom(N-1, j).",
          mistakes={
              "no-factor-2": (lambda t: _cover_sum(_COVER["p"], factor=1),
                              "the count has a factor 2 in front of the sum (a labelling and its complement)."),
              "stops-at-p-1": (lambda t: _cover_sum(_COVER["p"] - 1),
                               "with an affine classifier in R^3 the sum runs over j = 0, ..., p = 3 (d = p + 1)."),
              "all-labellings": (lambda t: float(2 ** _COVER["N"]),
                                 "2^7 counts every labelling; with N = 7 > p + 1 points not all are separable "
                                 "(or you used binom(N, j) instead of binom(N − 1, j))."),
          })
def _cover():
    """Number of linearly separable labellings of N = 7 points in general position in R^3."""
    N, p = _COVER["N"], _COVER["p"]
    return 2 * sum(math.comb(N - 1, j) for j in range(p + 1))
