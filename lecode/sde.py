r"""The stochastic-calculus toolkit of chapter 2: Brownian paths, Itô sums, Euler-Maruyama.

Chapter 2 teaches Brownian motion, the Itô integral, Itô's formula and the
Euler-Maruyama scheme at the level the book uses; chapter 8 returns to the
discretisation error of SDE schemes. The functions here work on *scalar*
Brownian motions sampled on a uniform grid, so that one set of paths can be
reused on coarser grids (the standard way to measure the strong order of a
scheme, Higham, SIAM Review 43, 2001):

* :func:`brownian_paths` -- :math:`W(t_j)=\sum_{i<j}\sqrt{\Delta t}\,Z_i`,
  :math:`Z_i` independent standard normals, returned as :class:`BrownianPaths`
  (with :meth:`BrownianPaths.coarsen` for the same paths on a coarser grid);
* :func:`ito_integral` -- the left-point sums
  :math:`\sum_j f(t_j)\,(W(t_{j+1})-W(t_j))` that define the Itô integral
  (or the trapezoidal sums of the Stratonovich integral, for comparison);
* :func:`euler_maruyama` -- :math:`X_{j+1}=X_j+b(X_j,t_j)\,\Delta t+
  \sigma(X_j,t_j)\,\Delta W_j` for a scalar SDE driven by given paths;
* :func:`fitted_order` -- the least-squares slope of log error against log step.

The LE-SDE itself, with one Brownian motion per sample, is simulated by
:func:`lecode.simulate`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from ._validate import NonFiniteError, as_generator, check_array, check_choice, check_int, check_real

__all__ = ["BrownianPaths", "brownian_paths", "ito_integral", "euler_maruyama", "fitted_order"]


@dataclasses.dataclass(frozen=True, eq=False)
class BrownianPaths:
    """Scalar Brownian paths on the uniform grid ``times`` (chapter 2).

    Attributes
    ----------
    times : ndarray (L+1,)
        ``times[j] = j * dt``, from 0 to ``t_end``.
    values : ndarray (n_paths, L+1)
        ``values[r, j]`` is :math:`W(t_j)` on path r; ``values[:, 0] == 0``.
    dt : float
        Grid step ``t_end / L``.
    """

    times: np.ndarray
    values: np.ndarray
    dt: float

    @property
    def n_paths(self) -> int:
        return self.values.shape[0]

    @property
    def n_steps(self) -> int:
        return self.values.shape[1] - 1

    def increments(self) -> np.ndarray:
        r"""The increments :math:`\Delta W_j = W(t_{j+1}) - W(t_j)`, shape (n_paths, L)."""
        return np.diff(self.values, axis=1)

    def coarsen(self, factor: int) -> "BrownianPaths":
        """The same paths seen on the grid with step ``factor * dt``.

        Keeping every ``factor``-th value is the same as summing the fine
        increments in blocks of ``factor``: a coarse Euler-Maruyama step then
        uses exactly the Brownian increment that the fine steps share.

        Parameters
        ----------
        factor : int >= 1, dividing ``n_steps``.
        """
        factor = check_int("factor", factor, minimum=1)
        if self.n_steps % factor:
            raise ValueError(f"factor must divide n_steps = {self.n_steps}, got {factor}")
        return BrownianPaths(self.times[::factor].copy(), self.values[:, ::factor].copy(),
                             self.dt * factor)


def brownian_paths(t_end: float, n_steps: int, *, n_paths: int = 1, seed=None) -> BrownianPaths:
    r"""Sample ``n_paths`` scalar Brownian motions on ``[0, t_end]`` (chapter 2).

    .. math::

        \begin{aligned}
        W(0)&=0,\qquad W(t_{j+1}) = W(t_j) + \sqrt{\Delta t}\,Z_j,\\
        Z_j &\sim N(0,1)\ \text{independent},\quad \Delta t = t_\mathrm{end}/L .
        \end{aligned}

    On the grid these are exact samples of Brownian motion: independent
    Gaussian increments with variance equal to the elapsed time.

    Parameters
    ----------
    t_end : float > 0
    n_steps : int >= 1
        Number L of grid steps.
    n_paths : int >= 1
    seed : None, int or numpy Generator

    Returns
    -------
    BrownianPaths
    """
    t_end = check_real("t_end", t_end, minimum=0.0, strict_min=True)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    n_paths = check_int("n_paths", n_paths, minimum=1)
    rng = as_generator(seed)
    dt = t_end / n_steps
    values = np.zeros((n_paths, n_steps + 1))
    np.cumsum(math.sqrt(dt) * rng.standard_normal((n_paths, n_steps)), axis=1, out=values[:, 1:])
    return BrownianPaths(np.linspace(0.0, t_end, n_steps + 1), values, dt)


def _check_paths(paths) -> BrownianPaths:
    if not isinstance(paths, BrownianPaths):
        raise TypeError(f"paths must be a lecode.sde.BrownianPaths (from brownian_paths), "
                        f"got {type(paths).__name__}")
    return paths


def ito_integral(integrand, paths: BrownianPaths, *, rule: str = "ito") -> np.ndarray:
    r"""Stochastic sums of ``integrand`` against the paths, one per path (chapter 2).

    ``rule="ito"`` (the definition of the Itô integral as the mesh tends to 0):

    .. math::

        \sum_{j=0}^{L-1} f(t_j)\,\big(W(t_{j+1})-W(t_j)\big),

    the integrand evaluated at the *left* end of each step, so that it is
    independent of the increment it multiplies. ``rule="stratonovich"`` uses
    the average :math:`\tfrac12(f(t_j)+f(t_{j+1}))` instead; for
    :math:`f = W` the two differ by :math:`\tfrac12\sum_j(\Delta W_j)^2`,
    which tends to :math:`T/2`.

    Parameters
    ----------
    integrand : array_like, shape (L+1,) or (n_paths, L+1)
        Values :math:`f(t_j)` on the grid of ``paths`` (the same for every path
        when one-dimensional).
    paths : BrownianPaths
    rule : {"ito", "stratonovich"}

    Returns
    -------
    ndarray (n_paths,)
    """
    paths = _check_paths(paths)
    check_choice("rule", rule, ("ito", "stratonovich"))
    L1 = paths.n_steps + 1
    f = check_array("integrand", integrand)
    if f.shape not in ((L1,), (paths.n_paths, L1)):
        raise ValueError(f"integrand must have shape ({L1},) or ({paths.n_paths}, {L1}) "
                         f"(values on the grid of paths), got {f.shape}")
    f = np.broadcast_to(f, (paths.n_paths, L1))
    left = f[:, :-1] if rule == "ito" else 0.5 * (f[:, :-1] + f[:, 1:])
    return np.sum(left * paths.increments(), axis=1)


def euler_maruyama(drift: Callable, diffusion: Callable, x0, paths: BrownianPaths) -> np.ndarray:
    r"""Euler-Maruyama for a scalar SDE :math:`dX = b(X,t)\,dt + \sigma(X,t)\,dW` (chapter 2).

    .. math::

        X_{j+1} = X_j + b(X_j, t_j)\,\Delta t + \sigma(X_j, t_j)\,\Delta W_j ,

    driven by the increments of the given paths, so that runs on
    ``paths.coarsen(f)`` for several ``f`` follow the same Brownian motion.

    Parameters
    ----------
    drift, diffusion : callables ``(x, t) -> array``
        Vectorised over paths: ``x`` has shape (n_paths,), ``t`` is a float;
        each returns an array broadcastable to (n_paths,).
    x0 : float or array_like (n_paths,)
    paths : BrownianPaths

    Returns
    -------
    ndarray (n_paths, L+1)
        The states at the grid times, ``[:, 0] == x0``.

    Raises
    ------
    NonFiniteError
        When a state becomes non-finite (the message gives the time).
    """
    paths = _check_paths(paths)
    if not callable(drift) or not callable(diffusion):
        raise TypeError("drift and diffusion must be callables (x, t) -> array")
    x0 = check_array("x0", x0)
    if x0.shape not in ((), (paths.n_paths,)):
        raise ValueError(f"x0 must be a number or have shape ({paths.n_paths},), got {x0.shape}")
    dW = paths.increments()
    out = np.empty((paths.n_paths, paths.n_steps + 1))
    out[:, 0] = x0
    x = out[:, 0].copy()
    dt = paths.dt
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(paths.n_steps):
            t = float(paths.times[j])
            x = x + np.asarray(drift(x, t), dtype=float) * dt \
                + np.asarray(diffusion(x, t), dtype=float) * dW[:, j]
            if not np.isfinite(x).all():
                raise NonFiniteError(f"Euler-Maruyama became non-finite between t={t:.6g} and "
                                     f"t={t + dt:.6g} (dt={dt:.3g}); use a finer grid or a "
                                     f"shorter horizon")
            out[:, j + 1] = x
    return out


def fitted_order(steps, errors) -> float:
    r"""Least-squares slope of :math:`\log(\text{error})` against :math:`\log(\text{step})`.

    An error that behaves like :math:`C h^q` gives the slope q, the order of
    convergence (chapter 2 for Euler-Maruyama, chapter 8 for other schemes).

    Parameters
    ----------
    steps, errors : array_like (m,), m >= 2, all > 0
    """
    h = check_array("steps", steps, ndim=1)
    e = check_array("errors", errors, ndim=1)
    if h.shape != e.shape or h.size < 2:
        raise ValueError(f"steps and errors must have the same length >= 2, got {h.shape} and {e.shape}")
    if np.any(h <= 0) or np.any(e <= 0):
        raise ValueError("steps and errors must all be > 0 (their logarithms are fitted)")
    if np.ptp(h) == 0:
        raise ValueError("steps must not all be equal")
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])
