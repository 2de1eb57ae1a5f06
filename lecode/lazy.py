r"""Lazy training of a wide two-layer ReLU network in the NTK parameterisation.

Introduced in chapter 8 (*Connections*, section 8.1). The network is

.. math::

    \begin{aligned}
    f(x; W_1, W_2) &= \frac{1}{\sqrt m}\, W_2\, \mathrm{relu}(W_1 x),\\
    W_1 \in \mathbb R^{m \times d},\; W_2 &\in \mathbb R^{K \times m}, \qquad
    (W_1)_{\nu l}, (W_2)_{k\nu} \sim N(0, 1),
    \end{aligned}

with first-layer weights :math:`W_1` (rows :math:`w_\nu`) and second-layer
weights :math:`W_2` (columns :math:`(W_2)_{:\nu}`), hidden units
:math:`\nu = 1, \dots, m`, trained by full-batch gradient descent on the mean
cross-entropy. A network is the dict ``{"W": W_1, "A": W_2}`` (the keys name
the arrays in code only). Its
neural tangent kernel has a finite limit as the width ``m`` grows while the
parameters move by ``O(1/sqrt(m))`` relative to their size (proposition
``ch08-prop-lazy``): the impacts alpha-hat, beta-hat of the LE model freeze.

Public functions
----------------
:func:`cluster_data`
    K Gaussian clusters on the unit sphere (inputs with ``|x| = 1``).
:func:`two_layer_init`, :func:`two_layer_loss_grad`, :func:`two_layer_impacts`
    The network's parameters, its loss and gradient, its impact matrix.
:func:`train_two_layer`
    Gradient descent with the quantities that lazy training measures.

The class averages alpha-hat, beta-hat of an impact matrix are
:func:`lecode.nets.class_average`, shared with the MLP of :mod:`lecode.nets`.
The explorer of this section is ``lecode.widgets.connections.make_lazy_explorer``.
"""

from __future__ import annotations

import numpy as np

from ._validate import NonFiniteError, as_generator, check_array, check_int, check_real
from .limits import check_bytes, check_steps
from .nets import class_average, softmax

__all__ = ["cluster_data", "two_layer_init", "two_layer_loss_grad", "two_layer_impacts",
           "train_two_layer"]


def cluster_data(n_classes: int = 3, n_per_class: int = 10, dim: int = 10, spread: float = 0.6,
                 seed=0):
    r"""K Gaussian clusters projected on the unit sphere of R^dim (chapter 8).

    Centres :math:`c_k \sim N(0, I_d)`; sample ``i`` of class ``k`` is
    :math:`x = z / |z|` with :math:`z = c_k + \mathrm{spread}\cdot\xi`,
    :math:`\xi \sim N(0, I_d)`, so that :math:`|x| = 1` as proposition
    ``ch08-prop-lazy`` assumes.

    Parameters
    ----------
    n_classes : int >= 2
    n_per_class : int >= 2
    dim : int >= 1
    spread : float >= 0
        Standard deviation of the points around their centre (before the
        projection); larger spreads weaken local elasticity.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray (K n, dim)
        Unit-norm inputs, class by class.
    y : ndarray of int (K n,)
        Labels ``0, ..., 0, 1, ..., K - 1``.
    """
    K = check_int("n_classes", n_classes, minimum=2)
    n = check_int("n_per_class", n_per_class, minimum=2)
    d = check_int("dim", dim, minimum=1)
    check_bytes(f"n_classes={K}, n_per_class={n}, dim={d}", 8 * 3 * K * (n + 1) * d,
                f"{K * n} points in dimension {d}", "use fewer points or dimensions")
    spread = check_real("spread", spread, minimum=0.0)
    rng = as_generator(seed)
    centres = rng.standard_normal((K, d))
    X = (centres[:, None, :] + spread * rng.standard_normal((K, n, d))).reshape(K * n, d)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.repeat(np.arange(K), n)


def two_layer_init(width: int, dim: int, n_classes: int, seed=None) -> dict:
    r"""Initial parameters of :math:`f(x) = W_2\,\mathrm{relu}(W_1x)/\sqrt m` (chapter 8, eq. ch08-eq-twolayer).

    Parameters
    ----------
    width : int >= 1
        Number ``m`` of hidden units.
    dim : int >= 1
        Input dimension ``d``.
    n_classes : int >= 2
        Number ``K`` of outputs.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    dict
        ``{"W": W_1 (m, d), "A": W_2 (K, m)}``, all entries independent N(0, 1).
    """
    m = check_int("width", width, minimum=1)
    dim = check_int("dim", dim, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    check_bytes(f"width={m}, dim={dim}, n_classes={n_classes}", 8 * m * (dim + n_classes),
                f"a two-layer network of {m * (dim + n_classes)} parameters",
                "use a narrower network")
    rng = as_generator(seed)
    return {"W": rng.standard_normal((m, dim)), "A": rng.standard_normal((n_classes, m))}


def _check_net(net, X):
    """Validate a parameter dict ``{"W": (m, d), "A": (K, m)}`` and inputs ``X`` (N, d)."""
    if not isinstance(net, dict) or set(net) != {"W", "A"}:
        raise TypeError("net must be a dict with the keys 'W' (m, d) and 'A' (K, m), "
                        "as returned by two_layer_init")
    W = check_array("net['W']", net["W"], ndim=2)
    A = check_array("net['A']", net["A"], ndim=2)
    if A.shape[1] != W.shape[0]:
        raise ValueError(f"net['A'] must have shape (K, {W.shape[0]}) to match net['W'] "
                         f"{W.shape}, got {A.shape}")
    X = check_array("X", X, ndim=2)
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have {W.shape[1]} features per sample (net['W'] is {W.shape}), "
                         f"got shape {X.shape}")
    return {"W": W, "A": A}, X


def _check_labels(y, n: int, n_classes: int | None = None) -> np.ndarray:
    y = check_array("y", y, dtype=None)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) (one label per row of X), got {y.shape}")
    if y.dtype.kind not in "iu" or (n and y.min() < 0):
        raise ValueError("y must hold non-negative integer class labels, one per row of X")
    if n_classes is not None and n and y.max() >= n_classes:
        raise ValueError(f"y must hold labels in 0..{n_classes - 1}, got {int(y.max())}")
    return y


def two_layer_loss_grad(net: dict, X, y):
    r"""Mean cross-entropy of the two-layer network, its gradient, and the mean gradient size (chapter 8).

    With :math:`g_i = \mathrm{softmax}(f(x_i)) - e_{y_i}` and
    :math:`G` the matrix of rows :math:`g_i / N`, the gradient
    :math:`\frac1N\sum_i J_i^\top g_i` of
    :math:`L = \frac1N \sum_i -\log \mathrm{softmax}(f(x_i))_{y_i}` is

    .. math::

        \nabla_{W_2} L = G^\top \mathrm{relu}(XW_1^\top)/\sqrt m, \qquad
        \nabla_{W_1} L = \big((G W_2) \odot \mathbf 1[XW_1^\top > 0]\big)^\top X / \sqrt m .

    Parameters
    ----------
    net : dict
        ``{"W": (m, d), "A": (K, m)}`` as returned by :func:`two_layer_init`.
    X : array_like (N, d)
    y : array_like of int (N,)
        Labels in ``0..K-1``.

    Returns
    -------
    loss : float
    grad : dict
        ``{"W": (m, d), "A": (K, m)}``.
    gbar : float
        :math:`\bar g = \frac1N\sum_i |g_i|`, the quantity in the bound of
        proposition ``ch08-prop-lazy``.
    """
    net, X = _check_net(net, X)
    y = _check_labels(y, len(X), net["A"].shape[0])
    return _loss_grad(net, X, y)


def _loss_grad(net: dict, X: np.ndarray, y: np.ndarray):
    """Unvalidated :func:`two_layer_loss_grad` (the hot loop of :func:`train_two_layer`)."""
    m = net["W"].shape[0]
    H = X @ net["W"].T
    act = np.maximum(H, 0.0)
    P = softmax(act @ net["A"].T / np.sqrt(m))
    rows = np.arange(len(y))
    loss = float(np.mean(-np.log(P[rows, y])))
    G = P
    G[rows, y] -= 1.0
    gbar = float(np.linalg.norm(G, axis=1).mean())
    G /= len(y)
    grad = {"A": G.T @ act / np.sqrt(m), "W": ((G @ net["A"]) * (H > 0)).T @ X / np.sqrt(m)}
    return loss, grad, gbar


def two_layer_impacts(net: dict, X) -> np.ndarray:
    r"""Scalar impacts :math:`E_{ij} = \operatorname{tr}\Theta(x_i, x_j)/K` of the network (chapter 8).

    From the closed-form NTK (eq. ch08-eq-ntk), with :math:`w_\nu` the rows of
    :math:`W_1` (``net["W"]``) and :math:`(W_2)_{:\nu}` the columns of :math:`W_2` (``net["A"]``):

    .. math::

        \begin{aligned}
        E(x, x') = \frac1m\sum_{\nu=1}^m\Big[&\mathrm{relu}(w_\nu\cdot x)\,\mathrm{relu}(w_\nu\cdot x')\\
        &+ \frac{|(W_2)_{:\nu}|^2}{K}\,\mathbf 1[w_\nu\cdot x>0]\,\mathbf 1[w_\nu\cdot x'>0]\; x\cdot x'\Big].
        \end{aligned}

    Parameters
    ----------
    net : dict
        ``{"W": (m, d), "A": (K, m)}``.
    X : array_like (N, d)

    Returns
    -------
    ndarray (N, N)
    """
    net, X = _check_net(net, X)
    with np.errstate(all="ignore"):
        E = _impacts(net, X)
    if not np.all(np.isfinite(E)):
        raise NonFiniteError("the kernel overflows the float range: X or the weights are too "
                             "large")
    return E


def _impacts(net: dict, X: np.ndarray) -> np.ndarray:
    """Unvalidated :func:`two_layer_impacts`."""
    m, K = net["W"].shape[0], net["A"].shape[0]
    H = X @ net["W"].T
    act, D = np.maximum(H, 0.0), (H > 0).astype(float)
    return act @ act.T / m + (X @ X.T) * ((D * (net["A"] ** 2).sum(axis=0)) @ D.T) / (m * K)


def train_two_layer(X, y, *, width: int, eta: float = 1.0, steps: int = 200, seed=1,
                    record_every: int = 20) -> dict:
    r"""Gradient descent on the two-layer network, with what lazy training measures (chapter 8).

    Starting from :func:`two_layer_init` (``K = max(y) + 1`` outputs), ``steps``
    updates :math:`\theta_{j+1} = \theta_j - \eta\nabla L(\theta_j)`,
    :math:`j = 0, \dots, j_{\max}-1` (``j_max = steps``), of
    :math:`\theta = (W_1, W_2)` on the mean cross-entropy. Proposition
    ``ch08-prop-lazy`` bounds the relative change of every hidden unit
    :math:`\theta_\nu = (w_\nu, (W_2)_{:\nu})` and of :math:`\theta` by

    .. math::

        \exp\Big(\frac{\eta}{\sqrt m}\sum_{j<j_{\max}}\bar g_j\Big) - 1 .

    Parameters
    ----------
    X : array_like (N, d)
        Inputs; the bound assumes :math:`|x_i| \le 1` (see :func:`cluster_data`).
    y : array_like of int (N,)
        Labels, at least 2 classes and a class with >= 2 samples.
    width : int >= 1
        Number ``m`` of hidden units.
    eta : float > 0
    steps : int >= 1
    seed : None, int or numpy.random.Generator
        Randomness of the initialisation.
    record_every : int >= 1
        Record alpha-hat, beta-hat every this many steps (and after the last).

    Returns
    -------
    dict
        ``dtheta`` (:math:`\|\theta_{j_{\max}}-\theta_0\|/\|\theta_0\|`),
        ``dtheta_unit`` (:math:`\max_\nu |\theta_\nu(j_{\max})-\theta_\nu(0)|/|\theta_\nu(0)|`),
        ``bound`` (the bound above, which holds for both),
        ``dkernel`` (relative Frobenius change of the impact matrix
        :func:`two_layer_impacts`), ``loss`` (final mean cross-entropy),
        ``times`` (R,) (training times :math:`\eta j` of the records) and
        ``ab`` (R, 2) (alpha-hat, beta-hat by :func:`lecode.nets.class_average`),
        ``E0``, ``E1`` (impact matrices before and after, (N, N)).

    Raises
    ------
    NonFiniteError
        If the training diverges (lower ``eta``).
    """
    X = check_array("X", X, ndim=2)
    y = _check_labels(y, len(X))
    if len(np.unique(y)) < 2:
        raise ValueError("y must contain at least 2 classes")
    width = check_int("width", width, minimum=1)
    eta = check_real("eta", eta, minimum=0.0, strict_min=True)
    steps = check_int("steps", steps, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    check_steps("steps", steps, f"gradient descent for steps={steps}", "use fewer steps")
    net = two_layer_init(width, X.shape[1], int(y.max()) + 1, seed)
    start = {k: v.copy() for k, v in net.items()}
    E0 = _impacts(net, X)
    ab, times, gsum = [class_average(E0, y)[:2]], [0.0], 0.0
    for j in range(steps):
        _, grad, gbar = _loss_grad(net, X, y)
        gsum += gbar
        for k in net:
            net[k] -= eta * grad[k]
        if (j + 1) % record_every == 0 or j + 1 == steps:
            if not all(np.all(np.isfinite(v)) for v in net.values()):
                break
            ab.append(class_average(_impacts(net, X), y)[:2])
            times.append(eta * (j + 1))
    if not all(np.all(np.isfinite(v)) for v in net.values()):
        raise NonFiniteError(f"training diverged at width {width}; lower eta (got {eta})")
    with np.errstate(all="ignore"):
        E1 = _impacts(net, X)
        final_loss = _loss_grad(net, X, y)[0]
    if not (np.all(np.isfinite(E1)) and np.isfinite(final_loss) and np.isfinite(gsum)):
        raise NonFiniteError(f"training diverged at width {width} (non-finite kernel or loss); "
                             f"lower eta (got {eta})")

    def norm(d):
        return float(np.sqrt(sum(float((v ** 2).sum()) for v in d.values())))

    def unit_norms(d):          # |theta_nu| per hidden unit nu: rows of W_1, columns of W_2
        return np.sqrt((d["W"] ** 2).sum(axis=1) + (d["A"] ** 2).sum(axis=0))

    change = {k: net[k] - start[k] for k in net}
    return {"dtheta": norm(change) / norm(start),
            "dtheta_unit": float((unit_norms(change) / unit_norms(start)).max()),
            "bound": float(np.expm1(eta * gsum / np.sqrt(width))),
            "dkernel": float(np.linalg.norm(E1 - E0) / np.linalg.norm(E0)),
            "loss": final_loss,
            "times": np.array(times), "ab": np.array(ab), "E0": E0, "E1": E1}
