r"""Measurements of a feature configuration: loss, accuracy, margins, linear
separability and neural collapse.

Every function takes ``features`` of shape ``(..., K, n, p)``: any number of
leading *batch* axes (trials, saved times, parameter settings...), then the
``K`` classes, the ``n`` samples of each class and the ``p`` feature
coordinates. This is the layout of :attr:`lecode.Trajectory.features`
(``(n_trials, S, K, n, p)``), so ``metrics.accuracy(traj.features)`` returns an
``(n_trials, S)`` array. Results have the batch shape.

Two optional arguments are shared:

``labels``
    Integer labels in ``{0, ..., K-1}``, of shape ``(K, n)`` (or anything that
    broadcasts to ``features.shape[:-1]``). By default the label of a sample
    is its class index, i.e. its position along axis ``-3``. Give them
    explicitly in label-noise settings, where the label used by the loss
    differs from the true class (``traj.labels``).
``readout``
    A fixed ``K x p`` matrix ``V`` mapping a feature ``x`` to the logits
    ``V x`` (the book's notation for a readout). By default the features *are*
    the logits (``p == K``, ``V = I``),
    the book's default feature space (DESIGN.md section 3).

Two notions of separability appear in the book and must not be confused:

* **zero training error with the model's own readout** -- every sample's
  logit for its label exceeds all its other logits; measured by
  :func:`accuracy` ``== 1`` (equivalently :func:`min_margin` ``> 0``); this is
  what vanishing training loss requires;
* **linear separability** -- *some* linear classifier ``x -> argmax_k
  (w_k . x + b_k)`` classifies every sample correctly; measured by
  :func:`is_separable` through an exact linear program. The first implies the
  second, not conversely (anti-aligned features ``-s u_k`` are linearly
  separable, yet the identity readout gets every sample wrong).

Chapter 4 (the phase transition) uses the loss, accuracy, margins and
separability; chapter 5 (neural collapse) uses :func:`neural_collapse`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog

from ._validate import NonFiniteError, check_array, check_real

__all__ = [
    "cross_entropy",
    "accuracy",
    "margins",
    "min_margin",
    "is_separable",
    "neural_collapse",
    "NeuralCollapse",
]


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------

def _features(features) -> np.ndarray:
    x = check_array("features", features)
    if x.ndim < 3:
        raise ValueError("features must have shape (..., K, n, p) with at least 3 "
                         f"dimensions (classes, samples per class, feature dims), got shape {x.shape}")
    K, n, p = x.shape[-3:]
    if K < 1 or n < 1 or p < 1:
        raise ValueError(f"features must have K >= 1 classes, n >= 1 samples and p >= 1 "
                         f"feature dims (axes -3, -2, -1), got shape {x.shape}")
    return x


def _labels(labels, x: np.ndarray) -> np.ndarray | None:
    """Validated integer labels broadcast to ``x.shape[:-1]``, or None (default)."""
    if labels is None:
        return None
    try:
        lab = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"labels must be an array of integers ({exc})") from None
    if lab.dtype.kind == "b" or lab.dtype.kind not in "iuf":
        raise TypeError(f"labels must be an array of integers, got dtype {lab.dtype}")
    if lab.dtype.kind == "f":
        if not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)):
            raise TypeError("labels must be an array of integers (found non-integer values)")
    lab = lab.astype(np.intp)
    K = x.shape[-3]
    try:
        lab = np.broadcast_to(lab, x.shape[:-1])
    except ValueError:
        raise ValueError(f"labels must have shape (K, n) = {x.shape[-3:-1]} (or broadcast to "
                         f"the features' shape without the last axis, {x.shape[:-1]}), "
                         f"got shape {np.shape(labels)}") from None
    if lab.size and (lab.min() < 0 or lab.max() >= K):
        raise ValueError(f"labels must be integers in [0, K-1] = [0, {K - 1}], "
                         f"got values in [{lab.min()}, {lab.max()}]")
    return lab


def _readout(readout, x: np.ndarray, *, required: bool = True) -> np.ndarray | None:
    """The K x p readout, or None for the identity (only allowed when p == K)."""
    K, p = x.shape[-3], x.shape[-1]
    if readout is None:
        if required and p != K:
            raise ValueError(f"readout is required when the features are not logits: the "
                             f"feature dimension p = {p} differs from the number of classes K = {K}; "
                             "pass the K x p readout matrix V (logits = V x)")
        return None
    return check_array("readout", readout, shape=(K, p))


def _default_labels(x: np.ndarray) -> np.ndarray:
    K, n = x.shape[-3], x.shape[-2]
    return np.broadcast_to(np.arange(K)[:, None], (K, n))


def _logits(x: np.ndarray, W: np.ndarray | None) -> np.ndarray:
    if W is None:
        return x
    with np.errstate(over="ignore", invalid="ignore"):
        z = x @ W.T
    if not np.all(np.isfinite(z)):
        raise NonFiniteError("the logits V x overflowed (features or readout too large); "
                             "rescale the features or the readout")
    return z


def _label_logit_and_rival(z: np.ndarray, lab: np.ndarray | None):
    """Logit of the label and the largest other logit, both shaped ``z.shape[:-1]``."""
    C = z.shape[-1]
    if lab is None:
        lab = _default_labels(z)
    onehot = lab[..., None] == np.arange(C)
    own = np.take_along_axis(z, np.broadcast_to(lab, z.shape[:-1])[..., None], axis=-1)[..., 0]
    if C == 1:
        return own, np.full_like(own, -np.inf)
    rival = np.max(np.where(onehot, -np.inf, z), axis=-1)
    return own, rival


# --------------------------------------------------------------------------
# loss, accuracy, margins
# --------------------------------------------------------------------------

def cross_entropy(features, labels=None, readout=None, *, reduce: bool = True) -> np.ndarray:
    r"""Mean cross-entropy training loss.

    .. math::

        L = \frac{1}{Kn}\sum_{k=1}^{K}\sum_{i=1}^{n} \ell(V X_{k,i}, y_{k,i}),
        \qquad \ell(z, y) = \log\sum_{j} e^{z_j} - z_y ,

    computed stably as :math:`(m - z_y) + \log\sum_j e^{z_j - m}` with
    :math:`m = \max_j z_j`, so logits of any finite size are fine (DESIGN.md
    section 3; taught in chapters 2 and 4).

    Parameters
    ----------
    features : array_like, shape (..., K, n, p)
        Features; leading axes are batch axes.
    labels : array_like of int, shape (K, n), optional
        Labels (default: the class index of each sample).
    readout : array_like, shape (K, p), optional
        Readout ``V`` (default: identity, requires ``p == K``).
    reduce : bool, default True
        If False, return the per-sample losses, shape ``(..., K, n)``.

    Returns
    -------
    numpy.ndarray
        The mean loss, with the batch shape ``features.shape[:-3]``.

    Raises
    ------
    NonFiniteError
        If a loss exceeds the floating-point range (logit gaps above ~1e308).
    """
    x = _features(features)
    lab = _labels(labels, x)
    z = _logits(x, _readout(readout, x))
    if lab is None:
        lab = _default_labels(z)
    m = np.max(z, axis=-1)
    own = np.take_along_axis(z, np.broadcast_to(lab, z.shape[:-1])[..., None], axis=-1)[..., 0]
    with np.errstate(over="ignore", invalid="ignore"):
        loss = (m - own) + np.log(np.sum(np.exp(z - m[..., None]), axis=-1))
    if not np.all(np.isfinite(loss)):
        raise NonFiniteError("cross_entropy overflowed: a logit gap exceeds the floating-point "
                             "range; the loss is effectively infinite")
    return loss.mean(axis=(-2, -1)) if reduce else loss


def margins(features, labels=None, readout=None) -> np.ndarray:
    r"""Per-sample logit margins.

    .. math::

        m_{k,i} = z_{y} - \max_{j \ne y} z_j, \qquad z = V X_{k,i},\; y = y_{k,i}.

    A sample is classified correctly by the readout exactly when its margin is
    positive (ties count as errors). Taught in chapter 4 (the margin of the
    symmetric LE-ODE grows like :math:`\log t` when :math:`\alpha > \beta`).

    Parameters
    ----------
    features, labels, readout
        As in :func:`cross_entropy`.

    Returns
    -------
    numpy.ndarray, shape (..., K, n)
        With ``K == 1`` the margins are ``+inf`` (no rival logit).
    """
    x = _features(features)
    lab = _labels(labels, x)
    z = _logits(x, _readout(readout, x))
    own, rival = _label_logit_and_rival(z, lab)
    with np.errstate(over="ignore", invalid="ignore"):
        out = own - rival
    if np.any(np.isnan(out)) or (z.shape[-1] > 1 and not np.all(np.isfinite(out))):
        raise NonFiniteError("margins overflowed: a logit gap exceeds the floating-point range")
    return out


def min_margin(features, labels=None, readout=None) -> np.ndarray:
    r"""Smallest logit margin over all samples, :math:`\min_{k,i} m_{k,i}`.

    Positive exactly when the readout classifies every sample correctly
    (``accuracy == 1``). See :func:`margins`; chapter 4.

    Returns
    -------
    numpy.ndarray
        Batch shape ``features.shape[:-3]``.
    """
    return margins(features, labels, readout).min(axis=(-2, -1))


def accuracy(features, labels=None, readout=None) -> np.ndarray:
    r"""Training accuracy of the readout's argmax prediction.

    .. math::

        \mathrm{acc} = \frac{1}{Kn}\sum_{k,i}
        \mathbf 1\big[z_{y} > \max_{j\ne y} z_j\big],\qquad z = V X_{k,i}.

    Ties count as errors, so ``accuracy == 1`` exactly when all
    :func:`margins` are positive: *zero training error with the model's own
    readout*, a stronger statement than linear separability
    (:func:`is_separable`). Chapter 4.

    Returns
    -------
    numpy.ndarray
        Fractions in [0, 1], batch shape ``features.shape[:-3]``.
    """
    return (margins(features, labels, readout) > 0).mean(axis=(-2, -1))


# --------------------------------------------------------------------------
# linear separability: an exact linear program
# --------------------------------------------------------------------------

_RANK_RTOL = 1e-9     # relative singular-value cut-off of the whitening step
_SUBSET_MIN = 20     # cutting planes: first subset size, at least this many points
_SUBSET_PER_DIM = 2  # ... and this many per (class, whitened dimension + 1)


def _whiten(X: np.ndarray):
    """Affine coordinates of the points in their affine hull, unit variance.

    Returns ``Z`` (N, r), the mean ``c`` and ``T`` (p, r) with ``X ~ c + Z T.T``
    on the hull. ``r = 0`` when all points coincide (to rounding).
    """
    N, p = X.shape
    top = np.max(np.abs(X)) if X.size else 0.0
    if top > 0:                     # separability is scale-invariant; avoid overflow
        X = X / top
    c = X.mean(axis=0) * top
    Xc = X - X.mean(axis=0)
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    floor = 100.0 * np.sqrt(N * p) * np.finfo(float).eps * (1.0 if top > 0 else 0.0)
    cut = max(_RANK_RTOL * (s[0] if s.size else 0.0), floor)
    r = int(np.sum(s > cut)) if s.size else 0
    Z = U[:, :r] * np.sqrt(N)
    T = Vt[:r].T * (s[:r] * top / np.sqrt(N))
    return Z, c, T


def _classifier_margin(Wz: np.ndarray, bz: np.ndarray, Z: np.ndarray, y: np.ndarray) -> float:
    """Smallest margin of ``argmax(Z Wz^T + bz)`` in the LP's normalisation.

    The LP fixes the gauge ``w_{C-1} = 0`` and bounds the other rows by
    ``|w| <= 1`` entrywise; a classifier is rescaled into that box so that its
    margin is a lower bound on the LP optimum.
    """
    Wg = Wz - Wz[-1]
    scale = np.max(np.abs(Wg[:-1])) if Wg.shape[0] > 1 and Wg.size else 0.0
    if not scale > 0:
        return -np.inf
    L = Z @ Wz.T + bz
    own, rival = _label_logit_and_rival(L, y)
    return float(np.min(own - rival) / scale)


def _lp_margin(Z: np.ndarray, y: np.ndarray, C: int):
    """Solve the max-margin LP on the points ``Z`` with labels ``y`` in [0, C).

    maximise t  subject to  (w_k - w_j).z + (b_k - b_j) >= t  for every point z
    of class k and every j != k,  w_{C-1} = b_{C-1} = 0,  |w_{k,d}| <= 1,
    t <= 1.  Variables are ordered [w_0, b_0, ..., w_{C-2}, b_{C-2}, t].
    Returns ``(t, W, b)`` with W (C, r), b (C,).
    """
    N, r = Z.shape
    stride = r + 1
    nv = (C - 1) * stride + 1
    # one row per (point, rival class); in A_ub form: -(w_k-w_j).z -(b_k-b_j) + t <= 0
    rival = np.tile(np.arange(C), N).reshape(N, C)
    keep = rival != y[:, None]
    pts = np.repeat(np.arange(N), C - 1)
    js = rival[keep]
    ks = y[pts]
    zb = np.hstack([Z, np.ones((N, 1))])[pts]            # (M, r+1)
    A = np.zeros((pts.size, nv))
    rows = np.arange(pts.size)
    cols = np.arange(stride)
    mk = ks < C - 1
    A[rows[mk, None], (ks[mk] * stride)[:, None] + cols] -= zb[mk]
    mj = js < C - 1
    A[rows[mj, None], (js[mj] * stride)[:, None] + cols] += zb[mj]
    A[:, -1] = 1.0
    bounds = np.empty((nv, 2))
    bounds[:, 0], bounds[:, 1] = -1.0, 1.0
    bounds[r::stride, 0], bounds[r::stride, 1] = -np.inf, np.inf   # biases are free
    bounds[-1] = (-np.inf, 1.0)
    cost = np.zeros(nv)
    cost[-1] = -1.0
    res = linprog(cost, A_ub=A, b_ub=np.zeros(pts.size), bounds=bounds, method="highs-ds")
    if res.status != 0:   # the LP is always feasible (w = 0, t = 0) and bounded (t <= 1)
        raise RuntimeError(f"is_separable: the linear program failed ({res.message})")
    v = np.append(res.x[:-1], np.zeros(stride)).reshape(C, stride)
    return -float(res.fun), v[:, :r], v[:, r]


def _separable_one(X: np.ndarray, y: np.ndarray, W: np.ndarray | None, tol: float) -> bool:
    classes, y = np.unique(y, return_inverse=True)
    C = classes.size
    if C < 2:
        return True
    Z, c, T = _whiten(X)
    N, r = Z.shape
    if r == 0:          # all points coincide, at least two classes: nothing separates them
        return False
    # fast certificates: any classifier with margin > tol proves separability
    counts = np.bincount(y, minlength=C)
    mu = (np.eye(C)[y].T @ Z) / counts[:, None]
    ncc = (mu, -0.5 * np.sum(mu * mu, axis=1))                    # nearest class centre
    cands = [ncc]
    if W is not None:                                             # the model's readout
        Wp = W[classes]
        cands.append((Wp @ T, Wp @ c))
    for Wz, bz in cands:
        if _classifier_margin(Wz, bz, Z, y) > tol:
            return True
    # cutting planes: solve the LP on the points the centre classifier finds
    # hardest; a subset with optimum <= tol certifies non-separability, a
    # solution with margin > tol on all points certifies separability.
    L = Z @ ncc[0].T + ncc[1]
    own, rival = _label_logit_and_rival(L, y)
    order = np.argsort(own - rival, kind="stable")
    m0 = min(N, max(_SUBSET_MIN, _SUBSET_PER_DIM * (r + 1) * C))
    active = np.zeros(N, bool)
    active[order[:m0]] = True
    for k in range(C):                    # every class represented
        active[np.flatnonzero(y == k)[0]] = True
    while True:
        t, Wz, bz = _lp_margin(Z[active], y[active], C)
        if t <= tol:
            return False
        L = Z @ Wz.T + bz
        own, rival = _label_logit_and_rival(L, y)
        m = (own - rival) / max(np.max(np.abs(Wz[:-1])), 1e-300)
        bad = np.flatnonzero((m <= tol) & ~active)
        if m.min() > tol or bad.size == 0:
            return True
        bad = bad[np.argsort(m[bad], kind="stable")][:max(m0, 10)]
        active[bad] = True


def is_separable(features, labels=None, readout=None, *, tol: float = 1e-6) -> np.ndarray:
    r"""Whether the samples are *linearly separable* (exact linear program).

    Decides, for each batch element, whether some linear classifier
    :math:`x \mapsto \arg\max_k (w_k\cdot x + b_k)` classifies every sample
    correctly, i.e. whether there exist :math:`W \in \mathbb R^{K\times p}`,
    :math:`b\in\mathbb R^K` with

    .. math::

        (w_k - w_j)\cdot x + (b_k - b_j) \ge 1
        \quad\text{for every sample } x \text{ labelled } k
        \text{ and every class } j \ne k .

    By rescaling :math:`(W, b)`, this LP is feasible exactly when the classes
    are *strictly* linearly separable. For ``K = 2`` it is the usual binary
    test (:math:`v = w_0 - w_1`). This is *not* "zero training error with the
    model's own readout" (:func:`accuracy` ``== 1``): that implies
    separability, but separable features can be misclassified by the readout
    (DESIGN.md section 3, item 2). Taught in chapter 4 (the phase transition);
    by Cover's theorem, ``N <= p + 1`` points in general position are always
    separable, whatever the dynamics.

    **Numerics.** The points are first mapped to affine coordinates of their
    affine hull, centred and whitened (an SVD; directions with singular value
    below ``1e-9`` of the largest, or at rounding level, are dropped). Every
    invertible affine map preserves separability, so the answer is invariant to
    translation, scale and rotation of the features, and the LP is well
    conditioned for features of any size. The LP actually solved fixes the
    gauge :math:`w_{K-1} = b_{K-1} = 0`, bounds :math:`|w_{k,d}| \le 1` and
    maximises the common margin :math:`t \le 1`; the samples are declared
    separable when :math:`t^* >` ``tol``. ``tol`` is thus a margin in units of
    the data's standard deviation; it must exceed the solver's feasibility
    tolerance (1e-7). Exact ties (a point shared by two classes) give
    :math:`t^* = 0`.

    **Speed.** Two linear classifiers are tried first -- the nearest class
    centre in whitened coordinates and, when available, the model's readout;
    if either has margin above ``tol`` no LP is solved. Otherwise the LP is
    solved by cutting planes (HiGHS dual simplex): on a subset of the hardest
    points first, adding violated points until the subset's optimum is
    ``<= tol`` (a certificate of non-separability) or its solution separates
    all points.

    Parameters
    ----------
    features : array_like, shape (..., K, n, p)
        Features; leading axes are batch axes (one LP per batch element).
    labels : array_like of int, shape (K, n), optional
        Labels (default: the class index). Classes absent from the labels are
        ignored; with fewer than two classes present the answer is True.
    readout : array_like, shape (K, p), optional
        Only used as a fast certificate. By default the identity when
        ``p == K``; ignored otherwise.
    tol : float, default 1e-6
        Margin threshold (see Numerics), in (0, 1).

    Returns
    -------
    numpy.ndarray of bool
        Batch shape ``features.shape[:-3]``.
    """
    x = _features(features)
    lab = _labels(labels, x)
    tol = check_real("tol", tol, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    K, n, p = x.shape[-3:]
    if readout is not None:
        W = _readout(readout, x)
    else:
        W = np.eye(K) if p == K else None
    batch = x.shape[:-3]
    xs = x.reshape((-1, K * n, p))
    if lab is None:
        ys = np.broadcast_to(np.repeat(np.arange(K), n), (xs.shape[0], K * n))
    else:
        ys = lab.reshape((-1, K * n))
    out = np.empty(xs.shape[0], bool)
    for b in range(xs.shape[0]):
        out[b] = _separable_one(xs[b], ys[b], W, tol)
    return out.reshape(batch)


# --------------------------------------------------------------------------
# neural collapse
# --------------------------------------------------------------------------

class NeuralCollapse(NamedTuple):
    """Neural-collapse statistics (see :func:`neural_collapse`); each field has
    the batch shape of the features."""

    nc1: np.ndarray
    nc2_equinorm: np.ndarray
    nc2_equiangle: np.ndarray
    etf_distance: np.ndarray
    nc3: np.ndarray
    nc4: np.ndarray


def neural_collapse(features, labels=None, readout=None) -> NeuralCollapse:
    r"""Neural-collapse statistics NC1--NC4 (Papyan, Han & Donoho, 2020).

    With class means :math:`\mu_k` (over the samples labelled :math:`k`),
    global mean :math:`\mu_G = \frac1K\sum_k \mu_k` (the unweighted mean of the
    class means), centred means :math:`M = [\mu_k - \mu_G]_k \in \mathbb
    R^{p\times K}` and :math:`N = Kn` samples:

    * ``nc1`` -- within- over between-class variability,
      :math:`\mathrm{NC1} = \frac1K \operatorname{Tr}(\Sigma_W \Sigma_B^{\dagger})`
      **with the factor** :math:`1/K`, where
      :math:`\Sigma_W = \frac1N\sum_{k,i}(h_{k,i}-\mu_{y})(h_{k,i}-\mu_{y})^\top`,
      :math:`\Sigma_B = \frac1K M M^\top` and :math:`\dagger` is the
      Moore--Penrose pseudo-inverse (singular values of :math:`M` below
      ``1e-10`` of the largest, or at the rounding level of the features,
      are treated as zero). ``inf`` when all class means coincide but the
      samples do not; 0 when all samples coincide.
    * ``nc2_equinorm`` -- :math:`\operatorname{std}_k\|\mu_k-\mu_G\| /
      \operatorname{mean}_k\|\mu_k-\mu_G\|` (population std).
    * ``nc2_equiangle`` -- :math:`\operatorname{mean}_{k\ne k'}
      \big|\cos(\mu_k-\mu_G, \mu_{k'}-\mu_G) + \frac1{K-1}\big|`.
    * ``etf_distance`` -- :math:`\big\| G/\|G\|_F - E/\|E\|_F \big\|_F` with the
      Gram matrix :math:`G = M^\top M` and the simplex-ETF Gram
      :math:`E = I - \frac1K \mathbf 1\mathbf 1^\top`.
    * ``nc3`` -- self-duality, :math:`\big\| \tilde V/\|\tilde V\|_F -
      M^\top/\|M\|_F \big\|_F` with the row-centred readout
      :math:`\tilde V = V - \frac1K\mathbf 1\mathbf 1^\top V` (adding a
      common vector to all rows of :math:`V` changes no prediction). For logit
      features :math:`V = I`, so the target directions are :math:`u_k = e_k - \frac1K\mathbf 1`.
    * ``nc4`` -- the fraction of samples whose argmax prediction
      :math:`\arg\max_k (V h)_k` differs from the nearest-class-centre
      prediction :math:`\arg\min_k \|h - \mu_k\|`.

    All are 0 at perfect collapse onto a simplex ETF aligned with the readout.
    ``nc2_*``, ``etf_distance`` and ``nc3`` are ``nan`` where undefined (a
    centred class mean of zero length, e.g. all class means equal). Taught in
    chapter 5 (DESIGN.md sections 3, item 6, and 8).

    Parameters
    ----------
    features : array_like, shape (..., K, n, p)
        Features, ``K >= 2``; leading axes are batch axes.
    labels : array_like of int, shape (K, n), optional
        Labels defining the classes (default: the class index). Every label
        ``0..K-1`` must occur.
    readout : array_like, shape (K, p), optional
        Readout (default: identity; required when ``p != K``).

    Returns
    -------
    NeuralCollapse
        Named tuple of arrays with the batch shape ``features.shape[:-3]``.
    """
    x = _features(features)
    K, n, p = x.shape[-3:]
    if K < 2:
        raise ValueError(f"neural_collapse needs K >= 2 classes (axis -3 of features), got K = {K}")
    lab = _labels(labels, x)
    W = _readout(readout, x)
    Wm = np.eye(K) if W is None else W
    N = K * n
    batch = x.shape[:-3]
    # every statistic is invariant to positive scaling of the features: divide
    # by the largest entry of each configuration so that nothing overflows
    top = np.max(np.abs(x), axis=(-3, -2, -1), keepdims=True)
    x = x / np.where(top > 0, top, 1.0)
    h = x.reshape(batch + (N, p))
    if lab is None:
        mu = x.mean(axis=-2)                                    # (..., K, p)
        y = np.broadcast_to(np.repeat(np.arange(K), n), batch + (N,))
    else:
        y = lab.reshape(batch + (N,))
        onehot = (y[..., None] == np.arange(K)).astype(float)   # (..., N, K)
        counts = onehot.sum(axis=-2)
        if np.any(counts == 0):
            raise ValueError("labels: every class 0..K-1 must have at least one sample for "
                             "neural_collapse (class means are undefined otherwise)")
        mu = np.einsum("...nk,...np->...kp", onehot, h) / counts[..., None]
    muG = mu.mean(axis=-2, keepdims=True)
    Mt = mu - muG                                               # (..., K, p) rows mu_k - mu_G
    dev = h - np.take_along_axis(mu, y[..., None], axis=-2)     # (..., N, p)

    # NC1 through the SVD of M^T: Sigma_B^+ = K V S^-2 V^T on the kept directions
    # a centred mean at rounding level of the features counts as zero
    floor = 64 * np.finfo(float).eps * np.sqrt(K * p) * (top[..., 0, 0, 0] > 0)
    _, s, Vt = np.linalg.svd(Mt, full_matrices=False)           # s (..., m), Vt (..., m, p)
    smax = s[..., :1]
    keep = (s > 1e-10 * smax) & (s > floor[..., None])
    inv2 = np.where(keep, 1.0 / np.where(keep, s, 1.0) ** 2, 0.0)
    proj = dev @ np.swapaxes(Vt, -1, -2)                        # (..., N, m)
    tr = K * np.sum(proj ** 2 * inv2[..., None, :], axis=(-2, -1)) / N
    nc1 = tr / K
    within = np.sum(dev ** 2, axis=(-2, -1))
    nc1 = np.where(~keep[..., 0] & (within > 0), np.inf, nc1)

    norms = np.linalg.norm(Mt, axis=-1)                         # (..., K)
    ok = np.all(norms > floor[..., None], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        equinorm = norms.std(axis=-1) / norms.mean(axis=-1)
        U = Mt / norms[..., None]
        cos = U @ np.swapaxes(U, -1, -2)
        off = ~np.eye(K, dtype=bool)
        equiangle = np.abs(cos[..., off] + 1.0 / (K - 1)).mean(axis=-1)
        G = Mt @ np.swapaxes(Mt, -1, -2)
        E = np.eye(K) - 1.0 / K
        etf = np.linalg.norm(G / np.linalg.norm(G, axis=(-2, -1), keepdims=True)
                             - E / np.linalg.norm(E), axis=(-2, -1))
        Wc = Wm - Wm.mean(axis=0, keepdims=True)
        nc3 = np.linalg.norm(Wc / np.linalg.norm(Wc)
                             - Mt / np.linalg.norm(Mt, axis=(-2, -1), keepdims=True), axis=(-2, -1))
    nan = np.nan
    equinorm = np.where(ok, equinorm, nan)
    equiangle = np.where(ok, equiangle, nan)
    etf = np.where(ok, etf, nan)
    nc3 = np.where(ok, nc3, nan)

    pred = np.argmax(h @ Wm.T, axis=-1)                          # (..., N)
    # argmin_k |h - mu_k|^2 = argmin_k (|mu_k|^2 - 2 h.mu_k), without (N, K, p) temporaries
    d2 = np.sum(mu * mu, axis=-1)[..., None, :] - 2.0 * (h @ np.swapaxes(mu, -1, -2))
    ncc = np.argmin(d2, axis=-1)
    nc4 = np.mean(pred != ncc, axis=-1)
    return NeuralCollapse(nc1=nc1, nc2_equinorm=equinorm, nc2_equiangle=equiangle,
                          etf_distance=etf, nc3=nc3, nc4=nc4)
