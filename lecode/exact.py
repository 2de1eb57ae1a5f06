r"""Closed-form solutions of the LE-ODE and estimators of the integrated impacts.

DESIGN.md section 3, items 2, 3 and 7:

* the symmetric cross-entropy LE-ODE and its margin law (chapter 4),
* the linear "identity" and "projected" LE-ODEs and their modes (chapter 3),
* estimators of A(t) = int_0^t alpha and B(t) = int_0^t beta from observed
  class-mean trajectories, and of alpha, beta themselves (chapters 3 and 6),
* the label-noise factor of the separating force (chapter 7).

All formulas assume no self-impact (gamma = 0) and no label noise unless
stated.  Notation: u_k = e_k - 1/K, ``|u_k|^2 = (K-1)/K``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import NonFiniteError, check_array, check_int, check_real

__all__ = [
    "integrated_impacts",
    "ce_margin_from_gap",
    "ce_symmetric_margin",
    "ce_symmetric_loss",
    "identity_mode_scales",
    "linear_identity_solution",
    "projected_coordinates",
    "projected_mode_scales",
    "linear_projected_solution",
    "estimate_AB_identity",
    "estimate_AB_projected",
    "impacts_from_AB",
    "label_noise_factor",
]


# --------------------------------------------------------------------------
# integrated impacts
# --------------------------------------------------------------------------

def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _times(t, name="t") -> np.ndarray:
    t = check_array(name, t)
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0 (time starts at 0)")
    return t


def _integrate(f, t: np.ndarray, name: str) -> np.ndarray:
    """int_0^t f for every entry of t (f a number or a callable of scalar t)."""
    if _is_number(f):
        return check_real(name, f) * t
    if not callable(f):
        raise TypeError(f"{name} must be a real number or a callable of t, got {type(f).__name__}")
    from scipy.integrate import quad

    flat = t.ravel()
    order = np.argsort(flat)
    grid = np.concatenate([[0.0], flat[order]])
    pieces = np.empty(len(flat))

    def g(s):
        v = float(f(s))
        if not math.isfinite(v):
            raise ValueError(f"{name}(t) must return finite values; {name}({s!r}) = {v}")
        return v

    for j in range(len(flat)):
        a, b = grid[j], grid[j + 1]
        pieces[j] = quad(g, a, b, limit=200, epsabs=1e-13, epsrel=1e-11)[0] if b > a else 0.0
    out = np.empty(len(flat))
    out[order] = np.cumsum(pieces)
    return out.reshape(t.shape)


def integrated_impacts(alpha, beta, t):
    r"""A(t) = int_0^t alpha(s) ds and B(t) = int_0^t beta(s) ds (chapter 3).

    Parameters
    ----------
    alpha, beta : float or callable of scalar t
    t : float or array of times >= 0

    Returns
    -------
    A, B : arrays of the shape of ``t`` (adaptive quadrature for callables).
    """
    t = _times(t)
    return _integrate(alpha, t, "alpha"), _integrate(beta, t, "beta")


# --------------------------------------------------------------------------
# symmetric cross-entropy LE-ODE (item 2)
# --------------------------------------------------------------------------

def _solve_margin(c: np.ndarray, K: int) -> np.ndarray:
    """Solve e^s + (K-1) s = c for s (vectorised, overflow-free).

    f(s) = e^s + a s - c is increasing and convex (a = K-1 >= 1), so Newton's
    method started above the root decreases monotonically to it.  Start:
    log(c) when c >= 1 (root in [0, log c]); c/a when c < 1 (root in
    ((c-1)/a, c/a)).  e^s never exceeds max(c, 1) along the iteration.
    """
    a = K - 1.0
    big = c >= 1.0
    s = np.where(big, np.log(np.where(big, c, 1.0)), c / a)
    for _ in range(100):
        f = np.exp(s) + a * s - c
        step = f / (np.exp(s) + a)
        s = s - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(1.0, np.abs(s))):
            break
    return s


def ce_margin_from_gap(gap, *, n_classes, s0=0.0):
    r"""Margin s of the symmetric cross-entropy LE-ODE after an integrated impact gap (chapters 4 and 6).

    On the symmetric configuration :math:`X_k = s\,u_k` the cross-entropy
    LE-ODE moves the margin by :math:`\dot s = (\alpha-\beta)/(e^{s} + K - 1)`
    (DESIGN.md section 3 item 2).  Separating variables,
    :math:`(e^{s} + K - 1)\,ds = (\alpha-\beta)\,dt`, so whatever the
    impacts' time dependence the margin depends on them only through the gap
    :math:`A(t) - B(t) = \int_{t_0}^t (\alpha - \beta)`; this function returns
    the root s of

    .. math::

        e^{s} + (K-1)\,s = e^{s_0} + (K-1)\,s_0 + \text{gap}.

    With constant impacts the gap is :math:`(\alpha-\beta)t`
    (:func:`ce_symmetric_margin`, chapter 4); with time-varying or measured
    impacts it is :math:`A(t) - B(t)` (chapter 6,
    :func:`lecode.imitation.linear_equivalent_gap`).

    The left side is increasing and convex in s, so the root is unique; it is
    found by Newton's method started above it (log c for c >= 1, c/(K-1)
    otherwise, c the right side), which decreases monotonically to the root
    without evaluating :math:`e^{s}` above max(c, 1): no overflow for any
    finite right side (s grows like log(gap) for a large positive gap and
    like gap/(K-1) for a large negative one).

    Parameters
    ----------
    gap : float or array
        :math:`A(t) - B(t)`, integrated from the time at which the margin is
        ``s0``.
    n_classes : int >= 2
        K.
    s0 : float <= 700, default 0
        Margin at gap 0 (:math:`e^{s_0}` must be a float).

    Returns
    -------
    ndarray of the shape of ``gap``

    Raises
    ------
    lecode.NonFiniteError
        If the right side overflows (a gap beyond about 1e308).

    Examples
    --------
    >>> float(ce_margin_from_gap(0.0, n_classes=3, s0=0.5))
    0.5
    >>> s = float(ce_margin_from_gap(10.0, n_classes=3))
    >>> round(math.exp(s) + 2 * s, 12)
    11.0
    """
    K = check_int("n_classes", n_classes, minimum=2)
    s0 = check_real("s0", s0)
    if s0 > 700.0:
        raise ValueError(f"s0 must be <= 700 (e^s0 must be a float), got {s0}")
    gap = check_array("gap", gap)
    with np.errstate(over="ignore", invalid="ignore"):
        c = math.exp(s0) + (K - 1) * s0 + gap
    if not np.all(np.isfinite(c)):
        raise NonFiniteError("e^s0 + (K-1) s0 + gap overflows the float range; gap must stay "
                             "well below 1e308 in absolute value")
    return _solve_margin(np.asarray(c, dtype=float), K)


def ce_symmetric_margin(t, *, alpha, beta, n_classes, s0=0.0):
    r"""Margin s(t) of the symmetric cross-entropy LE-ODE, X_k(t) = s(t) u_k (chapter 4).

    With logit features and class means on the simplex directions, the LE-ODE
    reduces to :math:`\dot s = (\alpha-\beta)\,e^{-s}/(1+(K-1)e^{-s})`, whose
    exact solution is (DESIGN.md section 3 item 2; solved by
    :func:`ce_margin_from_gap` with gap A(t) - B(t))

    .. math::

        e^{s} + (K-1)\,s = e^{s_0} + (K-1)\,s_0 + A(t) - B(t),

    A, B the integrated impacts.  For alpha > beta the margin grows like
    log((alpha-beta) t); for alpha < beta, s -> -infinity linearly.  Solved
    by a monotone Newton iteration (no overflow for any t).

    Parameters
    ----------
    t : float or array >= 0
    alpha, beta : float or callable of t
    n_classes : int >= 2
    s0 : float
        Initial margin.

    Returns
    -------
    s : array of the shape of ``t``
    """
    K = check_int("n_classes", n_classes, minimum=2)
    A, B = integrated_impacts(alpha, beta, t)
    return ce_margin_from_gap(A - B, n_classes=K, s0=s0)


def ce_symmetric_loss(t, *, alpha, beta, n_classes, s0=0.0):
    r"""Cross-entropy training loss along the symmetric CE LE-ODE (chapter 4).

    .. math::

        \ell(t) = \log\big(1 + (K-1)e^{-s(t)}\big),

    with s(t) from :func:`ce_symmetric_margin`.  For alpha > beta,
    :math:`\ell \approx (K-1)/((\alpha-\beta)t)` as t grows; for alpha < beta
    the loss grows without bound (the model's own readout fails, although the
    anti-aligned configuration is separable by another linear map).
    """
    K = check_int("n_classes", n_classes, minimum=2)
    s = ce_symmetric_margin(t, alpha=alpha, beta=beta, n_classes=K, s0=s0)
    return np.logaddexp(0.0, math.log(K - 1) - s)


# --------------------------------------------------------------------------
# linear identity LE-ODE (item 3)
# --------------------------------------------------------------------------

def _exp_checked(x, what):
    x = np.asarray(x, dtype=float)
    if np.any(x > 709.0):
        raise NonFiniteError(f"{what} exceeds the float range (exponent {x.max():.4g} > 709); "
                             f"use shorter times or work with the exponents (A, B) directly")
    return np.exp(x)


def _check_AB(A, B):
    """A and B as finite arrays of one shape (or a scalar with an array)."""
    A = check_array("A", A)
    B = check_array("B", B)
    if A.shape != B.shape and A.ndim and B.ndim:
        raise ValueError(f"A and B must have the same shape (one value per time), got "
                         f"A {A.shape} and B {B.shape}")
    return A, B


def identity_mode_scales(A, B, n_classes):
    r"""Growth factors of the linear identity LE-ODE's modes (chapter 3).

    .. math::

        \text{global mean: } e^{(A + (K-1)B)/K}, \qquad
        \text{class offsets: } e^{(A - B)/K}.

    Within-class deviations do not move (without self-impact).

    Returns
    -------
    (mean_scale, offset_scale) : arrays broadcast from A and B.
    """
    K = check_int("n_classes", n_classes, minimum=2)
    A, B = _check_AB(A, B)
    return (_exp_checked((A + (K - 1) * B) / K, "the global-mean scale"),
            _exp_checked((A - B) / K, "the class-offset scale"))


def linear_identity_solution(x0, A, B):
    r"""Class means of the linear identity LE-ODE at integrated impacts (A, B) (chapter 3).

    .. math::

        \bar X_k(t) = e^{(A+(K-1)B)/K}\,\bar m(0)
                      + e^{(A-B)/K}\,(\bar X_k(0) - \bar m(0)),
        \qquad \bar m = \frac1K\sum_k \bar X_k .

    Parameters
    ----------
    x0 : array (K, p)
        Initial class means.
    A, B : float or array (S,)
        Integrated impacts (see :func:`integrated_impacts`).

    Returns
    -------
    array (S, K, p) (or (K, p) for scalar A, B)
    """
    x0 = check_array("x0", x0, ndim=2)
    K = x0.shape[0]
    if K < 2:
        raise ValueError(f"x0 must have shape (K, p) with K >= 2 classes, got {x0.shape}")
    A, B = _check_AB(A, B)
    sm, so = identity_mode_scales(A, B, K)
    with np.errstate(over="ignore", invalid="ignore"):
        m = x0.mean(axis=0)
        out = sm[..., None, None] * m + so[..., None, None] * (x0 - m)
    if not np.all(np.isfinite(out)):
        raise NonFiniteError("the solution overflows the float range: x0 is too large or "
                             "A, B grow too far")
    return out


def estimate_AB_identity(times, class_means):
    r"""Estimate A(t), B(t) from class-mean trajectories, identity variant (chapter 3).

    Inverts the modes of :func:`identity_mode_scales`: with the global mean
    m(t) and the offsets O(t) = [X_k(t) - m(t)],

    .. math::

        L_m = \log\frac{|m(t)|}{|m(t_0)|} = \frac{A + (K-1)B}{K},\qquad
        L_o = \log\frac{\|O(t)\|}{\|O(t_0)\|} = \frac{A - B}{K},

        \hat B = L_m - L_o, \qquad \hat A = K L_o + \hat B .

    Exact for the identity LE-ODE; on other data it fits the growth of the
    two modes (A, B measured from times[0]).

    Parameters
    ----------
    times : array (S,)
        Increasing observation times.
    class_means : array (S, K, p)

    Returns
    -------
    A_hat, B_hat : arrays (S,), zero at times[0].

    Raises
    ------
    ValueError
        If the global mean or the class offsets vanish at some record (size
        at most 1e-12 of the class means' size) or change sign between two
        consecutive records (negative inner product, and the straight path
        between the two values passes within 1% of the larger norm from
        zero): the identity LE-ODE only scales each mode by a positive
        factor, so the norms would give a wrong growth.  The message names
        the mode and the time index.  A mode that only rotates is fitted by
        its norm.
    """
    times, X = _check_trajectory(times, class_means)
    K = X.shape[1]
    m = X.mean(axis=1)
    O = X - m[:, None, :]
    Lm = _mode_log_ratio(times, X, m, "global mean")
    Lo = _mode_log_ratio(times, X, O, "class offsets")
    B = Lm - Lo
    return K * Lo + B, B


# --------------------------------------------------------------------------
# linear projected LE-ODE (item 3)
# --------------------------------------------------------------------------

def projected_coordinates(class_means):
    r"""``y_k = u_k . X_k / |u_k|^2`` for class means (..., K, K) (logit features; chapter 3).

    Returns an array (..., K).
    """
    X = check_array("class_means", class_means)
    if X.ndim < 2 or X.shape[-1] != X.shape[-2] or X.shape[-1] < 2:
        raise ValueError(f"class_means must have shape (..., K, K) (logit features), got {X.shape}")
    K = X.shape[-1]
    diag = np.diagonal(X, axis1=-2, axis2=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        y = (diag - X.mean(axis=-1)) * (K / (K - 1))
    if not np.all(np.isfinite(y)):
        raise NonFiniteError("class_means are too large: the projected coordinates overflow "
                             "the float range")
    return y


def projected_mode_scales(A, B, n_classes):
    r"""Growth factors of the linear projected LE-ODE's modes (chapter 3).

    In ``y_k = u_k . X_k/|u_k|^2`` the LE-ODE reads
    :math:`\dot y_k = \frac1K[(\alpha-\beta)y_k + \beta(K y_k - \sum_j y_j)/(K-1)]`, so

    .. math::

        \text{equal-}y\text{ mode: } e^{(A-B)/K}, \qquad
        \textstyle\sum_k y_k = 0 \text{ modes: } e^{(A + B/(K-1))/K}.

    Returns
    -------
    (equal_scale, contrast_scale)
    """
    K = check_int("n_classes", n_classes, minimum=2)
    A, B = _check_AB(A, B)
    return (_exp_checked((A - B) / K, "the equal-y scale"),
            _exp_checked((A + B / (K - 1)) / K, "the contrast scale"))


def linear_projected_solution(y0, A, B):
    r"""Projected coordinates y(t) of the linear projected LE-ODE (chapter 3).

    .. math::

        y_k(t) = e^{(A-B)/K}\,\bar y(0) + e^{(A + B/(K-1))/K}\,(y_k(0) - \bar y(0)),

    with :math:`\bar y` the mean over classes.

    Parameters
    ----------
    y0 : array (K,)
    A, B : float or array (S,)

    Returns
    -------
    array (S, K) (or (K,) for scalar A, B)
    """
    y0 = check_array("y0", y0, ndim=1)
    K = y0.shape[0]
    if K < 2:
        raise ValueError(f"y0 must have K >= 2 entries, got {y0.shape}")
    se, sc = projected_mode_scales(A, B, K)
    with np.errstate(over="ignore", invalid="ignore"):
        yb = y0.mean()
        out = se[..., None] * yb + sc[..., None] * (y0 - yb)
    if not np.all(np.isfinite(out)):
        raise NonFiniteError("the solution overflows the float range: y0 is too large or "
                             "A, B grow too far")
    return out


def estimate_AB_projected(times, class_means):
    r"""Estimate A(t), B(t) from class-mean logits, projected variant (chapter 3).

    With y = :func:`projected_coordinates`, its mean :math:`\bar y` and its
    contrast z = y - ybar,

    .. math::

        L_1 = \log\frac{|\bar y(t)|}{|\bar y(t_0)|} = \frac{A-B}{K},\qquad
        L_2 = \log\frac{|z(t)|}{|z(t_0)|} = \frac{A + B/(K-1)}{K},

        \hat B = (K-1)(L_2 - L_1), \qquad \hat A = K L_1 + \hat B .

    Parameters
    ----------
    times : array (S,)
    class_means : array (S, K, K)

    Returns
    -------
    A_hat, B_hat : arrays (S,), zero at times[0].

    Raises
    ------
    ValueError
        If :math:`\bar y` changes sign between two consecutive records, the
        contrast z changes sign between them (negative inner product, and the
        straight path between the two values passes within 1% of the larger
        norm from zero; for K = 2, where z is one-dimensional, any sign
        change), or either vanishes at a record (size at most 1e-12 of the
        class means' size): the projected LE-ODE only scales each mode by a
        positive factor, so the absolute values would give a wrong growth.
        The message names the mode and the time index.  A sign change
        between records that is undone before the next record cannot be
        seen; record densely enough.
    """
    times, X = _check_trajectory(times, class_means)
    K = X.shape[1]
    if X.shape[2] != K:
        raise ValueError(f"class_means must have shape (S, K, K) for the projected variant "
                         f"(logit features), got {X.shape}")
    y = projected_coordinates(X)
    yb = y.mean(axis=-1)
    z = y - yb[:, None]
    L1 = _mode_log_ratio(times, X, yb, "mean projected coordinate ybar")
    L2 = _mode_log_ratio(times, X, z, "projected contrast z")
    B = (K - 1) * (L2 - L1)
    return K * L1 + B, B


# --------------------------------------------------------------------------
# impacts from A, B
# --------------------------------------------------------------------------

def impacts_from_AB(times, A, B, *, window=None):
    r"""Estimate alpha(t), beta(t) as smoothed derivatives of A(t), B(t) (chapters 3 and 6).

    :math:`\hat\alpha(t_j)` is the slope of the least-squares line through the
    ``window`` points (t_i, A_i) nearest to t_j (centred where possible,
    one-sided at the ends); likewise :math:`\hat\beta` from B.  With
    ``window=3`` on a uniform grid this is the central difference.  Exact for
    A, B linear in t (constant impacts).

    Parameters
    ----------
    times : array (S,), strictly increasing
    A, B : arrays (S,)
    window : int, 2 <= window <= S, default min(5, S)

    Returns
    -------
    alpha_hat, beta_hat : arrays (S,)
    """
    times = check_array("times", times, ndim=1)
    S = times.size
    A = check_array("A", A)
    B = check_array("B", B)
    if A.shape != (S,) or B.shape != (S,):
        raise ValueError(f"A must have shape ({S},) like B (one value per entry of times); "
                         f"got A {A.shape}, B {B.shape}")
    if S < 2:
        raise ValueError("times must hold at least 2 points")
    if np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing")
    window = min(5, S) if window is None else check_int("window", window, minimum=2, maximum=S)
    h = window // 2
    out_a, out_b = np.empty(S), np.empty(S)
    for j in range(S):
        lo = min(max(0, j - h), S - window)
        sl = slice(lo, lo + window)
        tt = times[sl] - times[sl].mean()
        den = (tt ** 2).sum()
        out_a[j] = (tt * A[sl]).sum() / den
        out_b[j] = (tt * B[sl]).sum() / den
    return out_a, out_b


# --------------------------------------------------------------------------
# label noise (item 7)
# --------------------------------------------------------------------------

def label_noise_factor(p, n_classes):
    r"""Factor of the separating force under label noise p (chapter 7).

    .. math::

        f(p) = 1 - \frac{pK}{K-1},

    zero at p = (K-1)/K and negative beyond.  Exact for the cross-entropy
    drift at the symmetric start X = 0 (the constant part of the gradient)
    and for the P_y part of the projected gradient; the identity gradient
    ignores labels altogether (see chapter 7 and the tests).
    """
    K = check_int("n_classes", n_classes, minimum=2)
    p = check_array("p", p)
    if np.any((p < 0) | (p >= 1)):
        raise ValueError("p must be in [0, 1)")
    return 1.0 - p * K / (K - 1)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _check_trajectory(times, class_means):
    times = check_array("times", times, ndim=1)
    X = check_array("class_means", class_means, ndim=3)
    if X.shape[0] != times.size:
        raise ValueError(f"class_means must have shape (S, K, p) with S = len(times) = "
                         f"{times.size}, got {X.shape}")
    if X.shape[1] < 2:
        raise ValueError(f"class_means must hold K >= 2 classes, got {X.shape}")
    if times.size >= 2 and np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing")
    return times, X


#: A mode whose size is at most this fraction of the class means' size at the
#: same time (Frobenius norms) is treated as zero: it is then of the order of
#: the rounding error of the numbers it is computed from.
_VANISH_RTOL = 1e-12

#: A vector mode that reverses between two consecutive records (negative inner
#: product) and whose straight path between them passes within this fraction
#: of the larger of the two sizes from zero is treated as changing sign.
_CROSS_RTOL = 1e-2


def _mode_log_ratio(times: np.ndarray, X: np.ndarray, v: np.ndarray, what: str) -> np.ndarray:
    """log(|v(t)| / |v(t_0)|) for a mode v (S,) or (S, ...) of the class means X (S, K, p).

    The linear LE-ODEs multiply each mode by a positive factor, so a mode
    that is (numerically) zero at some record, or that changes sign between
    two consecutive records, cannot be fitted: its absolute value (norm)
    would give a silently wrong growth.  A scalar mode changes sign when
    consecutive values have opposite signs; a vector mode when consecutive
    values have a negative inner product and the segment between them passes
    within ``_CROSS_RTOL`` of the larger of the two norms from zero (a mode
    that merely rotates is left to the fit).  Both raise a ``ValueError``
    naming the mode and the time index.
    """
    flat = v.reshape(v.shape[0], -1)
    size = np.linalg.norm(flat, axis=1)
    scale = np.linalg.norm(X.reshape(X.shape[0], -1), axis=1)
    small = np.flatnonzero(size <= _VANISH_RTOL * scale)
    if small.size:
        j = int(small[0])
        raise ValueError(f"class_means: the {what} vanishes at time index {j} (t = {times[j]:g}; "
                         f"size {size[j]:.3g}, at most {_VANISH_RTOL:g} of the class means' size "
                         f"{scale[j]:.3g}), so its growth cannot be estimated; fit a window where "
                         f"it stays away from zero")
    a, b = flat[:-1], flat[1:]
    ab = np.einsum("si,si->s", a, b)
    na, nb = size[:-1], size[1:]
    # distance from 0 to the segment [a, b] (its foot is interior when a.b < 0)
    with np.errstate(divide="ignore", invalid="ignore"):      # a == b: no crossing anyway
        gap = np.sqrt(np.maximum(na ** 2 * nb ** 2 - ab ** 2, 0.0)) / np.linalg.norm(b - a, axis=1)
    cross = np.flatnonzero((ab < 0) & (gap <= _CROSS_RTOL * np.maximum(na, nb)))
    if cross.size:
        j = int(cross[0])
        raise ValueError(f"class_means: the {what} changes sign (passes through zero) between "
                         f"time indices {j} and {j + 1} (t = {times[j]:g} to {times[j + 1]:g}); "
                         f"a linear LE-ODE only scales it by a positive factor, so its growth "
                         f"cannot be estimated across the change; fit a window where it keeps "
                         f"its sign")
    return np.log(size) - np.log(size[0])
