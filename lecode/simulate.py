"""Simulators of the locally elastic model: LE-SDE, LE-ODE and feature-SGD.

Chapter 2 of the book derives the LE-SDE from feature-SGD and compares the
two; chapters 3-7 use :func:`simulate` throughout.

* ``method="sde"`` -- Euler-Maruyama for the LE-SDE of :class:`lecode.LEModel`,
* ``method="ode"`` -- the LE-ODE (the same drift, sigma ignored),
* ``method="sgd"`` -- the discrete feature-SGD particle system.

All three are vectorised over trials, cost O(K n p) per step (O(K p) for
feature-SGD) and keep only the ``n_saves`` saved states, so memory does not
grow with the number of steps.

Noise convention
----------------
In the LE-SDE each sample has its own Brownian motion: over a time t a sample
diffuses by sigma^2 t per coordinate and a class mean by sigma^2 t / n.  In
feature-SGD the noise is implicit: one step at the drawn sample (k', i')
moves *every* sample of class k by the same vector -lr E_kk' grad(X_k'i'),
so the noise is common to a class, correlated across classes and vanishes
with the gradients.  Over t/lr steps the class mean of class k accumulates
covariance ~ lr t C_k, with C_k the covariance of E_kk' grad(X_k'i') over
the uniform draw.  Matching the class-mean variance gives sigma^2 = n lr
tr(C)/d: see :func:`sgd_noise_sigma`.  sigma^2 is of order lr.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np

from ._validate import NonFiniteError, as_generator, check_array, check_choice, check_int, check_real
from .limits import check_bytes, check_steps
from .model import LEModel, _Kernel, _gradients, _gradients_flat, _vertex_matrix

__all__ = ["simulate", "Trajectory", "sgd_noise_sigma", "euler_rate", "METHODS", "X0_SCALE"]

#: Simulation methods accepted by :func:`simulate`.
METHODS = ("sde", "ode", "sgd")

#: A deterministic run from identical samples returns a read-only broadcast
#: view instead of a copy when the full features array would exceed this size.
_MAX_COPY_BYTES = 64 * 2 ** 20

#: Standard deviation of the default initial cloud: X_{k,i}(0) ~ N(0, X0_SCALE^2 I_p).
X0_SCALE = 0.1


# --------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """Saved states of one call to :func:`simulate`.

    Attributes
    ----------
    times : ndarray (S,)
        Save times (``linspace(0, t_end, n_saves)`` for sde/ode; ``lr * steps``
        for sgd).
    features : ndarray (n_trials, S, K, n, p)
        ``features[r, s, k, i]`` is sample i of true class k in trial r at
        ``times[s]``.  For a deterministic run started with identical samples
        within each class whose full array would exceed 64 MB this is a
        read-only broadcast view of the per-class solution.
    labels : ndarray (K, n)
        Observed labels (``model.labels``).
    model : LEModel
    method : str
    dt : float
        Step actually used (for sgd, the learning rate).
    seed : object
        The ``seed`` argument as given.
    centred : bool
        Whether the global mean was removed (``simulate(..., centre=True)``).
    """

    times: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    model: LEModel
    method: str
    dt: float
    seed: Any = None
    centred: bool = False

    def __repr__(self) -> str:
        return (f"Trajectory(method={self.method!r}, n_trials={self.n_trials}, "
                f"times=[{self.times[0]:g} .. {self.times[-1]:g}] ({self.n_saves} saves), "
                f"features shape {self.features.shape}, dt={self.dt:g}, seed={self.seed!r}"
                + (", centred" if self.centred else "") + ")")

    @property
    def n_trials(self) -> int:
        return self.features.shape[0]

    @property
    def n_saves(self) -> int:
        return self.features.shape[1]

    def class_means(self) -> np.ndarray:
        """Class means over samples, shape (n_trials, S, K, p)."""
        return self.features.mean(axis=-2)

    def global_mean(self) -> np.ndarray:
        """Mean of all K n features, shape (n_trials, S, p)."""
        return self.features.mean(axis=(-3, -2))

    def final(self) -> np.ndarray:
        """Features at the last save time, shape (n_trials, K, n, p)."""
        return self.features[:, -1]

    def at(self, t: float) -> np.ndarray:
        """Features at the save time nearest to ``t``, shape (n_trials, K, n, p)."""
        return self.features[:, int(np.argmin(np.abs(self.times - float(t))))]


# --------------------------------------------------------------------------
# generic Euler-Maruyama stepper (also used directly by the convergence tests)
# --------------------------------------------------------------------------

def _euler_maruyama(x0, drift: Callable, diffusion: Callable | None, increments: Callable | None,
                    *, dt: float, save_steps, on_save: Callable, t0: float = 0.0,
                    advice: str = "use a smaller dt or a shorter t_end") -> np.ndarray:
    """Euler-Maruyama: x_{j+1} = x_j + b(x_j, t_j) dt + diffusion(x_j, t_j, dW_j).

    Parameters
    ----------
    x0 : array, copied.
    drift : b(x, t) -> array broadcastable to x.
    diffusion : (x, t, dW) -> increment array, or None (ODE, Euler's method).
    increments : j -> dW_j (Brownian increments of variance dt), or None.
    save_steps : increasing step indices at which ``on_save(s, x, t)`` is called.
    Raises NonFiniteError (with the time interval and ``advice``) as soon as
    a saved state is not finite.
    """
    x = np.array(x0, dtype=float)
    j = 0
    t_prev = t0
    with np.errstate(over="ignore", invalid="ignore"):
        for s, js in enumerate(save_steps):
            while j < js:
                t = t0 + j * dt
                b = drift(x, t)
                if diffusion is not None:
                    inc = diffusion(x, t, increments(j))
                    x += b * dt
                    x += inc
                else:
                    x += b * dt
                j += 1
            t = t0 + j * dt
            if not np.isfinite(x).all():
                raise NonFiniteError(f"the simulation became non-finite between t={t_prev:.6g} "
                                     f"and t={t:.6g} (dt={dt:.3g}); {advice}")
            on_save(s, x, t)
            t_prev = t
    return x


class _Scaled:
    """A component Y = exp(logc) * Z of a linear scalar-rate SDE, for overflow-free EM.

    Euler-Maruyama Y_{j+1} = (1 + lam dt) Y_j + dN_j is carried out as
    logc += log(1 + lam dt), Z += dN exp(-logc), renormalising so that logc >= 0:
    the same numbers as plain EM, but growth is kept in ``logc``.
    """

    def __init__(self, Z):
        self.Z = np.array(Z, dtype=float)
        self.logc = 0.0

    def step(self, factor: float, noise=None):
        self.logc += math.log(factor)
        if noise is not None:
            self.Z += noise * math.exp(-self.logc)
        if self.logc < 0.0:
            self.Z *= math.exp(self.logc)
            self.logc = 0.0

    def value(self):
        return self.Z * math.exp(self.logc) if self.logc < 709.0 else self.Z * np.inf


# --------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------

def simulate(model: LEModel, t_end: float, *, dt: float | None = None, method: str = "sde",
             n_trials: int = 1, n_saves: int = 101, x0=None, lr: float | None = None,
             seed=None, centre: bool = False) -> Trajectory:
    r"""Simulate the LE-SDE, the LE-ODE or feature-SGD (chapter 2; DESIGN.md section 3).

    ``method="sde"``: Euler-Maruyama with step dt for

    .. math::

        X_{j+1} = X_j + b(X_j, t_j)\,\Delta t + \sigma(t_j)\,\Delta B_j,
        \qquad \Delta B_j \sim N(0, \Delta t\, I) \text{ per sample,}

    with the drift b of :meth:`LEModel.drift` (class means, O(K n p)).
    ``method="ode"``: the same scheme with sigma = 0 (Euler's method).
    ``method="sgd"``: feature-SGD; at step m a sample (k', i') is drawn
    uniformly (independently per trial) and every feature moves:

    .. math::

        X_{k,i} \leftarrow X_{k,i} - \eta\,(E_{kk'}(t_m) + \gamma\,
        \delta_{(k,i),(k',i')})\,\nabla\ell(X_{k',i'}, y_{k',i'}),
        \qquad t_m = \eta m .

    Parameters
    ----------
    model : LEModel
    t_end : float > 0
    dt : float > 0
        Step for sde/ode.  Each save interval t_end/(n_saves-1) is split into
        ceil(interval/dt) equal steps, so the step used (``Trajectory.dt``) is
        at most ``dt`` and the save times are exact.  For sgd leave it None
        (or equal to ``lr``).
    method : {"sde", "ode", "sgd"}
    n_trials : int >= 1
        Independent trials (vectorised).
    n_saves : int >= 2
        Number of saved states, equally spaced from 0 to t_end inclusive.
    x0 : array, optional
        Initial features, shape (K, n, p) or (n_trials, K, n, p); an n-axis
        of length 1 (or x0 of shape (K, p)) means all samples of a class
        start at the same point (the LE-ODE's "one point per class").  Default: independent
        N(0, X0_SCALE^2 I_p) draws for every sample and trial, drawn from
        ``seed`` before any other random number.  ``X0_SCALE = 0.1`` is a
        constant of the *module* ``lecode.simulate``: import it with
        ``from lecode.simulate import X0_SCALE`` (``lecode.simulate.X0_SCALE``
        fails, because the package attribute ``lecode.simulate`` is this
        function, not the module).
    lr : float > 0
        Learning rate eta, required for sgd (time = lr * steps).  The saves
        are at steps round(s t_end / (lr (n_saves-1))), so ``times`` may
        differ from the equally spaced grid by at most lr/2.
    seed : None, int or numpy Generator
        The same seed gives bit-identical results.
    centre : bool, default False
        Return the features minus their global mean (1/(Kn)) sum X, a
        translation that leaves separability, class offsets and NC1-NC3
        unchanged (not the argmax of logits).  For ``gradient="identity"``
        with alpha/beta impacts the global mean grows like
        exp((A + (K-1)B)/K), faster than the class offsets; its dynamics
        decouple (global mean / class offsets / within-class deviations
        evolve independently, each a linear SDE with a scalar rate), and the
        simulator integrates the three parts separately, by the same
        Euler-Maruyama scheme in a rescaled frame.  With ``centre=True`` the
        global mean is never added, so long horizons neither overflow nor
        lose the offsets to rounding.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError, TypeError
        Invalid arguments (the message names the parameter and the allowed range).
    NonFiniteError
        When the state becomes non-finite (with the time and what to change).

    Notes
    -----
    A deterministic run (ode, or sde with sigma = 0) whose samples start
    identical within each class integrates one point per (class, label)
    group only (the LE-ODE of class means) and expands the result to the
    n samples at the end.
    """
    if not isinstance(model, LEModel):
        raise TypeError(f"model must be a lecode.LEModel, got {type(model).__name__}")
    t_end = check_real("t_end", t_end, minimum=0.0, strict_min=True)
    check_choice("method", method, METHODS)
    n_trials = check_int("n_trials", n_trials, minimum=1)
    n_saves = check_int("n_saves", n_saves, minimum=2)
    if not isinstance(centre, (bool, np.bool_)):
        raise TypeError(f"centre must be True or False, got {centre!r}")
    interval = t_end / (n_saves - 1)
    _check_memory(model, method, n_trials, n_saves, x0)

    if method == "sgd":
        if lr is None:
            raise TypeError("method='sgd' needs the learning rate lr (a number > 0)")
        lr = check_real("lr", lr, minimum=0.0, strict_min=True)
        if dt is not None:
            dt = check_real("dt", dt, minimum=0.0, strict_min=True)
            if not math.isclose(dt, lr, rel_tol=1e-12):
                raise ValueError(f"for method='sgd' the step is the learning rate: leave dt=None "
                                 f"or set dt == lr; got dt={dt}, lr={lr}")
        if lr > interval * (1 + 1e-12):
            raise ValueError(f"lr must be <= t_end/(n_saves-1) = {interval:.6g} so that every "
                             f"save interval holds at least one SGD step; got lr={lr}")
        check_steps("lr", t_end / lr, f"feature-SGD to t_end={t_end:g} with lr={lr:g}",
                    "use a larger lr or a shorter t_end")
        save_steps = [int(round(s * t_end / (lr * (n_saves - 1)))) for s in range(n_saves)]
    else:
        if lr is not None:
            raise ValueError(f"lr is only used by method='sgd' (method={method!r}); to match "
                             f"SGD noise with the LE-SDE choose sigma with sgd_noise_sigma")
        if dt is None:
            raise TypeError(f"method={method!r} needs the time step dt (a number > 0)")
        dt = check_real("dt", dt, minimum=0.0, strict_min=True)
        check_steps("dt", t_end / dt, f"Euler-Maruyama to t_end={t_end:g} with dt={dt:g}",
                    "use a larger dt or a shorter t_end")
        per = max(1, math.ceil(interval / dt * (1 - 1e-12)))
        dt = interval / per
        save_steps = [s * per for s in range(n_saves)]

    rng = as_generator(seed)
    x0 = _initial_state(x0, model, n_trials, rng)
    labels = model.labels

    if method == "sgd":
        feats, times = _run_sgd(model, x0, lr, save_steps, rng, centre)
        return Trajectory(times, feats, labels, model, method, lr, seed, bool(centre))

    times = np.linspace(0.0, t_end, n_saves)
    stochastic = method == "sde" and model.is_stochastic
    feats = _run_em(model, x0, dt, save_steps, rng, stochastic, centre)
    return Trajectory(times, feats, labels, model, method, dt, seed, bool(centre))


def sgd_noise_sigma(model: LEModel, lr: float, x=None, t: float = 0.0) -> float:
    r"""The sigma for which the LE-SDE's class means fluctuate like feature-SGD's (chapter 2).

    One feature-SGD step at the uniformly drawn sample (k', i') moves all of
    class k by :math:`-\eta V_k`, :math:`V_k = E_{kk'}\nabla\ell(X_{k',i'})`.
    Its covariance over the draw is

    .. math::

        C_k = \frac{1}{Kn}\sum_{k',i'} E_{kk'}^2\, g_{k'i'} g_{k'i'}^\top
              - \mu_k\mu_k^\top, \qquad
        \mu_k = \frac1K \sum_{k'} E_{kk'} \bar G_{k'},

    so over a time t (t/eta steps) a class mean accumulates covariance
    :math:`\eta t C_k`, while in the LE-SDE it accumulates
    :math:`\sigma^2 t I/n`.  Matching the average variance per direction of
    the gradient subspace (dimension d: p for ``identity``, K-1 for
    ``projected``, rank(W^T(I - 11^T/K)) for ``ce``) gives

    .. math::

        \sigma^2 = \frac{n\,\eta}{K d}\sum_k \operatorname{tr} C_k .

    This is state dependent (SGD noise vanishes with the gradients); evaluate
    it at a representative state ``x``.  The self-impact gamma is ignored
    (its share of a class mean is O(1/n)).  Note that feature-SGD's noise is
    common to all samples of a class (the within-class spread does not
    diffuse) whereas the LE-SDE's is independent per sample: only class-mean
    statistics can be matched.

    Parameters
    ----------
    model : LEModel
    lr : float > 0
        The SGD learning rate eta.
    x : array (K, n, p), optional
        State at which to evaluate C_k (default: all features zero).
    t : float
        Time at which to evaluate the impacts.
    """
    if not isinstance(model, LEModel):
        raise TypeError(f"model must be a lecode.LEModel, got {type(model).__name__}")
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    t = check_real("t", t)
    K, n, p = model.n_classes, model.n_per_class, model.dim
    x = np.zeros((K, n, p)) if x is None else check_array("x", x, shape=(K, n, p))
    g = _gradients(model, x, model.labels)                      # (K, n, p)
    E = model.impacts(t)                                       # (K, K)
    Gbar = g.mean(axis=1)                                      # (K, p)
    mu = E @ Gbar / K                                          # (K, p)
    sq = (g ** 2).sum(axis=-1).mean(axis=1)                    # (K,)  mean |g|^2 per class
    second = (E ** 2) @ sq / K                                 # (K,)
    trC = np.maximum(second - (mu ** 2).sum(axis=-1), 0.0)
    if model.gradient == "identity":
        d = p
    elif model.gradient == "projected":
        d = K - 1
    else:
        W = np.eye(K) if model.readout is None else model.readout
        d = max(1, int(np.linalg.matrix_rank(W.T @ _vertex_matrix(K))))
    return float(math.sqrt(n * lr * trC.sum() / (K * d)))


# --------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------

def _check_memory(model: LEModel, method: str, n_trials: int, n_saves: int, x0) -> None:
    """Refuse a simulation whose arrays would exceed lecode.limits' max_bytes."""
    K, n, p = model.n_classes, model.n_per_class, model.dim
    m = n
    deterministic = method == "ode" or (method == "sde" and not model.is_stochastic)
    try:
        one_slot = x0 is not None and np.ndim(x0) >= 3 and np.shape(x0)[-2] == 1
    except Exception:                       # noqa: BLE001 - x0 is validated later
        one_slot = False
    if deterministic and one_slot:
        m = 1 if model.gradient == "identity" else min(n, K)   # one slot per class (or label)
    state = n_trials * K * m * p * 8
    need = state * (n_saves + 4)                # saved states + state, drift and noise buffers
    if not deterministic or m == n:
        need = max(need, n_trials * K * n * p * 8 * (n_saves + 4))
    check_bytes(f"n_trials={n_trials}, n_saves={n_saves}",
                need, f"the features (n_trials x n_saves x K x n x p = {n_trials} x {n_saves} x "
                      f"{K} x {n} x {p} floats) and the working state",
                "use fewer trials, fewer saves or a smaller model")


def _initial_state(x0, model: LEModel, n_trials: int, rng) -> np.ndarray:
    """x0 as an array (n_trials, K, m, p) with m = n or 1."""
    K, n, p = model.n_classes, model.n_per_class, model.dim
    if x0 is None:
        return X0_SCALE * rng.standard_normal((n_trials, K, n, p))
    x0 = check_array("x0", x0)
    if x0.ndim == 2 and x0.shape == (K, p):    # one point per class
        x0 = x0[:, None, :]
    ok3 = x0.ndim == 3 and x0.shape[0] == K and x0.shape[1] in (1, n) and x0.shape[2] == p
    ok4 = (x0.ndim == 4 and x0.shape[0] == n_trials and x0.shape[1] == K
           and x0.shape[2] in (1, n) and x0.shape[3] == p)
    if not (ok3 or ok4):
        raise ValueError(f"x0 must have shape (K, n, p) = ({K}, {n}, {p}) or "
                         f"(n_trials, K, n, p) = ({n_trials}, {K}, {n}, {p}) "
                         f"(an n-axis of length 1 is broadcast; (K, p) means one point "
                         f"per class); got {x0.shape}")
    if ok3:
        x0 = np.broadcast_to(x0, (n_trials,) + x0.shape)
    return np.array(x0, dtype=float)


def _advice(model: LEModel, dt: float) -> str:
    return f"use a smaller dt (now {dt:.3g}), a shorter t_end or smaller impacts/sigma"


def _run_em(model: LEModel, x0: np.ndarray, dt: float, save_steps, rng,
            stochastic: bool, centre: bool) -> np.ndarray:
    """Euler-Maruyama (or Euler for the ODE); returns features (T, S, K, n, p)."""
    T, K, m0, p = x0.shape
    n = model.n_per_class
    S = len(save_steps)
    labels = model.labels
    weights = None
    expand = None  # how to map slots back to the n samples
    x = x0
    if not stochastic:
        identical = m0 == 1 or bool(np.all(x0 == x0[:, :, :1, :]))
        if identical:
            x = x0[:, :, :1, :]
            if model.gradient == "identity" or bool(np.all(labels == labels[:, :1])):
                labels, weights, expand = labels[:, :1], np.ones((K, 1)), "broadcast"
            else:  # one slot per (class, label) group
                x = np.repeat(x, K, axis=2)
                labels = np.tile(np.arange(K), (K, 1))
                weights, expand = model.label_fractions, "gather"
    if x.shape[2] != n and expand is None:  # m0 == 1 but stochastic: spread the samples
        x = np.repeat(x, n, axis=2)
    m = x.shape[2]
    out = np.empty((T, S, K, m, p))

    if model.gradient == "identity" and model.impact_matrix is None:
        _run_identity(model, x, weights, dt, save_steps, rng, stochastic, centre, out)
    else:
        kernel = _Kernel(model, labels, weights, n)
        check = _StabilityCheck(model, kernel, dt)

        def on_save(s, xs, t):
            if s < len(save_steps) - 1:
                check(xs, t)        # before the steps of the next save interval
            out[:, s] = xs
            if centre:
                out[:, s] -= _global_mean(xs, weights)[:, None, None, :]

        drift = kernel.drift
        if stochastic:
            buf = np.empty(x.shape)
            sq = math.sqrt(dt)

            def increments(j):
                rng.standard_normal(out=buf)
                return buf

            def diffusion(xs, t, dw):
                dw *= model.sigma_at(t) * sq
                return dw
        else:
            increments = diffusion = None
        _euler_maruyama(x, drift, diffusion, increments, dt=dt, save_steps=save_steps,
                        on_save=on_save, advice=_advice(model, dt))

    if expand == "broadcast":
        full = np.broadcast_to(out, (T, S, K, n, p))
        if full.size * 8 <= _MAX_COPY_BYTES:
            return full.copy()
        out.setflags(write=False)
        return full
    if expand == "gather":
        kk = np.broadcast_to(np.arange(K)[:, None], (K, n))
        return out[:, :, kk, model.labels, :]
    return out


#: The stability check linearises the drift on K p class-mean coordinates; above
#: this size (K p > 120) it runs once, at the start, instead of at every save.
_STABILITY_EVERY_SAVE_MAX = 120


def euler_rate(model: LEModel, x=None, t: float = 0.0) -> float:
    r"""Fastest decay rate of the LE drift linearised at ``x`` (chapter 2).

    Euler(-Maruyama) with step dt multiplies a mode of the linearised drift
    with eigenvalue :math:`\lambda` by :math:`1 + \lambda\,dt`; for a decaying
    mode this must stay positive, so the largest step that does not overshoot
    is :math:`1/r` with :math:`r = \max(0, -\min \operatorname{Re}\lambda)`,
    the value returned (0: nothing decays, any dt is stable in this sense).

    The linearisation is taken with respect to a common shift of each class
    (the class-mean dynamics, exact for one point per class):

    .. math::

        J_{kk'} = -\frac1K E_{kk'}(t)\,D_{k'} - \frac{\gamma}{Kn}\,\delta_{kk'} D_k,

    with :math:`D_k` the class average of the gradient's Jacobian:
    :math:`-I` (``identity``), :math:`-\sum_j F_{kj} P_j` (``projected``,
    F the label fractions), :math:`W^\top(\operatorname{diag}s - ss^\top)W`
    with s = softmax(W x) averaged over the class (``ce``).

    Parameters
    ----------
    model : LEModel
    x : array (K, n, p) or (n_trials, K, n, p), optional
        State (only ``ce`` depends on it); default all zeros.
    t : float
        Time at which the impacts are evaluated.
    """
    if not isinstance(model, LEModel):
        raise TypeError(f"model must be a lecode.LEModel, got {type(model).__name__}")
    t = check_real("t", t)
    K, n, p = model.n_classes, model.n_per_class, model.dim
    if x is None:
        x = np.zeros((1, K, 1, p))
    else:
        x = check_array("x", x)
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[1] != K or x.shape[3] != p:
            raise ValueError(f"x must have shape (K, n, p) or (n_trials, K, n, p) with "
                             f"K = {K}, p = {p}; got {x.shape}")
    kernel = _Kernel(model, model.labels if x.shape[2] == n else model.labels[:, :x.shape[2]],
                     None, n)
    return _decay_rate(model, kernel, x, t)


def _gradient_jacobians(model: LEModel, kernel, x: np.ndarray) -> np.ndarray:
    """D (K, p, p): class-averaged Jacobian of the gradient at slots x (T, K, m, p)."""
    K, p = model.n_classes, model.dim
    if model.gradient == "identity":
        return np.broadcast_to(-np.eye(p), (K, p, p))
    if model.gradient == "projected":
        U = _vertex_matrix(K)
        P = np.einsum("ja,jb->jab", U, U) * (K / (K - 1))       # P_j = u_j u_j^T / |u_j|^2
        return -np.einsum("kj,jab->kab", kernel.onehot_mean, P)
    S = kernel._softmax(x)                                     # (T, K, m, K)
    w = (np.full(x.shape[1:3], 1.0 / x.shape[2]) if kernel.weights is None
         else kernel.weights)                                  # (K, m)
    w = w / x.shape[0]
    diag = np.einsum("km,tkmj->kj", w, S)
    H = -np.einsum("km,tkmi,tkmj->kij", w, S, S)
    H[:, np.arange(K), np.arange(K)] += diag
    W = np.eye(K) if model.readout is None else model.readout
    return np.einsum("ia,kij,jb->kab", W, H, W)


def _decay_rate(model: LEModel, kernel, x: np.ndarray, t: float) -> float:
    K, p = model.n_classes, model.dim
    D = _gradient_jacobians(model, kernel, x)
    E = model.impacts(t)
    J = -np.einsum("kl,lab->kalb", E, D) / K
    c = model.gamma / (K * model.n_per_class)
    if c:
        idx = np.arange(K)
        J[idx, :, idx, :] -= c * D
    lam = np.linalg.eigvals(J.reshape(K * p, K * p))
    return float(max(0.0, -lam.real.min()))


class _StabilityCheck:
    """Refuses an Euler step that overshoots a decaying mode (1 - r dt <= 0).

    Run at the start and at every save (once only when the linearisation is
    constant: linear variants with constant impacts; or large: K p > 120).
    """

    def __init__(self, model: LEModel, kernel, dt: float):
        self.model, self.kernel, self.dt = model, kernel, dt
        constant = (model.gradient != "ce" and not callable(model.impact_matrix)
                    and not callable(model.alpha) and not callable(model.beta))
        big = model.n_classes * model.dim > _STABILITY_EVERY_SAVE_MAX
        self.once = constant or big
        self.done = False

    def __call__(self, x: np.ndarray, t: float) -> None:
        if self.done:
            return
        self.done = self.once
        with np.errstate(all="ignore"):
            r = _decay_rate(self.model, self.kernel, x, t)
        if r * self.dt >= 1.0:
            m = self.model
            raise NonFiniteError(
                f"Euler step dt={self.dt:.3g} is unstable for the {m.gradient!r} variant at "
                f"t={t:.6g}: the drift linearised at the current state has a mode decaying at "
                f"rate {r:.4g}, and 1 - rate*dt = {1 - r * self.dt:.3g} <= 0 makes the scheme "
                f"overshoot (wrong numbers, not necessarily an overflow). The largest stable "
                f"step is 1/rate = {1 / r:.4g}: use a smaller dt, e.g. dt = {0.5 / r:.3g} "
                f"(from lecode.simulate import euler_rate: euler_rate(model, x, t) gives the rate)")


def _global_mean(x: np.ndarray, weights) -> np.ndarray:
    """Global mean (T, p) of features (T, K, m, p) with slot weights (K, m) or None."""
    if weights is None:
        return x.mean(axis=(1, 2))
    return np.einsum("km,tkmp->tp", weights, x) / x.shape[1]


def _run_identity(model: LEModel, x: np.ndarray, weights, dt: float, save_steps, rng,
                  stochastic: bool, centre: bool, out: np.ndarray) -> None:
    """Euler-Maruyama for the identity variant in decoupled, rescaled coordinates.

    X = m + o_k + w_{k,i} (global mean, class offsets summing to zero, within-class
    deviations summing to zero) with rates
    lam_m = (alpha + (K-1) beta)/K + c, lam_o = (alpha - beta)/K + c, lam_w = c,
    c = gamma/(K n).  EM on X equals EM on each part (EM commutes with linear
    maps); each part is carried as exp(logc) * Z (see ``_Scaled``).
    """
    T, K, mm, p = x.shape
    n = model.n_per_class
    c = model.gamma / (K * n)
    wts = np.full((K, mm), 1.0 / mm) if weights is None else weights
    xbar = np.einsum("km,tkmp->tkp", wts, x)
    gm = xbar.mean(axis=1)
    Mg = _Scaled(gm)
    Mo = _Scaled(xbar - gm[:, None, :])
    Mw = _Scaled(x - xbar[:, :, None, :])
    buf = np.empty(x.shape) if stochastic else None
    sq = math.sqrt(dt)
    j = 0
    t_prev = 0.0
    for s, js in enumerate(save_steps):
        while j < js:
            t = j * dt
            a, b = model._alpha_beta(t)
            fm, fo, fw = 1 + dt * ((a + (K - 1) * b) / K + c), 1 + dt * ((a - b) / K + c), 1 + dt * c
            if min(fm, fo, fw) <= 0:
                raise NonFiniteError(
                    f"Euler-Maruyama is unstable at t={t:.6g}: 1 + rate*dt <= 0 for a mode of the "
                    f"identity variant (rates {(fm - 1) / dt:.3g}, {(fo - 1) / dt:.3g}, "
                    f"{(fw - 1) / dt:.3g}); use a smaller dt (now {dt:.3g})")
            if stochastic:
                sig = model.sigma_at(t) * sq
                rng.standard_normal(out=buf)
                buf *= sig
                nb = buf.mean(axis=2)                 # (T, K, p) class means of the noise
                ng = nb.mean(axis=1)                  # (T, p)
                Mg.step(fm, ng)
                Mo.step(fo, nb - ng[:, None, :])
                Mw.step(fw, buf - nb[:, :, None, :])
            else:
                Mg.step(fm)
                Mo.step(fo)
                Mw.step(fw)
            j += 1
        t = j * dt
        with np.errstate(over="ignore", invalid="ignore"):
            val = Mo.value()[:, :, None, :] + Mw.value()
            if not np.isfinite(val).all():
                raise NonFiniteError(
                    f"the class offsets / within-class deviations of the identity variant exceed "
                    f"the float range between t={t_prev:.6g} and t={t:.6g}; use a shorter t_end "
                    f"or smaller alpha - beta, gamma or sigma")
            if not centre:
                val = val + Mg.value()[:, None, None, :]
                if not np.isfinite(val).all():
                    raise NonFiniteError(
                        f"the global mean of the identity variant (growth rate "
                        f"(alpha + (K-1) beta)/K) exceeds the float range between t={t_prev:.6g} "
                        f"and t={t:.6g}; pass centre=True (exact: the global mean decouples from "
                        f"the class offsets) or use a shorter t_end")
        out[:, s] = val
        t_prev = t


def _run_sgd(model: LEModel, x0: np.ndarray, lr: float, save_steps, rng, centre: bool):
    """Feature-SGD, vectorised over trials, O(K p) per step.

    X = R + S_k: S (T, K, p) is the shift shared by class k (all of class k
    moves by -lr E_kk' g), R (T, K, n, p) holds the initial state plus the
    self-impact moves (gamma), which touch one sample per step.
    """
    T, K, m0, p = x0.shape
    n = model.n_per_class
    R = np.array(np.broadcast_to(x0, (T, K, n, p)))
    Sh = np.zeros((T, K, p))
    labels = model.labels
    S = len(save_steps)
    out = np.empty((T, S, K, n, p))
    ar = np.arange(T)
    gamma = model.gamma
    const_E = None if (callable(model.impact_matrix) or callable(model.alpha)
                       or callable(model.beta)) else model.impacts(0.0)
    j = 0
    t_prev = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for s, js in enumerate(save_steps):
            r = chunk = 0
            while j < js:
                if r == chunk:  # draw a block of steps at once: (steps, trials), bounded memory
                    chunk, r = min(js - j, max(1, 2 ** 18 // T)), 0
                    kp_all, ip_all = np.divmod(rng.integers(0, K * n, size=(chunk, T)), n)
                t = j * lr
                E = const_E if const_E is not None else model.impacts(t)
                kp, ip = kp_all[r], ip_all[r]
                xs = R[ar, kp, ip] + Sh[ar, kp]
                g = _gradients_flat(model, xs, labels[kp, ip])      # (T, p)
                Sh -= lr * E[:, kp].T[:, :, None] * g[:, None, :]
                if gamma != 0.0:
                    R[ar, kp, ip] -= (lr * gamma) * g
                j += 1
                r += 1
            X = R + Sh[:, :, None, :]
            if not np.isfinite(X).all():
                raise NonFiniteError(f"feature-SGD became non-finite between t={t_prev:.6g} and "
                                     f"t={j * lr:.6g}; use a smaller lr (now {lr:.3g}), a shorter "
                                     f"t_end or smaller impacts")
            if centre:
                X -= X.mean(axis=(1, 2))[:, None, None, :]
            out[:, s] = X
            t_prev = j * lr
    times = lr * np.asarray(save_steps, dtype=float)
    return out, times
