"""A small numpy multilayer perceptron, its neural tangent kernel, and impacts.

The network side of the book (chapter 1 *Local elasticity*, chapter 6
*Imitating real training*, chapter 7 *Label noise*):

* :class:`MLP` -- a fully connected network in float64 numpy with
  ``relu``, ``tanh`` or ``linear`` activations, trained by plain SGD on the
  cross-entropy loss; its neural tangent kernel (NTK) in closed form.
* :func:`train` -- SGD with batch size 1 (or a minibatch) that records
  logits along the way (:class:`TrainingRecord`).
* :func:`impact_matrix`, :func:`class_impacts` -- the impacts of the LE
  model measured through the NTK: alpha-hat and beta-hat;
  :func:`class_average` -- the same-class/cross-class averaging itself, for
  any impact matrix.
* :func:`one_step_impact`, :func:`ntk_impact` -- the empirical effect of one
  SGD step (the kernelised similarity of He & Su) and its first-order
  prediction from the NTK.

Conventions. A network with ``sizes = (d, n_1, ..., n_{L-1}, K)`` has layers
``h_l = W_l a_{l-1} + b_l``, ``a_l = phi(h_l)`` for ``l < L``, ``a_0 = x`` and
logits ``f(x) = h_L``. ``W_l`` has shape ``(n_l, n_{l-1})``. The loss is the
cross-entropy ``ell(f, y) = logsumexp(f) - f_y``, whose gradient in the
logits is ``softmax(f) - e_y``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from ._validate import NonFiniteError, as_generator, check_array, check_choice, check_int, \
    check_real
from .limits import check_bytes, check_steps

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "cross_entropy",
    "softmax",
    "impact_matrix",
    "class_impacts",
    "class_average",
    "Impacts",
    "one_step_impact",
    "ntk_impact",
    "train",
    "TrainingRecord",
]

#: Activation functions supported by :class:`MLP`.
ACTIVATIONS = ("relu", "tanh", "linear")


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax ``exp(z_k) / sum_j exp(z_j)``, computed stably (chapter 1).

    ``Z`` is an array of logits with at least one axis (the last holds the
    K >= 1 classes). Rows holding NaN or +inf give NaN rows (callers such as
    :mod:`lecode.lazy` detect the divergence and raise ``NonFiniteError``).
    """
    Z = check_array("Z", Z, finite=False)
    if Z.ndim < 1 or Z.shape[-1] < 1:
        raise ValueError(f"Z must have a last axis of K >= 1 logits, got shape {Z.shape}")
    with np.errstate(invalid="ignore"):         # non-finite rows become NaN, as documented
        E = np.exp(Z - Z.max(axis=-1, keepdims=True))
        return E / E.sum(axis=-1, keepdims=True)


def _check_class_labels(name: str, y, n: int, K: int, rows: str = "X") -> np.ndarray:
    """Integer labels of shape (n,) in 0..K-1."""
    try:
        y = np.asarray(y)
    except (TypeError, ValueError) as exc:                  # pragma: no cover - ragged input
        raise TypeError(f"{name} must be an array of integer labels ({exc})") from None
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must have shape ({n},) (one label per row of {rows}), "
                         f"got {y.shape}")
    if y.dtype.kind not in "iu" and not (y.size == 0 and y.dtype.kind == "f"):
        raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= K):
        bad = y[(y < 0) | (y >= K)][0]
        raise ValueError(f"{name} must hold labels in 0..{K - 1}, got {bad}")
    return y


def cross_entropy(Z, y) -> np.ndarray:
    """Per-sample cross-entropy ``logsumexp(z) - z_y`` of logits ``Z`` (N, K) (chapter 1).

    ``y`` holds N integer labels in ``0..K-1``.
    """
    Z = check_array("Z", Z)
    if Z.ndim != 2 or Z.shape[1] < 1:
        raise ValueError(f"Z must have shape (N, K) with K >= 1, got {Z.shape}")
    y = _check_class_labels("y", y, len(Z), Z.shape[1], rows="Z")
    m = Z.max(axis=-1) if len(Z) else np.zeros(0)
    lse = m + np.log(np.exp(Z - m[:, None]).sum(axis=-1))
    return lse - Z[np.arange(len(Z)), y]


def _act(name: str, h: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(h, 0.0)
    if name == "tanh":
        return np.tanh(h)
    return h


def _dact(name: str, h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """phi'(h), given h and a = phi(h)."""
    if name == "relu":
        return (h > 0).astype(float)
    if name == "tanh":
        return 1.0 - a * a
    return np.ones_like(h)


class MLP:
    r"""Fully connected network in numpy float64 (chapters 1, 6, 7).

    ``f(x) = W_L phi(... phi(W_1 x + b_1) ...) + b_L`` with weights
    initialised ``W_l ~ N(0, c / n_{l-1})`` (``c = 2`` before a ReLU, ``1``
    otherwise: He/LeCun scaling, standard parameterisation) and zero biases.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``(d, n_1, ..., K)``: at least two entries (two gives a
        linear model ``f(x) = W x + b``), each >= 1, and ``K >= 2`` outputs.
    activation : {"relu", "tanh", "linear"}, default "relu"
        ``"linear"`` makes the network a (deep) linear model, the contrast of
        chapter 1.
    bias : bool, default True
        Whether the layers have biases.
    seed : None, int or numpy.random.Generator
        Randomness of the initialisation.
    weight_scale : float, default 1.0
        Multiplies every initial weight (> 0).

    Attributes
    ----------
    params : list of ndarray
        ``[W_1, b_1, W_2, b_2, ...]`` (only the ``W`` without biases). The
        arrays are updated in place by :meth:`sgd_step`, so references to them
        stay valid.
    sizes, activation, bias

    Notes
    -----
    Inputs of any trailing shape are flattened: ``X`` of shape
    ``(N, 32, 32)`` is read as ``(N, 1024)``.
    """

    def __init__(self, sizes: Sequence[int], *, activation: str = "relu", bias: bool = True,
                 seed=None, weight_scale: float = 1.0):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of layer widths, got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must have at least 2 entries (inputs, outputs), got {sizes!r}")
        self.sizes = tuple(check_int("sizes", s, minimum=1) for s in sizes)
        if self.sizes[-1] < 2:
            raise ValueError(f"sizes must end with K >= 2 outputs, got {self.sizes[-1]}")
        n_par = sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        check_bytes(f"sizes={self.sizes}", 2 * 8 * n_par, f"a network of {n_par} parameters "
                    "(weights and their initial draw)", "use narrower layers")
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bool(bias)
        scale = check_real("weight_scale", weight_scale, minimum=0.0, strict_min=True)
        rng = as_generator(seed)
        self.params = []
        L = len(self.sizes) - 1
        for l in range(L):
            fan_in, fan_out = self.sizes[l], self.sizes[l + 1]
            gain = 2.0 if (activation == "relu" and l < L - 1) else 1.0
            self.params.append(scale * np.sqrt(gain / fan_in) * rng.standard_normal((fan_out, fan_in)))
            if self.bias:
                self.params.append(np.zeros(fan_out))

    # ------------------------------------------------------------------ basics
    @property
    def n_layers(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.sizes) - 1

    @property
    def n_classes(self) -> int:
        """Number of outputs ``K``."""
        return self.sizes[-1]

    @property
    def n_params(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.params))

    @property
    def weights(self) -> list:
        """The weight matrices ``W_1, ..., W_L`` (views into :attr:`params`)."""
        return self.params[::2] if self.bias else list(self.params)

    @property
    def biases(self) -> list:
        """The bias vectors (empty without biases)."""
        return self.params[1::2] if self.bias else []

    def copy(self) -> "MLP":
        """An independent copy (parameters copied)."""
        new = object.__new__(MLP)
        new.sizes, new.activation, new.bias = self.sizes, self.activation, self.bias
        new.params = [p.copy() for p in self.params]
        return new

    def __repr__(self) -> str:
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, bias={self.bias}, "
                f"n_params={self.n_params})")

    def _inputs(self, X, name: str = "X") -> np.ndarray:
        X = check_array(name, X)
        if X.ndim == 1:
            raise ValueError(f"{name} must be a batch of shape (N, {self.sizes[0]}) "
                             f"(use X[None] for one sample), got shape {X.shape}")
        X = X.reshape(len(X), -1) if X.ndim > 2 else X
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"{name} must have {self.sizes[0]} features per sample, "
                             f"got shape {X.shape}")
        return X

    def _labels(self, y, n: int, name: str = "y", rows: str = "X") -> np.ndarray:
        return _check_class_labels(name, y, n, self.n_classes, rows)

    def _nonempty(self, X, name: str = "X") -> np.ndarray:
        X = self._inputs(X, name)
        if len(X) == 0:
            raise ValueError(f"{name} must hold at least one sample (a mean over an empty "
                             f"batch is undefined), got shape {X.shape}")
        return X

    def _forward(self, X: np.ndarray):
        """Pre-activations ``hs = [h_1..h_L]`` and activations ``acts = [a_0..a_{L-1}]``."""
        acts, hs = [X], []
        a = X
        W, b = self.weights, self.biases
        for l in range(self.n_layers):
            h = a @ W[l].T
            if self.bias:
                h += b[l]
            hs.append(h)
            if l < self.n_layers - 1:
                a = _act(self.activation, h)
                acts.append(a)
        return hs, acts

    # ---------------------------------------------------------------- outputs
    def logits(self, X) -> np.ndarray:
        """Logits ``f(x)`` of a batch, shape (N, K)."""
        return self._forward(self._inputs(X))[0][-1]

    def predict(self, X) -> np.ndarray:
        """Predicted classes ``argmax_k f_k(x)``, shape (N,)."""
        return self.logits(X).argmax(axis=1)

    def loss(self, X, y) -> float:
        """Mean cross-entropy ``(1/N) sum_i [logsumexp f(x_i) - f_{y_i}(x_i)]``."""
        X = self._nonempty(X)
        return float(cross_entropy(self.logits(X), self._labels(y, len(X))).mean())

    def accuracy(self, X, y) -> float:
        """Fraction of samples with ``argmax f(x_i) = y_i``."""
        X = self._nonempty(X)
        return float(np.mean(self.predict(X) == self._labels(y, len(X))))

    # -------------------------------------------------------------- gradients
    def _backward(self, hs, acts, G):
        """Parameter gradients of ``sum_i G_i . f(x_i)`` (G of shape (N, K))."""
        W = self.weights
        grads = [None] * len(self.params)
        g = G
        for l in range(self.n_layers - 1, -1, -1):
            gW = g.T @ acts[l]
            if self.bias:
                grads[2 * l], grads[2 * l + 1] = gW, g.sum(axis=0)
            else:
                grads[l] = gW
            if l > 0:
                g = (g @ W[l]) * _dact(self.activation, hs[l - 1], acts[l])
        return grads

    def gradients(self, X, y) -> list:
        """Gradients of the mean cross-entropy, one array per entry of :attr:`params`.

        ``dL/dtheta = (1/N) sum_i J_i^T (softmax(f(x_i)) - e_{y_i})`` with
        ``J_i = df(x_i)/dtheta``, by backpropagation.
        """
        X = self._inputs(X)
        y = self._labels(y, len(X))
        hs, acts = self._forward(X)
        G = softmax(hs[-1])
        G[np.arange(len(y)), y] -= 1.0
        return self._backward(hs, acts, G / len(y))

    def sgd_step(self, X, y, lr: float) -> np.ndarray:
        """One SGD step on the mean cross-entropy of the batch ``(X, y)``, in place.

        ``theta <- theta - lr * (1/B) sum_i J_i^T (softmax(f(x_i)) - e_{y_i})``.
        Batch size 1 is ``X[i:i+1], y[i:i+1]``.

        Returns
        -------
        ndarray (B, K)
            The logits of the batch *before* the step.

        Raises
        ------
        NonFiniteError
            If the logits overflow (the learning rate is too large).
        """
        lr = check_real("lr", lr, minimum=0.0, strict_min=True)
        X = self._inputs(X)
        y = self._labels(y, len(X))
        return self._step(X, y, lr)

    def _step(self, X: np.ndarray, y: np.ndarray, lr: float) -> np.ndarray:
        """Unvalidated SGD step (the hot loop of :func:`train`)."""
        if len(X) == 1:
            return self._step1(X[0], int(y[0]), lr)[None]
        hs, acts = self._forward(X)
        Z = hs[-1]
        if not np.all(np.isfinite(Z)):
            raise NonFiniteError(f"logits became non-finite during SGD; lower lr (got {lr})")
        G = softmax(Z)
        G[np.arange(len(y)), y] -= 1.0
        G *= lr / len(y)
        W, b = self.weights, self.biases
        g = G
        for l in range(self.n_layers - 1, -1, -1):
            g_next = (g @ W[l]) * _dact(self.activation, hs[l - 1], acts[l]) if l > 0 else None
            W[l] -= g.T @ acts[l]
            if self.bias:
                b[l] -= g.sum(axis=0)
            g = g_next
        return Z

    def _step1(self, x: np.ndarray, yi: int, lr: float) -> np.ndarray:
        """Batch-size-1 SGD step on 1-D vectors (fewer temporaries than :meth:`_step`)."""
        W, b = self.weights, self.biases
        L, act, bias = self.n_layers, self.activation, self.bias
        acts, hs = [x], []
        a = x
        for l in range(L):
            h = W[l] @ a
            if bias:
                h += b[l]
            hs.append(h)
            if l < L - 1:
                a = np.maximum(h, 0.0) if act == "relu" else (np.tanh(h) if act == "tanh" else h)
                acts.append(a)
        z = hs[-1]
        zmax = z.max()
        if not np.isfinite(zmax):
            raise NonFiniteError(f"logits became non-finite during SGD; lower lr (got {lr})")
        g = np.exp(z - zmax)
        if not np.isfinite(g.sum()) or np.isnan(z).any():
            raise NonFiniteError(f"logits became non-finite during SGD; lower lr (got {lr})")
        g *= lr / g.sum()
        g[yi] -= lr
        for l in range(L - 1, -1, -1):
            if l > 0:
                g_next = g @ W[l]
                if act == "relu":
                    g_next *= hs[l - 1] > 0
                elif act == "tanh":
                    g_next *= 1.0 - acts[l] * acts[l]
            W[l] -= np.outer(g, acts[l])
            if bias:
                b[l] -= g
            if l > 0:
                g = g_next
        return z

    def param_jacobian(self, X) -> np.ndarray:
        """The Jacobian ``df_k(x_i)/dtheta``, shape (N, K, n_params).

        Parameters are flattened in the order of :attr:`params` (each array
        row-major). Meant for small networks (memory ``N K n_params``); the
        NTK itself is computed without it by :meth:`ntk`.
        """
        X = self._inputs(X)
        hs, acts = self._forward(X)
        N, K = len(X), self.n_classes
        blocks = [None] * len(self.params)
        delta = np.broadcast_to(np.eye(K), (N, K, K))          # df/dh_L
        W = self.weights
        for l in range(self.n_layers - 1, -1, -1):
            jW = delta[:, :, :, None] * acts[l][:, None, None, :]
            if self.bias:
                blocks[2 * l] = jW.reshape(N, K, -1)
                blocks[2 * l + 1] = np.array(delta)
            else:
                blocks[l] = jW.reshape(N, K, -1)
            if l > 0:
                delta = (delta @ W[l]) * _dact(self.activation, hs[l - 1], acts[l])[:, None, :]
        return np.concatenate(blocks, axis=2)

    # -------------------------------------------------------------------- NTK
    def _ntk_factors(self, X):
        """Per layer: inputs ``a_{l-1}`` (N, n_{l-1}) and ``delta_l = df/dh_l`` (N, K, n_l)."""
        hs, acts = self._forward(X)
        N, K = len(X), self.n_classes
        deltas = [None] * self.n_layers
        delta = np.broadcast_to(np.eye(K), (N, K, K))
        W = self.weights
        for l in range(self.n_layers - 1, -1, -1):
            deltas[l] = delta
            if l > 0:
                delta = (delta @ W[l]) * _dact(self.activation, hs[l - 1], acts[l])[:, None, :]
        return acts, deltas

    def ntk(self, X1, X2=None) -> np.ndarray:
        r"""Neural tangent kernel blocks ``Theta(x, x') = J(x) J(x')^T``, shape (N1, N2, K, K).

        Closed form (DESIGN.md section 8, taught in chapter 1): with
        ``delta_l(x) = df(x)/dh_l`` (K x n_l; ``delta_L = I_K``,
        ``delta_{l-1} = delta_l W_l D_{l-1}``, ``D = diag(phi'(h))``),

        ``Theta(x, x') = sum_l (a_{l-1}^T a'_{l-1} + 1) delta_l delta_l'^T``

        (drop the ``+ 1`` without biases). For one hidden ReLU layer this is
        ``(a^T a' + 1) I_K + (x^T x' + 1) W_2 D D' W_2^T``.

        Parameters
        ----------
        X1 : array_like (N1, d)
        X2 : array_like (N2, d), optional
            Defaults to ``X1``.
        """
        X1 = self._inputs(X1, "X1")
        X2 = X1 if X2 is None else self._inputs(X2, "X2")
        A1, D1 = self._ntk_factors(X1)
        A2, D2 = (A1, D1) if X2 is X1 else self._ntk_factors(X2)
        N1, N2, K = len(X1), len(X2), self.n_classes
        out = np.zeros((N1, N2, K, K))
        for l in range(self.n_layers):
            gram = A1[l] @ A2[l].T
            if self.bias:
                gram += 1.0
            if l == self.n_layers - 1:
                out += gram[:, :, None, None] * np.eye(K)
            else:
                n = D1[l].shape[2]
                dd = (D1[l].reshape(N1 * K, n) @ D2[l].reshape(N2 * K, n).T)
                out += gram[:, :, None, None] * dd.reshape(N1, K, N2, K).transpose(0, 2, 1, 3)
        return out

    def ntk_trace(self, X1, X2=None) -> np.ndarray:
        """``tr Theta(x_i, x'_j)``, shape (N1, N2), without forming the K x K blocks.

        ``tr Theta = sum_l (a_{l-1}^T a'_{l-1} + 1) <delta_l, delta_l'>_F``.
        """
        X1 = self._inputs(X1, "X1")
        X2 = X1 if X2 is None else self._inputs(X2, "X2")
        A1, D1 = self._ntk_factors(X1)
        A2, D2 = (A1, D1) if X2 is X1 else self._ntk_factors(X2)
        N1, N2, K = len(X1), len(X2), self.n_classes
        out = np.zeros((N1, N2))
        for l in range(self.n_layers):
            gram = A1[l] @ A2[l].T
            if self.bias:
                gram += 1.0
            if l == self.n_layers - 1:
                out += K * gram
            else:
                out += gram * (D1[l].reshape(N1, -1) @ D2[l].reshape(N2, -1).T)
        return out


# --------------------------------------------------------------------------
# Impacts
# --------------------------------------------------------------------------

class Impacts(NamedTuple):
    """Impacts measured through the NTK (see :func:`class_impacts`)."""
    alpha: float
    """Mean of ``tr Theta / K`` over same-class pairs (self-pairs excluded)."""
    beta: float
    """Mean of ``tr Theta / K`` over cross-class pairs."""
    matrix: np.ndarray
    """(K, K) class-averaged impacts; the diagonal excludes self-pairs."""


def _check_net(net):
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a lecode.nets.MLP, got {type(net).__name__}")
    return net


def impact_matrix(net: MLP, X1, X2=None) -> np.ndarray:
    """Scalar impacts ``E(x, x') = tr Theta(x, x') / K`` between samples, shape (N1, N2).

    The LE model replaces each NTK block ``Theta(x, x')`` (the impact of a
    gradient step at ``x'`` on the logits at ``x``) by a multiple of the
    identity; the best such multiple in Frobenius norm is ``tr Theta / K``
    (chapter 1).
    """
    _check_net(net)
    return net.ntk_trace(X1, X2) / net.n_classes


def class_impacts(net: MLP, X, y, *, n_per_class: int | None = None, seed=None) -> Impacts:
    r"""alpha-hat and beta-hat: mean NTK impacts within and across classes (chapters 1, 6, 7).

    ``alpha_hat = mean_{i != j, y_i = y_j} tr Theta(x_i, x_j) / K`` and
    ``beta_hat = mean_{y_i != y_j} tr Theta(x_i, x_j) / K`` over the pairs of
    a subsample of ``n_per_class`` samples per class (all samples by default;
    the cost is quadratic in the subsample size). Local elasticity is
    ``alpha_hat > beta_hat``. The averaging is :func:`class_average` applied
    to :func:`impact_matrix`.

    Parameters
    ----------
    net : MLP
    X : array_like (N, d)
    y : array_like of int (N,)
        Classes grouping the pairs (for label noise: the *true* classes).
    n_per_class : int, optional
        Subsample size per class (>= 2); classes smaller than it are used whole.
    seed : None, int or numpy.random.Generator
        Randomness of the subsample.

    Returns
    -------
    Impacts
        ``(alpha, beta, matrix)`` with ``matrix[k, k']`` the mean impact
        between classes k and k' (diagonal without self-pairs).
    """
    _check_net(net)
    X = net._inputs(X)
    y = net._labels(y, len(X))
    K = net.n_classes
    rng = as_generator(seed)
    if n_per_class is not None:
        n_per_class = check_int("n_per_class", n_per_class, minimum=2)
        keep = []
        for k in range(K):
            idx = np.flatnonzero(y == k)
            if len(idx) > n_per_class:
                idx = np.sort(rng.choice(idx, size=n_per_class, replace=False))
            keep.append(idx)
        keep = np.concatenate(keep)
        X, y = X[keep], y[keep]
    return class_average(impact_matrix(net, X), y, n_classes=K)


def class_average(matrix, labels, *, n_classes: int | None = None,
                  exclude_self: bool = True) -> Impacts:
    r"""Same-class and cross-class averages of a sample-by-sample matrix (chapters 1, 6, 7, 8).

    For an (N, N) matrix ``E`` (impacts ``tr Theta(x_i, x_j) / K``) and labels
    ``y``,

    .. math::

        \hat\alpha = \operatorname{mean}_{i \ne j,\, y_i = y_j} E_{ij}, \qquad
        \hat\beta = \operatorname{mean}_{y_i \ne y_j} E_{ij}, \qquad
        M_{kk'} = \operatorname{mean}_{i \ne j,\, y_i = k,\, y_j = k'} E_{ij},

    each mean pooled over all the pairs it names (so the classes weigh in
    proportion to their numbers of pairs). With ``exclude_self=False`` the
    same-class means also count the pairs ``i = j``. This is the averaging of
    :func:`class_impacts`, applied to any impact matrix (chapter 8 uses it for
    the two-layer network of :mod:`lecode.lazy`).

    Parameters
    ----------
    matrix : array_like (N, N)
        Finite values, rows and columns indexed by the same samples.
    labels : array_like of int (N,)
        Class of each sample, in ``0..n_classes - 1``.
    n_classes : int >= 2, optional
        Number of classes ``K`` (default ``max(labels) + 1``); classes
        without samples get rows and columns of NaN in ``M``.
    exclude_self : bool, default True
        Leave out the diagonal pairs ``i = j``.

    Returns
    -------
    Impacts
        ``(alpha, beta, matrix)`` with ``matrix`` the (K, K) array ``M``
        (NaN where a class pair has no pairs of samples).

    Raises
    ------
    ValueError
        If fewer than 2 classes are present, or no class has a same-class
        pair (with ``exclude_self``: no class with >= 2 samples).
    """
    E = check_array("matrix", matrix, ndim=2)
    N = E.shape[0]
    if E.shape != (N, N):
        raise ValueError(f"matrix must be square (N, N), got shape {E.shape}")
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"labels must be an array of integer classes ({exc})") from None
    if y.shape != (N,):
        raise ValueError(f"labels must have shape ({N},), one per row of matrix, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must hold integer classes, got dtype {y.dtype}")
    if N and y.min() < 0:
        raise ValueError("labels must hold non-negative integer classes")
    if not isinstance(exclude_self, (bool, np.bool_)):
        raise TypeError(f"exclude_self must be True or False, got {exclude_self!r}")
    K = (int(y.max()) + 1 if N else 0) if n_classes is None else \
        check_int("n_classes", n_classes, minimum=2)
    if N and y.max() >= K:
        raise ValueError(f"labels must lie in 0..{K - 1} (n_classes = {K}), got {int(y.max())}")
    y = y.astype(np.int64)
    counts = np.bincount(y, minlength=K)
    if (counts > 0).sum() < 2 or (exclude_self and not np.any(counts >= 2)):
        raise ValueError("labels (y) must contain at least 2 classes"
                         + (" and a class with >= 2 samples" if exclude_self else ""))
    onehot = (y[:, None] == np.arange(K)[None]).astype(float)
    sums = onehot.T @ E @ onehot
    npairs = np.outer(counts, counts).astype(float)
    if exclude_self:
        sums[np.diag_indices(K)] -= np.bincount(y, weights=np.diag(E), minlength=K)
        npairs[np.diag_indices(K)] -= counts
    with np.errstate(invalid="ignore", divide="ignore"):
        M = np.where(npairs > 0, sums / np.where(npairs > 0, npairs, 1), np.nan)
    same = np.eye(K, dtype=bool)
    alpha = sums[same].sum() / npairs[same].sum()
    beta = sums[~same].sum() / npairs[~same].sum()
    return Impacts(float(alpha), float(beta), M)


def _loss_grad(net: MLP, x, y):
    """One sample as (1, d), its label, and ``g = softmax(f(x)) - e_y``."""
    x = check_array("x", x)
    if x.size == net.sizes[0]:
        x = x.reshape(1, -1)
    x = net._inputs(x, "x")
    if len(x) != 1:
        raise ValueError(f"x must be a single sample of shape (1, {net.sizes[0]}) or "
                         f"({net.sizes[0]},), got {len(x)} samples")
    y = check_int("y", y, minimum=0, maximum=net.n_classes - 1)
    g = softmax(net.logits(x))[0]
    g[y] -= 1.0
    return x, y, g


def one_step_impact(net: MLP, x, y: int, X_probe, *, lr: float, return_delta: bool = False):
    r"""Empirical impact of one SGD step at ``(x, y)`` on the logits at ``X_probe`` (chapter 1).

    In the book's notation the step is taken at the primed sample: the
    argument ``x`` here is the book's ``x'`` and each probe is a book ``x``.
    Takes one SGD step of size ``lr = eta`` at the single sample ``(x, y)`` on a
    copy of ``net`` and measures the change ``Delta f = f_new - f`` of the
    logits at every probe. The kernelised similarity of He & Su is the ratio
    ``Delta f / (-eta g)`` with ``g = d ell(f(x), y)/df = softmax(f(x)) - e_y``;
    for K outputs we take its least-squares scalar

    ``S(probe) = -<Delta f(probe), g> / (eta |g|^2)``,

    which to first order in ``eta`` equals the NTK value
    ``g^T Theta(probe, x) g / |g|^2`` returned by :func:`ntk_impact` (the
    book's ``g^T Theta(x, x') g / |g|^2``, eq. ch01-eq-similarity).

    Parameters
    ----------
    net : MLP
        Not modified.
    x : array_like (d,) or (1, d)
    y : int
    X_probe : array_like (N, d)
    lr : float > 0
    return_delta : bool, default False
        Also return ``Delta f`` (N, K).

    Returns
    -------
    S : ndarray (N,)
    delta : ndarray (N, K), only with ``return_delta=True``
    """
    _check_net(net)
    x, y, g = _loss_grad(net, x, y)
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    Xp = net._inputs(X_probe, "X_probe")
    before = net.logits(Xp)
    new = net.copy()
    with np.errstate(all="ignore"):
        new._step(x, np.array([y]), lr)
        delta = new.logits(Xp) - before
    gg = float(g @ g)
    if gg == 0.0:
        raise ValueError("the loss gradient at (x, y) is zero; the impact is undefined")
    with np.errstate(all="ignore"):
        S = -(delta @ g) / (lr * gg)
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(delta))):
        raise NonFiniteError(f"the SGD step of size lr={lr:g} made the logits non-finite; "
                             f"use a smaller lr (the impact is a first-order quantity)")
    return (S, delta) if return_delta else S


def ntk_impact(net: MLP, x, y: int, X_probe) -> np.ndarray:
    r"""First-order (NTK) prediction of :func:`one_step_impact`: ``g^T Theta(probe, x) g / |g|^2``.

    With ``g = softmax(f(x)) - e_y`` and the step taken at ``x`` (the book's
    ``x'``); a first-order Taylor expansion of the SGD step gives
    ``Delta f(probe) = -eta Theta(probe, x) g + O(eta^2)`` (chapter 1).
    Returns an array of shape (N,).
    """
    _check_net(net)
    x, y, g = _loss_grad(net, x, y)
    Theta = net.ntk(net._inputs(X_probe, "X_probe"), x)[:, 0]                       # (N, K, K)
    return np.einsum("k,nkm,m->n", g, Theta, g) / float(g @ g)


# --------------------------------------------------------------------------
# SGD training with logit records (the training loop below uses MLP,
# cross_entropy and class_impacts above)
# --------------------------------------------------------------------------

def _one_blas_thread():
    """Limit BLAS to one thread while training, if threadpoolctl is installed.

    The SGD loop multiplies small matrices, for which a multithreaded BLAS
    spends more time synchronising than computing (5x slower measured on two
    shared cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


@dataclass
class TrainingRecord:
    """What :func:`train` recorded.

    ``R`` record times, ``M`` probe samples, ``K`` classes, ``C`` impact
    checkpoints, ``S`` SGD steps, ``B`` batch size.
    """
    steps: np.ndarray
    """(R,) SGD step counts at which the records were taken (0 = before training)."""
    probe_index: np.ndarray
    """(M,) indices into the training set of the fixed probe samples."""
    probe_classes: np.ndarray
    """(M,) classes of the probes (``true_labels`` if given, else the training labels)."""
    probe_logits: np.ndarray
    """(R, M, K) logits of the probes at each record time."""
    sampled_index: np.ndarray
    """(S, B) indices of the samples drawn at each SGD step."""
    sampled_logits: np.ndarray
    """(S, B, K) logits of the drawn samples just before their step."""
    train_loss: np.ndarray
    """(R,) mean cross-entropy on the training set (its labels as trained)."""
    train_acc: np.ndarray
    """(R,) training accuracy (against the labels as trained)."""
    val_loss: np.ndarray
    """(R,) validation loss (NaN without a validation set)."""
    val_acc: np.ndarray
    """(R,) validation accuracy (NaN without a validation set)."""
    impact_steps: np.ndarray
    """(C,) steps at which the NTK impacts were measured."""
    alpha: np.ndarray
    """(C,) alpha-hat on the probes (see :func:`lecode.nets.class_impacts`)."""
    beta: np.ndarray
    """(C,) beta-hat on the probes."""
    lr: float = 0.0
    batch_size: int = 1
    params: dict = field(default_factory=dict)
    """Other settings of the run (seed, sizes, ...)."""

    @property
    def times(self) -> np.ndarray:
        """Record times in the model's time ``t = lr * steps`` (DESIGN.md section 3)."""
        return self.lr * self.steps

    def class_mean_logits(self) -> np.ndarray:
        """(R, K, K) mean probe logits of each class: ``out[r, k] = mean_{i in k} f(x_i)``."""
        K = self.probe_logits.shape[2]
        return np.stack([self.probe_logits[:, self.probe_classes == k].mean(axis=1)
                         for k in range(K)], axis=1)


def _steps_array(name, value, steps):
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D array of integer step counts")
    if arr.size and (arr.min() < 0 or arr.max() > steps):
        raise ValueError(f"{name} must hold steps in 0..{steps} (= steps)")
    return np.unique(arr.astype(np.int64))


def train(net, X, y, *, lr: float, steps: int, batch_size: int = 1, X_val=None, y_val=None,
          record_at=None, probe_per_class: int = 10, impact_at=None, impact_per_class=None,
          true_labels=None, n_eval: int | None = None, seed=None,
          progress: bool = False) -> TrainingRecord:
    r"""Train ``net`` in place by SGD on the cross-entropy, recording logits (chapters 1, 6, 7).

    At each step ``m`` a batch of ``batch_size`` indices is drawn uniformly
    with replacement and ``theta <- theta - lr * (1/B) sum_i J_i^T
    (softmax(f(x_i)) - e_{y_i})`` (paper scale: batch size 1). Records:

    * at every step, the logits of the drawn samples just before their step;
    * at the steps ``record_at``, the logits of a fixed probe set of
      ``probe_per_class`` training samples per class, and the loss and
      accuracy on the training set (or a fixed subset of ``n_eval`` samples)
      and on the validation set;
    * at the steps ``impact_at``, alpha-hat and beta-hat of
      :func:`lecode.nets.class_impacts` on the probes (or on
      ``impact_per_class`` samples per class).

    Time in the LE model is ``t = lr * m`` (:attr:`TrainingRecord.times`).

    Parameters
    ----------
    net : lecode.nets.MLP
        Trained in place.
    X, y : training inputs (N, d) (or images) and integer labels (N,)
        The labels trained on (possibly corrupted, chapter 7).
    lr : float > 0
    steps : int >= 0
    batch_size : int >= 1, default 1
    X_val, y_val : optional validation set (both or neither)
    record_at : array of int in 0..steps, optional
        Default: 51 evenly spaced steps from 0 to ``steps``.
    probe_per_class : int >= 1, default 10
    impact_at : array of int in 0..steps, optional
        Default: none.
    impact_per_class : int >= 2, optional
        Samples per class for the impacts (default: the probes).
    true_labels : array of int (N,), optional
        Classes used to choose the probes and to group impact pairs; defaults
        to ``y`` (for label noise pass the uncorrupted labels: impacts follow
        the true class, gradients the label).
    n_eval : int >= 1, optional
        Evaluate the training loss on a fixed random subset of this size.
    seed : None, int or numpy.random.Generator
        Randomness of the probes and of the sampling (not of the
        initialisation, which belongs to the network).
    progress : bool, default False
        Print a progress line to stderr.

    Returns
    -------
    TrainingRecord
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a lecode.nets.MLP, got {type(net).__name__}")
    X = net._inputs(X)
    y = net._labels(y, len(X))
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    steps = check_int("steps", steps, minimum=0)
    B = check_int("batch_size", batch_size, minimum=1)
    check_steps("steps", steps, f"SGD training for steps={steps}", "train for fewer steps")
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if X_val is not None:
        X_val = net._inputs(X_val, "X_val")
        y_val = net._labels(y_val, len(X_val), "y_val", "X_val")
    record_at = (np.unique(np.linspace(0, steps, 51).round().astype(np.int64))
                 if record_at is None else _steps_array("record_at", record_at, steps))
    impact_at = (np.zeros(0, np.int64) if impact_at is None
                 else _steps_array("impact_at", impact_at, steps))
    m_probe = check_int("probe_per_class", probe_per_class, minimum=1)
    if impact_per_class is not None:
        impact_per_class = check_int("impact_per_class", impact_per_class, minimum=2)
    classes = y if true_labels is None else net._labels(true_labels, len(X), "true_labels")
    if n_eval is not None:
        n_eval = check_int("n_eval", n_eval, minimum=1)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    K = net.n_classes
    if len(X) == 0:
        raise ValueError("X must hold at least one training sample, got 0")
    # the records: drawn indices and logits at every step, probe logits at every record
    n_rec = len(record_at)
    check_bytes(f"steps={steps}, batch_size={B}, probe_per_class={m_probe}",
                8 * (steps * B * (K + 1) + n_rec * K * (m_probe * K + 4)),
                "the records of the drawn samples' logits (steps x batch_size x K) and of the "
                "probes", "train for fewer steps, or with a smaller batch or fewer probes")
    rng = as_generator(seed)

    probe = np.concatenate([rng.permutation(np.flatnonzero(classes == k))[:m_probe]
                            for k in range(K)])
    if impact_per_class is None:
        imp_idx = probe
    else:
        imp_idx = np.concatenate([rng.permutation(np.flatnonzero(classes == k))[:impact_per_class]
                                  for k in range(K)])
    ev = (np.arange(len(X)) if n_eval is None or n_eval >= len(X)
          else np.sort(rng.choice(len(X), size=n_eval, replace=False)))
    Xe, ye = X[ev], y[ev]
    draws = rng.integers(0, len(X), size=(steps, B))

    R, C = len(record_at), len(impact_at)
    probe_logits = np.empty((R, len(probe), K))
    tr_loss, tr_acc = np.empty(R), np.empty(R)
    va_loss, va_acc = np.full(R, np.nan), np.full(R, np.nan)
    alpha, beta = np.empty(C), np.empty(C)
    sampled = np.empty((steps, B, K))
    rec_set = {int(s): r for r, s in enumerate(record_at)}
    imp_set = {int(s): c for c, s in enumerate(impact_at)}

    def diverged(m):
        return NonFiniteError(f"training diverged (non-finite logits or parameters) by step {m} "
                              f"of {steps}; lower lr (got {lr:g})")

    def observe(m):
        if m in rec_set:
            r = rec_set[m]
            with np.errstate(all="ignore"):
                probe_logits[r] = net.logits(X[probe])
                Z = net.logits(Xe)
            if not (np.all(np.isfinite(probe_logits[r])) and np.all(np.isfinite(Z))):
                raise diverged(m)
            tr_loss[r] = cross_entropy(Z, ye).mean()
            tr_acc[r] = np.mean(Z.argmax(1) == ye)
            if X_val is not None:
                with np.errstate(all="ignore"):
                    Zv = net.logits(X_val)
                if not np.all(np.isfinite(Zv)):
                    raise diverged(m)
                va_loss[r] = cross_entropy(Zv, y_val).mean()
                va_acc[r] = np.mean(Zv.argmax(1) == y_val)
        if m in imp_set:
            c = imp_set[m]
            a, b, _ = class_impacts(net, X[imp_idx], classes[imp_idx])
            alpha[c], beta[c] = a, b

    t0 = time.perf_counter()
    every = max(1, steps // 20)
    with _one_blas_thread():
        observe(0)
        for m in range(steps):
            i = draws[m]
            with np.errstate(all="ignore"):
                sampled[m] = net._step(X[i], y[i], lr)
            if not np.all(np.isfinite(sampled[m])):
                raise diverged(m)
            observe(m + 1)
            if progress and ((m + 1) % every == 0 or m + 1 == steps):
                el = time.perf_counter() - t0
                print(f"\rtrain: step {m + 1}/{steps}  {el:.1f}s", end="", file=sys.stderr,
                      flush=True)
    if progress:
        print(file=sys.stderr, flush=True)

    return TrainingRecord(
        steps=record_at, probe_index=probe, probe_classes=classes[probe],
        probe_logits=probe_logits, sampled_index=draws, sampled_logits=sampled,
        train_loss=tr_loss, train_acc=tr_acc, val_loss=va_loss, val_acc=va_acc,
        impact_steps=impact_at, alpha=alpha, beta=beta, lr=lr, batch_size=B,
        params=dict(sizes=net.sizes, activation=net.activation, steps=steps,
                    probe_per_class=m_probe, n_eval=n_eval))
