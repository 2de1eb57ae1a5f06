"""The locally elastic (LE) model specification: :class:`LEModel`.

Chapter 2 of the book derives the model from feature-SGD; this module holds
the specification (classes, samples, impacts, gradient variant, noise) and the
drift of the LE-SDE.  The simulators live in :mod:`lecode.simulate`.

Notation (DESIGN.md section 3): K classes, n samples per class, features
``X[..., k, i, :]`` in R^p for sample i of (true) class k, u_k = e_k - 1/K.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable, Union

import numpy as np

from ._validate import check_array, check_choice, check_int, check_real
from .limits import check_bytes

__all__ = ["LEModel", "GRADIENTS"]

#: The gradient variants of DESIGN.md section 3.
GRADIENTS = ("ce", "identity", "projected")

Schedule = Union[float, Callable[[float], float]]


# --------------------------------------------------------------------------
# helpers for scalar-or-callable parameters
# --------------------------------------------------------------------------

def _check_schedule(name: str, value: Any, *, minimum: float | None = None) -> Schedule:
    """A finite real number (>= minimum) or a callable of t; callables are probed at t=0."""
    if callable(value):
        _eval_schedule(name, value, 0.0, minimum=minimum)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or a callable of t, "
                        f"got {type(value).__name__} {value!r}")
    return check_real(name, value, minimum=minimum)


def _eval_schedule(name: str, value: Schedule, t: float, *, minimum: float | None = None) -> float:
    """Evaluate a schedule at time t, checking the result is a finite real (>= minimum)."""
    if not callable(value):
        return value
    try:
        out = value(t)
    except Exception as exc:  # pragma: no cover - message only
        raise ValueError(f"{name}({t!r}) raised {type(exc).__name__}: {exc}") from exc
    try:
        out = float(out)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must return a real number for scalar t; "
                        f"{name}({t!r}) returned {out!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name}(t) must return finite values; {name}({t!r}) = {out}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name}(t) must be >= {minimum}; {name}({t!r}) = {out}")
    return out


def _check_matrix_value(name: str, value: Any, K: int, t: float | None) -> np.ndarray:
    where = "" if t is None else f" at t={t!r}"
    try:
        complex_ = np.iscomplexobj(value)
    except (TypeError, ValueError):
        complex_ = False                      # ragged: refused just below
    if complex_:
        raise TypeError(f"{name} must hold real numbers{where}, got complex values")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a {K}x{K} array of numbers{where}") from None
    if arr.shape != (K, K):
        raise ValueError(f"{name} must have shape ({K}, {K}){where}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers{where} (found NaN or inf)")
    return arr


def _assign_labels(K: int, n: int, p: float) -> np.ndarray:
    """Observed labels (K, n): round(p n) samples per class relabelled evenly.

    The relabelled samples of class k are its *last* m = round(p n) samples;
    the r-th of them (r = 0..m-1) gets label (k + 1 + r mod (K-1)) mod K, so
    the m corrupted labels are spread as evenly as possible over the K-1 other
    classes (exactly evenly when K-1 divides m).
    """
    labels = np.repeat(np.arange(K)[:, None], n, axis=1)
    m = int(round(p * n))
    if m:
        r = np.arange(m)
        for k in range(K):
            labels[k, n - m:] = (k + 1 + r % (K - 1)) % K
    labels.setflags(write=False)
    return labels


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class LEModel:
    r"""Specification of a locally elastic SDE (chapter 2; DESIGN.md section 3).

    The LE-SDE for sample i of true class k (features in R^p) is

    .. math::

        dX_{k,i} = -\frac{1}{K}\Big[\sum_{k'} E_{kk'}(t)\,\bar G_{k'}
                   + \frac{\gamma}{n}\,\nabla\ell(X_{k,i}, y_{k,i})\Big]dt
                   + \sigma(t)\, dB_{k,i}(t),

    with :math:`\bar G_{k'} = \frac1n\sum_i \nabla\ell(X_{k',i}, y_{k',i})`
    and the class-impact matrix :math:`E_{kk} = \alpha`, :math:`E_{kk'} =
    \beta` (k != k'), so that the class part is
    :math:`-(1/K)[(\alpha-\beta)\bar G_k + \beta\sum_{k'}\bar G_{k'}]` and one
    drift evaluation costs O(Knp).  The self term comes from feature-SGD: one
    step at the uniformly drawn sample (k', i') moves X_{k,i} by
    :math:`-\eta\,(E_{kk'} + \gamma\,\delta_{(k,i),(k',i')})\nabla\ell`;
    averaging over the K n possible draws gives the class sums divided by K
    (each class holds n of the Kn samples) and the self term divided by Kn.
    With t = eta * steps this is the drift above.

    Parameters
    ----------
    n_classes : int
        K >= 2.
    n_per_class : int
        n >= 1 samples per class.
    alpha, beta : float or callable
        Same-class and cross-class impacts, numbers or functions of scalar t.
        Required unless ``impact_matrix`` is given (then both must be None).
    sigma : float or callable, default 0
        Noise level >= 0 (or function of t): each sample has its own
        independent p-dimensional Brownian motion.  See
        :func:`lecode.sgd_noise_sigma` for the value matching an SGD
        learning rate.
    gradient : {"ce", "identity", "projected"}
        ``"ce"``: cross-entropy gradient W^T(softmax(W x) - e_y);
        ``"identity"``: -grad replaced by x; ``"projected"``: -grad replaced
        by P_y x, the projection on u_y (needs p = K).
    dim : int, optional
        Feature dimension p (default K, the logits).
    gamma : float, default 0
        Extra impact of a sample on itself (enters the drift as gamma/(K n)).
    label_noise : float in [0, 1), default 0
        Fraction of each class relabelled to the other classes, deterministically
        (see :attr:`labels`): the last m = round(label_noise * n) samples of
        each class (Python's ``round`` of the float product, half to even, so
        the realised fraction is m/n), the r-th of them (r = 0, ..., m-1)
        labelled (k + 1 + r mod (K-1)) mod K.  Write m = q (K-1) + rho with
        0 <= rho < K-1: each other class receives q of them, and the rho
        classes k+1, ..., k+rho (mod K) that follow k cyclically one more.
        The spread is even only when K-1 divides m; otherwise
        :attr:`label_fractions` is not symmetric across the other classes
        (e.g. K = 3, n = 10, label_noise = 0.1: each class gives its one
        corrupted sample to the next class).  At the symmetric start X = 0
        the cross-entropy force along u_k is still the clean one times
        :func:`lecode.exact.label_noise_factor` at p = m/n (it depends only
        on the fraction relabelled), but an uneven spread adds a force
        orthogonal to u_k that an even spread cancels.
        Impacts follow the true class, gradients the observed label.
    impact_matrix : array (K, K) or callable of t, optional
        Class-impact matrix E(t) replacing ``alpha``/``beta``.
    readout : array (K, p), optional
        Fixed readout V (logits = V x); default the identity when p = K.
        Required for ``gradient="ce"`` when p != K.  Only the ``ce`` gradient
        uses it.

    Examples
    --------
    >>> m = LEModel(3, 10, alpha=1.0, beta=0.5, sigma=0.1)
    >>> m.impacts(0.0)
    array([[1. , 0.5, 0.5],
           [0.5, 1. , 0.5],
           [0.5, 0.5, 1. ]])
    """

    n_classes: int
    n_per_class: int
    _: dataclasses.KW_ONLY
    alpha: Schedule | None = None
    beta: Schedule | None = None
    sigma: Schedule = 0.0
    gradient: str = "ce"
    dim: int | None = None
    gamma: float = 0.0
    label_noise: float = 0.0
    impact_matrix: Any = None
    readout: Any = None

    # ------------------------------------------------------------------ init
    def __post_init__(self):
        set_ = object.__setattr__
        K = check_int("n_classes", self.n_classes, minimum=2)
        n = check_int("n_per_class", self.n_per_class, minimum=1)
        set_(self, "n_classes", K)
        set_(self, "n_per_class", n)
        check_choice("gradient", self.gradient, GRADIENTS)
        p = K if self.dim is None else check_int("dim", self.dim, minimum=1)
        set_(self, "dim", p)
        # labels (K, n), impact and label-fraction matrices (K, K), and one state (K, n, p)
        check_bytes(f"n_classes={K}, n_per_class={n}, dim={p}", 8 * (K * n + 3 * K * K + K * n * p),
                    f"a model of K n = {K * n} samples in dimension p = {p}",
                    "use fewer classes, samples or dimensions")
        if self.impact_matrix is None:
            if self.alpha is None or self.beta is None:
                raise TypeError("alpha and beta are required (numbers or callables of t) "
                                "unless impact_matrix is given")
            set_(self, "alpha", _check_schedule("alpha", self.alpha))
            set_(self, "beta", _check_schedule("beta", self.beta))
        else:
            if self.alpha is not None or self.beta is not None:
                raise TypeError("give either alpha and beta or impact_matrix, not both")
            if callable(self.impact_matrix):
                _check_matrix_value("impact_matrix(t)", self.impact_matrix(0.0), K, 0.0)
            else:
                E = _check_matrix_value("impact_matrix", self.impact_matrix, K, None).copy()
                E.setflags(write=False)
                set_(self, "impact_matrix", E)
        set_(self, "sigma", _check_schedule("sigma", self.sigma, minimum=0.0))
        set_(self, "gamma", check_real("gamma", self.gamma))
        set_(self, "label_noise", check_real("label_noise", self.label_noise,
                                             minimum=0.0, maximum=1.0, strict_max=True))
        if self.gradient == "projected" and p != K:
            raise ValueError(f"gradient='projected' needs dim == n_classes (logit features); "
                             f"got dim={p}, n_classes={K}")
        if self.readout is None:
            if self.gradient == "ce" and p != K:
                raise ValueError(f"gradient='ce' with dim={p} != n_classes={K} needs a "
                                 f"readout of shape ({K}, {p})")
        else:
            W = check_array("readout", self.readout, shape=(K, p)).copy()
            W.setflags(write=False)
            set_(self, "readout", W)
        set_(self, "_labels", _assign_labels(K, n, self.label_noise))

    def __repr__(self) -> str:
        # like the dataclass repr, but callables without their memory address
        # (so that printed models are reproducible, e.g. in executed notebooks)
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if callable(v):
                r = f"<function {getattr(v, '__qualname__', type(v).__name__)}>"
            else:
                r = repr(v)
            parts.append(f"{f.name}={r}")
        return f"LEModel({', '.join(parts)})"

    # ----------------------------------------------------------- properties
    @property
    def K(self) -> int:
        """Number of classes (alias of ``n_classes``)."""
        return self.n_classes

    @property
    def n(self) -> int:
        """Samples per class (alias of ``n_per_class``)."""
        return self.n_per_class

    @property
    def p(self) -> int:
        """Feature dimension (alias of ``dim``)."""
        return self.dim

    @property
    def labels(self) -> np.ndarray:
        """Observed labels, int array (K, n); row k holds the labels of true class k.

        Without label noise row k is all k.  With ``label_noise = q`` the last
        m = round(q n) samples of class k carry labels cycling over the other
        classes k+1, k+2, ..., k+K-1 (mod K), starting again after K-1 of
        them: sample n-m+r gets label (k + 1 + r mod (K-1)) mod K.  When K-1
        does not divide m, the first m mod (K-1) of these classes get one
        sample more than the others.
        """
        return self._labels

    @property
    def label_fractions(self) -> np.ndarray:
        """F (K, K): F[k, j] = fraction of true class k carrying label j."""
        K = self.n_classes
        F = np.zeros((K, K))
        for k in range(K):
            F[k] = np.bincount(self._labels[k], minlength=K) / self.n_per_class
        return F

    @property
    def is_stochastic(self) -> bool:
        """False when sigma is the constant 0 (then the LE-SDE is the LE-ODE)."""
        return callable(self.sigma) or self.sigma > 0

    # --------------------------------------------------------------- values
    def impacts(self, t: float = 0.0) -> np.ndarray:
        """Class-impact matrix E(t), shape (K, K): alpha on the diagonal, beta off it.

        Validates the values of callable impacts (finite numbers, right shape)
        and names the parameter and the time when they are not.
        """
        t = float(t)
        K = self.n_classes
        if self.impact_matrix is not None:
            if callable(self.impact_matrix):
                return _check_matrix_value("impact_matrix(t)", self.impact_matrix(t), K, t)
            return np.array(self.impact_matrix)
        a = _eval_schedule("alpha", self.alpha, t)
        b = _eval_schedule("beta", self.beta, t)
        return np.full((K, K), b) + (a - b) * np.eye(K)

    def sigma_at(self, t: float) -> float:
        """Noise level sigma(t) >= 0."""
        return _eval_schedule("sigma", self.sigma, float(t), minimum=0.0)

    def _alpha_beta(self, t: float):
        """(alpha(t), beta(t)) when the impacts have the alpha/beta form, else None."""
        if self.impact_matrix is not None:
            return None
        return (_eval_schedule("alpha", self.alpha, t), _eval_schedule("beta", self.beta, t))

    def replace(self, **changes) -> "LEModel":
        """A copy with some fields changed (validated again), like :func:`dataclasses.replace`.

        Switching between the two impact forms needs the other set to None, e.g.
        ``m.replace(alpha=None, beta=None, impact_matrix=E)``.
        """
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------- drift
    def gradients(self, X: np.ndarray) -> np.ndarray:
        r"""Per-sample gradients :math:`\nabla\ell(X_{k,i}, y_{k,i})`, shape of ``X``.

        ``"ce"``: :math:`W^\top(\mathrm{softmax}(W x) - e_y)`;
        ``"identity"``: :math:`-x`; ``"projected"``: :math:`-P_y x` with
        :math:`P_y = u_y u_y^\top/|u_y|^2` (chapter 2, DESIGN.md section 3).

        ``X`` has shape (..., K, n, p) with the model's K, n and p.
        """
        X = self._check_features(X)
        return _gradients(self, X, self._labels)

    def drift(self, X: np.ndarray, t: float = 0.0) -> np.ndarray:
        r"""Drift of the LE-SDE at features ``X`` (..., K, n, p) and time ``t``.

        .. math::

            b_{k,i} = -\frac1K\Big[(\alpha-\beta)\bar G_k + \beta\sum_{k'}\bar G_{k'}\Big]
                      - \frac{\gamma}{Kn}\nabla\ell(X_{k,i}, y_{k,i})

        (with a general impact matrix the bracket is :math:`\sum_{k'}
        E_{kk'}\bar G_{k'}`).  Cost O(K n p) per state, never O((Kn)^2 p).
        For ``gradient="ce"`` with the identity readout the drift of every
        sample sums to zero over the logits (chapter 2, DESIGN.md section 3
        item 1).
        """
        X = self._check_features(X)
        D = _drift(self, X, float(t), self._labels, None, self.n_per_class)
        return np.broadcast_to(D, X.shape).copy()

    def _check_features(self, X) -> np.ndarray:
        X = check_array("X", X)
        want = (self.n_classes, self.n_per_class, self.dim)
        if X.ndim < 3 or X.shape[-3:] != want:
            raise ValueError(f"X must have shape (..., {want[0]}, {want[1]}, {want[2]}) "
                             f"= (..., K, n, p), got {X.shape}")
        return X


# --------------------------------------------------------------------------
# vectorised kernels (private; shared with lecode.simulate)
# --------------------------------------------------------------------------

def _vertex_matrix(K: int) -> np.ndarray:
    """U (K, K) with rows u_k = e_k - 1/K."""
    return np.eye(K) - 1.0 / K


class _Kernel:
    """Precomputed drift evaluator for one model, label layout and slot weights.

    Built once per simulation so that each step does only array arithmetic.
    ``labels`` (K, m) are the labels of the m slots of each class; ``weights``
    (K, m) each slot's share of its class (None: 1/m each); ``n`` the true
    number of samples per class (for the gamma/(K n) self term).
    """

    def __init__(self, model: LEModel, labels: np.ndarray, weights=None, n=None):
        K = model.n_classes
        self.model = model
        self.K = K
        self.labels = labels
        self.m = labels.shape[1]
        self.n = model.n_per_class if n is None else n
        self.weights = weights
        if weights is not None and self.m == 1:
            self.weights = None            # a single slot has weight 1
        self.kind = model.gradient
        self.W = model.readout
        self.onehot = np.eye(K)[labels]                          # (K, m, K)
        self.onehot_mean = self._class_mean(self.onehot)         # (K, K) label fractions
        self.Ul = _vertex_matrix(K)[labels] * (K / (K - 1))      # (K, m, K), u_y K/(K-1)
        self.lab_idx = labels[..., None]
        self.self_coef = model.gamma / (K * self.n)
        self.ab_const = None
        self.E_const = None
        if model.impact_matrix is None:
            if not (callable(model.alpha) or callable(model.beta)):
                self.ab_const = (model.alpha, model.beta)
        elif not callable(model.impact_matrix):
            self.E_const = np.asarray(model.impact_matrix)

    def gradients(self, X: np.ndarray) -> np.ndarray:
        """Per-slot gradients for X (..., K, m, p)."""
        if self.kind == "identity":
            return -X
        if self.kind == "projected":
            idx = np.broadcast_to(self.lab_idx, X.shape[:-1] + (1,))
            c = np.take_along_axis(X, idx, axis=-1)[..., 0] - X.mean(axis=-1)
            return -c[..., None] * self.Ul
        Z = self._softmax(X)
        Z -= self.onehot
        return Z if self.W is None else Z @ self.W

    def _softmax(self, X: np.ndarray) -> np.ndarray:
        """softmax(W x) for X (..., K, m, p), a new array (..., K, m, K)."""
        K = self.K
        Z = X if self.W is None else X @ self.W.T
        if Z.size and -700.0 < Z.min() and Z.max() < 700.0:
            # every exp is a normal float and no row sum overflows: no shift needed
            Z = np.exp(Z)
        else:
            if K <= 16:    # column-wise max: much faster than a reduction over a short axis
                mx = Z[..., 0].copy()
                for j in range(1, K):
                    np.maximum(mx, Z[..., j], out=mx)
            else:
                mx = Z.max(axis=-1)
            Z = Z - mx[..., None]
            np.exp(Z, out=Z)
        if K <= 4:     # column adds beat a matrix-vector product for very short rows
            tot = Z[..., 0].copy()
            for j in range(1, K):
                tot += Z[..., j]
        else:
            tot = Z @ np.ones(K)
        Z /= tot[..., None]
        return Z

    def class_part(self, Gbar: np.ndarray, t: float) -> np.ndarray:
        """-(1/K) sum_k' E_kk' Gbar_k' for Gbar (..., K, p)."""
        K = self.K
        ab = self.ab_const
        if ab is None and self.E_const is None:
            ab = self.model._alpha_beta(t)
        if ab is not None:
            a, b = ab
            out = Gbar * (-(a - b) / K)
            if b != 0.0:
                # sum over classes (einsum: far faster than .sum(axis=-2) on short axes)
                out -= (b / K) * np.einsum("...kp->...p", Gbar)[..., None, :]
            return out
        E = self.E_const if self.E_const is not None else self.model.impacts(t)
        return np.einsum("kj,...jp->...kp", E, Gbar) * (-1.0 / K)

    def _class_mean(self, g: np.ndarray) -> np.ndarray:
        if self.m == 1:
            return g[..., 0, :]
        if self.weights is None:
            return np.einsum("...kmp->...kp", g) * (1.0 / self.m)
        return np.einsum("km,...kmp->...kp", self.weights, g)

    def drift(self, X: np.ndarray, t: float) -> np.ndarray:
        """Drift for X (..., K, m, p); shape (..., K, 1, p) when gamma = 0."""
        if self.kind == "ce" and self.self_coef == 0.0:
            # per-sample gradients are not needed: Gbar = (mean softmax - label fractions) W
            Gbar = self._class_mean(self._softmax(X)) - self.onehot_mean
            if self.W is not None:
                Gbar = Gbar @ self.W
            return self.class_part(Gbar, t)[..., None, :]
        g = self.gradients(X)
        D = self.class_part(self._class_mean(g), t)[..., None, :]
        if self.self_coef != 0.0:
            return D - self.self_coef * g
        return D


def _gradients(model: LEModel, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-sample gradients for features X (..., K, m, p) with labels (K, m)."""
    return _Kernel(model, labels).gradients(X)


def _drift(model: LEModel, X: np.ndarray, t: float, labels: np.ndarray,
           weights: np.ndarray | None, n: int) -> np.ndarray:
    """Drift for features X (..., K, m, p) (see :class:`_Kernel`)."""
    return _Kernel(model, labels, weights, n).drift(X, t)


def _gradients_flat(model: LEModel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradients of single samples: x (N, p) with observed labels y (N,)."""
    K = model.n_classes
    if model.gradient == "identity":
        return -x
    if model.gradient == "projected":
        c = x[np.arange(x.shape[0]), y] - x.mean(axis=-1)
        return -(K / (K - 1)) * c[:, None] * _vertex_matrix(K)[y]
    W = model.readout
    z = x if W is None else x @ W.T
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    z /= z.sum(axis=-1, keepdims=True)
    z[np.arange(x.shape[0]), y] -= 1.0
    return z if W is None else z @ W
