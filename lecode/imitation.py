r"""Imitating recorded training with the LE-ODE (chapter 6; used again in chapter 7).

A network trained by SGD with learning rate :math:`\eta` records, at SGD steps
:math:`m`, the mean logits :math:`\bar X_k(m) \in \mathbb R^K` of a probe set
of each class (:mod:`lecode.experiments`).  This module puts such records
next to the one-point-per-class LE-ODE

.. math::

    \frac{d\bar X_k}{dt} = -\frac1K\Big[(\alpha(t)-\beta(t))\,G_k
        + \beta(t)\sum_{k'} G_{k'}\Big], \qquad t = \eta\, j,

with :math:`G_k = \mathrm{softmax}(\bar X_k) - e_k` (``"ce"``),
:math:`G_k = -\bar X_k` (``"identity"``) or :math:`G_k = -P_k \bar X_k`
(``"projected"``, :math:`P_k` the projection on :math:`u_k = e_k - \mathbf
1/K`).  Two sources of impacts are supported:

* **measured** -- the NTK impacts :math:`\hat\alpha_\Theta, \hat\beta_\Theta` of
  :func:`lecode.nets.class_impacts` at a few checkpoints, interpolated in time
  (:class:`Interpolant`).  Their units are those of the LE model when the
  model's time is :math:`t = \eta j`: one SGD step at a sample :math:`x'`
  changes the logits at :math:`x` by :math:`-\eta\,\Theta(x, x')\nabla\ell`
  to first order, and averaging over the uniformly drawn sample gives the
  drift above with :math:`\alpha = \operatorname{tr}\Theta/K` averaged over
  same-class pairs (chapter 6 derives this).
* **fitted** -- :math:`\hat A(t), \hat B(t)` obtained by inverting a linear
  LE-ODE's modes (:func:`lecode.exact.estimate_AB_identity`,
  :func:`lecode.exact.estimate_AB_projected`) and their smoothed derivatives
  (:func:`lecode.exact.impacts_from_AB`), bundled by :func:`fit_impacts`.
  These are *effective* impacts of a linear force, not NTK values:
  :func:`linear_equivalent_gap` converts between the two.

Main entry points: :func:`record` (a stored experiment as a :class:`Record`),
:func:`fit_impacts`, :func:`solve_class_means`,
:func:`imitate`, :func:`relative_error`, :func:`linear_equivalent_gap`,
:func:`tail_index`.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass

import numpy as np

from . import exact
from ._validate import NonFiniteError, check_array, check_choice, check_int, check_real

__all__ = [
    "Record",
    "record",
    "GRADIENTS",
    "VARIANTS",
    "model_times",
    "Interpolant",
    "ImpactFit",
    "fit_impacts",
    "class_mean_drift",
    "solve_class_means",
    "relative_error",
    "Imitation",
    "imitate",
    "linear_equivalent_gap",
    "tail_index",
]

#: Gradient variants of the LE-ODE (as in :class:`lecode.LEModel`).
GRADIENTS = ("ce", "identity", "projected")

#: Linear variants whose modes can be inverted to estimate A(t), B(t).
VARIANTS = ("identity", "projected")


# --------------------------------------------------------------------------
# time and interpolation
# --------------------------------------------------------------------------

def model_times(steps, lr):
    r"""The LE model's time of SGD step counts: :math:`t = \eta\, j` (chapter 6).

    Parameters
    ----------
    steps : array of int >= 0
    lr : float > 0
        The learning rate :math:`\eta`.

    Returns
    -------
    ndarray of float, the shape of ``steps``
    """
    steps = check_array("steps", steps)
    if np.any(steps < 0):
        raise ValueError("steps must be >= 0")
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    return lr * steps


class Interpolant:
    r"""Piecewise-linear function of t through ``(knots[j], values[j])``, constant beyond the ends.

    Turns impacts measured at a few checkpoints into the callables
    :math:`\alpha(t), \beta(t)` that :func:`solve_class_means` and
    :class:`lecode.LEModel` accept.  ``values`` may have trailing axes (one
    function per trial): ``values`` of shape (C, T) gives a callable returning
    arrays of shape (T,).

    Parameters
    ----------
    knots : array (C,), strictly increasing, C >= 1
    values : array (C, ...)
    kind : {"linear", "step"}, default "linear"
        ``"step"``: the value ``values[j]`` on ``[knots[j], knots[j+1])`` (and
        ``values[-1]`` from ``knots[-1]`` on), e.g. the average rate
        :math:`\Delta\hat A/\Delta t` of each interval between records, whose
        integral is exact at the knots.

    Examples
    --------
    >>> f = Interpolant([0.0, 1.0], [2.0, 4.0])
    >>> f(0.5), f(3.0)
    (3.0, 4.0)
    >>> float(f.integral(0.0, 1.0))
    3.0
    """

    def __init__(self, knots, values, kind: str = "linear"):
        self.kind = check_choice("kind", kind, ("linear", "step"))
        knots = check_array("knots", knots, ndim=1)
        if knots.size < 1:
            raise ValueError("knots must hold at least one point")
        if np.any(np.diff(knots) <= 0):
            raise ValueError("knots must be strictly increasing")
        values = check_array("values", values)
        if values.ndim < 1 or values.shape[0] != knots.size:
            raise ValueError(f"values must have shape (C, ...) with C = len(knots) = {knots.size}, "
                             f"got {values.shape}")
        self.knots = knots
        self.values = values
        self._flat = values.reshape(knots.size, -1)
        self._knots_list = knots.tolist()

    @property
    def shape(self) -> tuple:
        """Shape of one evaluation (``()`` for scalar values)."""
        return self.values.shape[1:]

    def __repr__(self) -> str:
        return (f"Interpolant({self.kind}, {self.knots.size} knots on [{self.knots[0]:g}, {self.knots[-1]:g}], "
                f"values of shape {self.shape})")

    def _locate(self, t):
        k = self.knots
        t = np.clip(np.asarray(t, dtype=float), k[0], k[-1])
        if k.size == 1:
            return np.zeros(t.shape, int), np.zeros(t.shape)
        j = np.clip(np.searchsorted(k, t, side="right") - 1, 0, k.size - 2)
        w = (t - k[j]) / (k[j + 1] - k[j])
        return j, w

    def __call__(self, t):
        if isinstance(t, (float, int, np.floating, np.integer)) and not isinstance(t, bool):
            return self._scalar(float(t))
        t_arr = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(t_arr)):
            raise ValueError("t must be finite")
        j, w = self._locate(t_arr)
        if self.kind == "step":
            j = np.where(t_arr >= self.knots[-1], self.knots.size - 1, j)
            out = self._flat[j]
        elif self.knots.size == 1:
            out = np.broadcast_to(self._flat[0], t_arr.shape + self._flat.shape[1:])
        else:
            out = (1 - w)[..., None] * self._flat[j] + w[..., None] * self._flat[j + 1]
        out = out.reshape(t_arr.shape + self.shape)
        return float(out) if out.ndim == 0 else out

    def _scalar(self, t: float):
        """Fast path of ``__call__`` for one time (the ODE solver calls it at every stage)."""
        if not math.isfinite(t):
            raise ValueError("t must be finite")
        k, v = self._knots_list, self._flat
        if t >= k[-1]:
            out = v[-1]
        elif t <= k[0]:
            out = v[0]
        else:
            j = bisect.bisect_right(k, t) - 1
            if self.kind == "step":
                out = v[j]
            else:
                w = (t - k[j]) / (k[j + 1] - k[j])
                out = (1 - w) * v[j] + w * v[j + 1]
        return float(out[0]) if self.values.ndim == 1 else out.reshape(self.shape)

    def _primitive(self, t):
        """F(t) = int_{knots[0]}^t f (exact; linear extension of the constants beyond the ends)."""
        k, v = self.knots, self._flat
        t = np.asarray(t, dtype=float)
        if k.size == 1:
            return (t - k[0])[..., None] * v[0]
        cum = np.concatenate([np.zeros((1, v.shape[1])),
                              np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(k)[:, None], axis=0)])
        if self.kind == "step":
            cum = np.concatenate([np.zeros((1, v.shape[1])), np.cumsum(v[:-1] * np.diff(k)[:, None], axis=0)])
        below = (t - k[0])[..., None] * v[0]
        above = cum[-1] + (t - k[-1])[..., None] * v[-1]
        j, w = self._locate(t)
        h = (k[j + 1] - k[j])[..., None]
        if self.kind == "step":
            inside = cum[j] + h * w[..., None] * v[j]
        else:
            inside = cum[j] + h * (w[..., None] * v[j] + 0.5 * w[..., None] ** 2 * (v[j + 1] - v[j]))
        return np.where((t < k[0])[..., None], below, np.where((t > k[-1])[..., None], above, inside))

    def integral(self, a, b):
        r"""Exact :math:`\int_a^b f(s)\,ds` (arrays ``a``, ``b`` broadcast), e.g. A(t) from alpha."""
        a = check_array("a", a)
        b = check_array("b", b)
        out = self._primitive(b) - self._primitive(a)
        return out.reshape(np.broadcast(a, b).shape + self.shape)


# --------------------------------------------------------------------------
# stored training records
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    r"""The training record of one setting of a stored experiment, in the LE model's units.

    ``T`` trials, ``S`` record steps, ``C`` impact checkpoints, ``K`` classes.
    """
    name: str
    """Experiment name (one of ``lecode.experiments.EXPERIMENTS``)."""
    setting: float
    """The setting (corruption level p, or class count K for ``digits``)."""
    n_classes: int
    """K."""
    lr: float
    r"""Learning rate :math:`\eta`."""
    steps: np.ndarray
    """(S,) SGD steps of the records."""
    times: np.ndarray
    r"""(S,) model times :math:`t = \eta\,m`."""
    class_means: np.ndarray
    """(T, S, K, K) class-mean probe logits (float64; row k: true class k)."""
    impact_steps: np.ndarray
    """(C,) SGD steps of the NTK impact measurements."""
    impact_times: np.ndarray
    """(C,) their model times."""
    alpha: np.ndarray
    """(T, C) NTK same-class impacts (:func:`lecode.nets.class_impacts`)."""
    beta: np.ndarray
    """(T, C) NTK cross-class impacts."""
    train_loss: np.ndarray
    """(T, S) training loss."""
    val_acc: np.ndarray
    """(T, S) validation accuracy."""
    val_loss: np.ndarray | None = None
    """(T, S) validation loss."""
    train_acc: np.ndarray | None = None
    """(T, S) training accuracy (against the labels as trained)."""
    class_means_by_label: np.ndarray | None = None
    """(T, S, K, K) class-mean probe logits grouped by the (possibly corrupted) training label
    (chapter 7); :attr:`class_means` itself when there is no label noise (the stored files
    keep the grouping by label only for ``label_noise``)."""

    @property
    def n_trials(self) -> int:
        """T."""
        return self.class_means.shape[0]

    def index(self, step: int) -> int:
        """Position of SGD step ``step`` among :attr:`steps` (it must be a record step)."""
        hits = np.flatnonzero(self.steps == step)
        if hits.size == 0:
            raise ValueError(f"step {step!r} is not a record step of {self.name!r}; record steps "
                             f"are {self.steps[0]}..{self.steps[-1]} (e.g. multiples of "
                             f"{int(self.steps[-1]) // 100})")
        return int(hits[0])


def record(results, setting=None) -> Record:
    """One setting of an experiment's results as a :class:`Record` (chapters 6, 7).

    Parameters
    ----------
    results : str or dict
        An experiment name (loaded with :func:`lecode.experiments.load`) or a
        result dict from :func:`lecode.experiments.run` / ``load``.
    setting : float, optional
        The corruption level p (``geomnist``, ``label_noise``) or the class
        count K (``digits``); default: the first setting.

    Returns
    -------
    Record
    """
    from . import experiments

    if isinstance(results, str):
        name = check_choice("results", results, experiments.EXPERIMENTS)
        results = experiments.load(name)
    if not isinstance(results, dict) or "class_means" not in results:
        raise TypeError("results must be an experiment name or a result dict of lecode.experiments")
    name = str(results.get("cfg_name", "experiment"))
    settings = np.asarray(results["settings"], dtype=float)
    if setting is None:
        s = 0
    else:
        setting = check_real("setting", setting)
        hits = np.flatnonzero(np.isclose(settings, setting))
        if hits.size == 0:
            raise ValueError(f"setting must be one of {settings.tolist()}, got {setting}")
        s = int(hits[0])
    M = np.asarray(results["class_means"][s], dtype=float)
    K = int(np.sum(~np.isnan(M[0, 0, :, 0])))
    M = M[:, :, :K, :K]
    lr = float(results["cfg_lr"])
    steps = np.asarray(results["record_steps"], dtype=np.int64)
    isteps = np.asarray(results["impact_steps"], dtype=np.int64)
    return Record(name=name, setting=float(settings[s]), n_classes=K, lr=lr, steps=steps,
                  times=model_times(steps, lr), class_means=M, impact_steps=isteps,
                  impact_times=model_times(isteps, lr),
                  alpha=np.asarray(results["alpha"][s], dtype=float),
                  beta=np.asarray(results["beta"][s], dtype=float),
                  train_loss=np.asarray(results["train_loss"][s], dtype=float),
                  val_acc=np.asarray(results["val_acc"][s], dtype=float),
                  val_loss=_optional(results, "val_loss", s),
                  train_acc=_optional(results, "train_acc", s),
                  class_means_by_label=_by_label(results, s, M, K))


def _by_label(results, s, M, K):
    """Class means by training label: stored, or the class means themselves without label noise."""
    if "class_means_by_label" in results:
        return np.asarray(results["class_means_by_label"][s], dtype=float)[:, :, :K, :K]
    noise = results.get("noise_fraction")
    if noise is None or np.all(np.asarray(noise[s]) == 0):
        return M
    return None


def _optional(results, key, s):
    return None if key not in results else np.asarray(results[key][s], dtype=float)


# --------------------------------------------------------------------------
# fitting linear LE-ODEs to class-mean logits
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ImpactFit:
    r"""Integrated and instantaneous impacts fitted to class-mean logits (see :func:`fit_impacts`).

    Arrays have shape (S,) for one trajectory or (T, S) for T trials.
    """
    variant: str
    """``"identity"`` or ``"projected"``."""
    times: np.ndarray
    """(S,) model times t = eta * steps of the fitted records (from the first one on)."""
    A: np.ndarray
    r""":math:`\hat A(t) = \int_{t_0}^t \alpha`, zero at ``times[0]``."""
    B: np.ndarray
    r""":math:`\hat B(t) = \int_{t_0}^t \beta`."""
    alpha: np.ndarray
    r""":math:`\hat\alpha(t)`, smoothed derivative of :math:`\hat A` (:func:`lecode.exact.impacts_from_AB`)."""
    beta: np.ndarray
    r""":math:`\hat\beta(t)`."""

    def interval_rates(self):
        r"""Average rates :math:`\Delta\hat A/\Delta t`, :math:`\Delta\hat B/\Delta t` on each interval between records.

        Returns arrays of shape (..., S) whose last entry repeats the one before
        (a step function through them integrates to :math:`\hat A, \hat B`
        exactly at the records).
        """
        dt = np.diff(self.times)
        ra = np.diff(self.A, axis=-1) / dt
        rb = np.diff(self.B, axis=-1) / dt
        return (np.concatenate([ra, ra[..., -1:]], axis=-1),
                np.concatenate([rb, rb[..., -1:]], axis=-1))

    def interpolants(self, rates: str = "smoothed"):
        """``(alpha(t), beta(t))`` as :class:`Interpolant` callables (one value per trial for (T, S) fits).

        ``rates="smoothed"``: linear interpolation of the smoothed
        :attr:`alpha`, :attr:`beta`; ``rates="interval"``: the step function of
        :meth:`interval_rates`, whose integrals are exactly :attr:`A`, :attr:`B`
        at the records.
        """
        check_choice("rates", rates, ("smoothed", "interval"))
        if rates == "smoothed":
            a, b, kind = self.alpha, self.beta, "linear"
        else:
            (a, b), kind = self.interval_rates(), "step"
        return (Interpolant(self.times, np.moveaxis(a, -1, 0), kind=kind),
                Interpolant(self.times, np.moveaxis(b, -1, 0), kind=kind))


def _check_means(times, class_means, name="class_means"):
    times = check_array("times", times, ndim=1)
    X = check_array(name, class_means)
    if X.ndim not in (3, 4) or X.shape[-1] != X.shape[-2] or X.shape[-1] < 2:
        raise ValueError(f"{name} must have shape (S, K, K) or (T, S, K, K) (class-mean logits, "
                         f"K >= 2), got {X.shape}")
    if X.shape[-3] != times.size:
        raise ValueError(f"{name} must hold S = len(times) = {times.size} records, got {X.shape}")
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing with at least 2 points")
    return times, X


def fit_impacts(times, class_means, *, variant: str = "projected", window: int | None = None) -> ImpactFit:
    r"""Fit a linear LE-ODE's integrated impacts to recorded class-mean logits (chapters 6, 7).

    ``variant="projected"`` inverts the two modes of the projected LE-ODE
    (:func:`lecode.exact.estimate_AB_projected`): with
    :math:`y_k = u_k\cdot\bar X_k/|u_k|^2`, its mean :math:`\bar y` and
    contrast :math:`z`,

    .. math::

        \log\frac{\bar y(t)}{\bar y(t_0)} = \frac{\hat A - \hat B}{K}, \qquad
        \log\frac{|z(t)|}{|z(t_0)|} = \frac{\hat A + \hat B/(K-1)}{K};

    ``variant="identity"`` inverts the global-mean and offset modes of the
    identity LE-ODE (:func:`lecode.exact.estimate_AB_identity`).  Then
    :math:`\hat\alpha, \hat\beta` are the local least-squares slopes of
    :math:`\hat A, \hat B` over ``window`` records
    (:func:`lecode.exact.impacts_from_AB`).

    Start the fit where the modes are well away from zero (for a network:
    after the first ~100 SGD steps, when :math:`\bar y > 0` in every trial);
    slice ``times`` and ``class_means`` accordingly.

    Parameters
    ----------
    times : array (S,), strictly increasing
        Model times :math:`t = \eta j` (:func:`model_times`).
    class_means : array (S, K, K) or (T, S, K, K)
        Class-mean logits (one trajectory or T trials).
    variant : {"projected", "identity"}
    window : int, optional
        Points per local slope (default ``min(5, S)``).

    Returns
    -------
    ImpactFit
    """
    variant = check_choice("variant", variant, VARIANTS)
    times, X = _check_means(times, class_means)
    est = exact.estimate_AB_projected if variant == "projected" else exact.estimate_AB_identity
    batch = X.reshape((-1,) + X.shape[-3:])
    A = np.empty(batch.shape[:2])
    B = np.empty(batch.shape[:2])
    a = np.empty_like(A)
    b = np.empty_like(B)
    for j, Xj in enumerate(batch):
        A[j], B[j] = est(times, Xj)
        a[j], b[j] = exact.impacts_from_AB(times, A[j], B[j], window=window)
    shape = X.shape[:-2]
    return ImpactFit(variant, times, A.reshape(shape), B.reshape(shape), a.reshape(shape),
                     b.reshape(shape))


# --------------------------------------------------------------------------
# the class-mean LE-ODE
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _constants(K: int) -> tuple[np.ndarray, np.ndarray]:
    """The identity and the vertex directions u_k = e_k - 1/K (rows), read-only, made once per K."""
    eye = np.eye(K)
    U = eye - 1.0 / K
    eye.setflags(write=False)
    U.setflags(write=False)
    return eye, U


def class_mean_drift(X, alpha, beta, gradient: str = "ce") -> np.ndarray:
    r"""Drift of the one-point-per-class LE-ODE at class means ``X`` (..., K, K).

    .. math::

        b_k = -\frac1K\Big[(\alpha-\beta)\,G_k + \beta\sum_{k'}G_{k'}\Big],

    the drift of :meth:`lecode.LEModel.drift` with one sample per class and
    logit features, vectorised over leading axes (``alpha``, ``beta``
    broadcast against them, e.g. one value per trial).
    """
    check_choice("gradient", gradient, GRADIENTS)
    return _class_mean_drift(np.asarray(X, dtype=float), alpha, beta, gradient)


def _class_mean_drift(X, alpha, beta, gradient):
    """:func:`class_mean_drift` without the checks (the Runge-Kutta loop calls it ~10^3 times)."""
    K = X.shape[-1]
    eye, U = _constants(K)
    if gradient == "ce":
        Z = X - X.max(axis=-1, keepdims=True)
        E = np.exp(Z)
        G = E / E.sum(axis=-1, keepdims=True) - eye
    elif gradient == "identity":
        G = -X
    else:
        y = np.einsum("...kj,kj->...k", X, U) * (K / (K - 1))
        G = -y[..., None] * U
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    if a.ndim:
        a = a[..., None, None]
    if b.ndim:
        b = b[..., None, None]
    return -((a - b) * G + b * G.sum(axis=-2, keepdims=True)) / K


def _as_schedule(name, value):
    if callable(value):
        return value
    v = check_array(name, value)
    return lambda t: v


def solve_class_means(x0, times, *, alpha, beta, gradient: str = "ce", max_step: float = 0.05):
    r"""Solve the one-point-per-class LE-ODE from ``x0`` at ``times[0]`` (chapters 6, 7).

    Classical fourth-order Runge-Kutta with steps of at most ``max_step``
    between consecutive output times (the outputs are exact grid points),
    for the drift of :func:`class_mean_drift`, vectorised over trials.

    Parameters
    ----------
    x0 : array (K, K) or (T, K, K)
        Class means at ``times[0]`` (row k: the mean logits of class k).
    times : array (S,), strictly increasing
        Output times (model time t = eta * steps).
    alpha, beta : float, array (T,), or callable of scalar t returning a float or an array (T,)
        Impacts, e.g. :class:`Interpolant` objects.
    gradient : {"ce", "identity", "projected"}
    max_step : float > 0, default 0.05

    Returns
    -------
    ndarray (S, K, K) or (T, S, K, K); entry ``[..., 0, :, :]`` is ``x0``.

    Raises
    ------
    lecode.NonFiniteError
        If the solution leaves the float range (e.g. a linear variant with a
        large positive rate).
    """
    check_choice("gradient", gradient, GRADIENTS)
    x0 = check_array("x0", x0)
    if x0.ndim not in (2, 3) or x0.shape[-1] != x0.shape[-2] or x0.shape[-1] < 2:
        raise ValueError(f"x0 must have shape (K, K) or (T, K, K) with K >= 2, got {x0.shape}")
    times = check_array("times", times, ndim=1)
    if times.size < 1 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be strictly increasing (at least 1 point)")
    h_max = check_real("max_step", max_step, minimum=0.0, strict_min=True)
    fa, fb = _as_schedule("alpha", alpha), _as_schedule("beta", beta)

    def f(X, t, t_lo, t_hi):
        # stage times are pulled into [t_lo, t_hi) by a relative 1e-9 of the step so that a
        # step function of t (kind="step") is read on the current interval only
        te = t_lo + (t - t_lo) * (1.0 - 1e-9)
        return _class_mean_drift(X, fa(te), fb(te), gradient)

    with np.errstate(over="ignore", invalid="ignore"):
        out = _rk4(f, x0, times, h_max)
    return np.moveaxis(out, 0, -3)


def _rk4(f, x0, times, h_max):
    X = x0.copy()
    out = np.empty((times.size,) + x0.shape)
    out[0] = X
    for s in range(1, times.size):
        t0, t1 = times[s - 1], times[s]
        n = max(1, math.ceil((t1 - t0) / h_max - 1e-9))
        h = (t1 - t0) / n
        for j in range(n):
            t = t0 + j * h
            k1 = f(X, t, t0, t1)
            k2 = f(X + 0.5 * h * k1, t + 0.5 * h, t0, t1)
            k3 = f(X + 0.5 * h * k2, t + 0.5 * h, t0, t1)
            k4 = f(X + h * k3, t + h, t0, t1)
            X = X + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        if not np.all(np.isfinite(X)):
            raise NonFiniteError(f"the LE-ODE solution left the float range at t = {t1:g}; "
                                 f"shorten the horizon or check the impacts")
        out[s] = X
    return out


def relative_error(X, Y, *, centred: bool = True) -> np.ndarray:
    r"""Relative distance of class-mean logits X from the genuine ones Y, per record (chapter 6).

    .. math::

        \varepsilon(t) = \frac{\|C(X(t) - Y(t))\|_F}{\|C\,Y(t)\|_F},

    with :math:`C` the centring of each logit vector (subtracting its mean
    over the K logits) when ``centred`` (the softmax, hence the loss and the
    predictions, cannot see that component), or the identity otherwise.

    Parameters
    ----------
    X, Y : arrays (..., K, K) of the same shape

    Returns
    -------
    ndarray of the leading shape (...)
    """
    X = check_array("X", X)
    Y = check_array("Y", Y)
    if X.shape != Y.shape or X.ndim < 2:
        raise ValueError(f"X and Y must have the same shape (..., K, K), got {X.shape} and {Y.shape}")
    if centred:
        X = X - X.mean(axis=-1, keepdims=True)
        Y = Y - Y.mean(axis=-1, keepdims=True)
    den = np.linalg.norm(Y, axis=(-2, -1))
    if np.any(den == 0):
        raise ValueError("Y vanishes at some record; the relative error is undefined there")
    return np.linalg.norm(X - Y, axis=(-2, -1)) / den


# --------------------------------------------------------------------------
# one call: impacts -> LE-ODE -> error
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Imitation:
    """Result of :func:`imitate`. Arrays have a leading trial axis when the input had one."""
    source: str
    """``"ntk"`` (measured impacts, cross-entropy LE-ODE) or a linear variant name."""
    gradient: str
    """Gradient variant of the LE-ODE that was solved."""
    times: np.ndarray
    """(S,) model times from the start of the imitation on."""
    genuine: np.ndarray
    """(..., S, K, K) the recorded class-mean logits."""
    solution: np.ndarray
    """(..., S, K, K) the LE-ODE solution started from ``genuine[..., 0, :, :]``."""
    error: np.ndarray
    """(..., S) :func:`relative_error` (centred) of the solution."""
    alpha: object
    """The alpha(t) that drove the LE-ODE (a callable)."""
    beta: object
    """The beta(t) that drove the LE-ODE."""


def imitate(times, class_means, *, source: str = "projected", impact_times=None, alpha=None,
            beta=None, rates: str = "interval", window: int | None = None,
            max_step: float = 0.05) -> Imitation:
    r"""Drive an LE-ODE with impacts from a training record and compare it with the record (chapter 6).

    * ``source="ntk"``: the cross-entropy LE-ODE with the measured impacts
      ``alpha``, ``beta`` given at ``impact_times`` (arrays (C,) or (T, C),
      interpolated linearly by :class:`Interpolant`).
    * ``source="projected"`` or ``"identity"``: the linear LE-ODE of that
      variant with the impacts fitted by :func:`fit_impacts`:
      ``rates="interval"`` (default) drives it with the average rates between
      records, whose integrals are exactly :math:`\hat A, \hat B`, so the two
      fitted modes are reproduced and the remaining error is what the
      variant cannot represent; ``rates="smoothed"`` uses the smoothed
      :math:`\hat\alpha, \hat\beta` and adds the smoothing error.

    The LE-ODE starts from the record at ``times[0]``.

    Parameters
    ----------
    times : array (S,)
        Model times of the records (:func:`model_times`).
    class_means : array (S, K, K) or (T, S, K, K)
    source : {"projected", "identity", "ntk"}
    impact_times, alpha, beta : arrays, only for ``source="ntk"``
    rates : {"interval", "smoothed"}
        For the fitted sources (see :meth:`ImpactFit.interpolants`).
    window : int, optional
        For the fitted sources (see :func:`fit_impacts`).
    max_step : float
        Runge-Kutta step bound (:func:`solve_class_means`).

    Returns
    -------
    Imitation
    """
    check_choice("source", source, ("ntk",) + VARIANTS)
    check_choice("rates", rates, ("interval", "smoothed"))
    times, X = _check_means(times, class_means)
    if source == "ntk":
        if impact_times is None or alpha is None or beta is None:
            raise ValueError("source='ntk' needs impact_times, alpha and beta")
        it = check_array("impact_times", impact_times, ndim=1)
        a = check_array("alpha", alpha)
        b = check_array("beta", beta)
        want = X.shape[:-3] + (it.size,)
        if a.shape != want or b.shape != want:
            raise ValueError(f"alpha and beta must have shape {want} (trials x impact times), "
                             f"got {a.shape} and {b.shape}")
        fa, fb = Interpolant(it, np.moveaxis(a, -1, 0)), Interpolant(it, np.moveaxis(b, -1, 0))
        gradient = "ce"
    else:
        if alpha is not None or beta is not None or impact_times is not None:
            raise ValueError(f"source={source!r} fits its own impacts; do not pass alpha, beta "
                             f"or impact_times")
        fa, fb = fit_impacts(times, X, variant=source, window=window).interpolants(rates)
        gradient = source
    sol = solve_class_means(X[..., 0, :, :], times, alpha=fa, beta=fb, gradient=gradient,
                            max_step=max_step)
    return Imitation(source, gradient, times, X, sol, relative_error(sol, X), fa, fb)


# --------------------------------------------------------------------------
# converting impacts between the cross-entropy and the linear LE-ODE
# --------------------------------------------------------------------------

def linear_equivalent_gap(gap, *, s0, n_classes):
    r"""The projected-LE-ODE gap :math:`(A-B)_{\rm lin}` that reproduces a cross-entropy margin (chapter 6).

    On the symmetric configuration :math:`\bar X_k = s\,u_k` the
    cross-entropy LE-ODE moves the margin by
    :math:`\dot s = (\alpha-\beta)/(e^{s} + K - 1)`, so that
    :math:`e^{s} + (K-1)s = e^{s_0} + (K-1)s_0 + (A-B)_{\rm ce}`
    (solved by :func:`lecode.exact.ce_margin_from_gap`), while the
    projected linear LE-ODE gives :math:`\dot s = (\alpha-\beta)_{\rm lin}\,s/K`,
    i.e. :math:`s = s_0\,e^{(A-B)_{\rm lin}/K}`.  Both describe the same
    margin when

    .. math::

        (A-B)_{\rm lin}(t) = K\log\frac{s(t)}{s_0}, \qquad
        (\alpha-\beta)_{\rm lin} = \frac{K\,(\alpha-\beta)_{\rm ce}}{s\,(e^{s}+K-1)} .

    Parameters
    ----------
    gap : array
        :math:`(A-B)_{\rm ce}(t) = \int_{t_0}^t (\alpha-\beta)` in NTK units.
    s0 : float > 0
        Margin at :math:`t_0`.
    n_classes : int >= 2

    Returns
    -------
    ndarray, the shape of ``gap``
    """
    gap = check_array("gap", gap)
    s0 = check_real("s0", s0, minimum=0.0, strict_min=True)
    if s0 > 700:
        raise ValueError(f"s0 must be <= 700, got {s0}")
    K = check_int("n_classes", n_classes, minimum=2)
    s = exact.ce_margin_from_gap(gap, n_classes=K, s0=s0)
    if np.any(s <= 0):
        raise ValueError("the cross-entropy margin reaches 0 for this gap; the linear "
                         "equivalent K log(s/s0) is undefined there")
    return K * np.log(s / s0)


def tail_index(times, rate, *, t_min: float | None = None):
    r"""Least-squares decay exponent r of a positive rate: :math:`\text{rate} \approx c\,t^{-r}` (chapters 6, 7).

    Fits :math:`\log \text{rate} = \log c - r\log t` over the times
    :math:`t \ge t_\min` (all positive times by default).  An impact gap
    :math:`\alpha-\beta` with tail index r > 1 is integrable, so its
    integral A - B converges (chapter 4).

    Parameters
    ----------
    times : array (S,) of times > 0 (where used)
    rate : array (S,), positive where used
    t_min : float, optional

    Returns
    -------
    (r, c) : floats
    """
    times = check_array("times", times, ndim=1)
    rate = check_array("rate", rate, shape=(times.size,))
    lo = 0.0 if t_min is None else check_real("t_min", t_min, minimum=0.0)
    use = (times > 0) & (times >= lo)
    if use.sum() < 2:
        raise ValueError("need at least 2 times >= t_min (and > 0) to fit a tail index")
    if np.any(rate[use] <= 0):
        raise ValueError("rate must be positive on the fitted times (the log-log fit needs it)")
    slope, icpt = np.polyfit(np.log(times[use]), np.log(rate[use]), 1)
    return float(-slope), float(math.exp(icpt))
