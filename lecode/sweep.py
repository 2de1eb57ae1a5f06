r"""Parameter sweeps: a metric over a grid of settings x independent trials.

:func:`lecode.sweep` runs :func:`lecode.simulate` once per grid setting (the trials
of a setting are vectorised inside ``simulate``), evaluates a metric on each
trajectory and collects everything in a :class:`SweepResult`. It is the
engine of the phase diagrams of chapter 4 (probability of linear separability
against :math:`\beta/\alpha`, ``K``, ``n``, :math:`\sigma` and ``t``) and of
the label-noise sweep of chapter 7.

The settings can be spread over any :class:`concurrent.futures.Executor`
(a process pool, a thread pool, or the executor of a dask.distributed client
to use several machines); the results do not depend on which, because each
setting draws its random numbers from its own child of one
:class:`numpy.random.SeedSequence`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import math
import numbers
from typing import Any, Mapping, Sequence

import numpy as np

from . import metrics as _metrics
from ._progress import Progress

__all__ = ["sweep", "SweepResult", "SweepError", "METRICS"]


class SweepError(RuntimeError):
    """A grid setting failed with an exception that could not be re-raised as its own type.

    Exceptions raised while a setting runs are re-raised with the setting
    named in the message (``grid setting 3 of 6 (index (1, 0): beta=0.5,
    sigma=0.1): ...``) and, where their type allows it, as the same type
    (``ValueError``, ``lecode.NonFiniteError``...); otherwise as a
    ``SweepError`` from the original. Either way the exception carries
    ``setting_index`` (the grid index tuple) and ``setting`` (a dict of the
    swept values).
    """

#: Names accepted as ``metric``: each is evaluated on the features at every
#: saved time, with the trajectory's labels and the model's readout.
METRICS = ("cross_entropy", "accuracy", "margins", "min_margin", "is_separable",
           "nc1", "nc2_equinorm", "nc2_equiangle", "etf_distance", "nc3", "nc4")

#: Keyword arguments of :func:`lecode.simulate` that may be swept over.
SIMULATE_KEYS = ("t_end", "dt", "method", "lr", "x0", "centre")


# --------------------------------------------------------------------------
# the result object
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Results of :func:`lecode.sweep`.

    Attributes
    ----------
    axes : tuple of str
        Name of each grid axis, in order. A zipped axis (several parameters
        varied together) is named by its parameters joined with ``","``,
        e.g. ``"alpha,beta"``.
    values : tuple of tuple
        The values along each axis (tuples of values for a zipped axis).
    results : numpy.ndarray
        Shape ``grid_shape + (n_trials,) + metric_shape``: ``results[i, j, r]``
        is trial ``r`` at setting ``(values[0][i], values[1][j])``. For a
        metric given by name, ``metric_shape == (S,)``, one entry per saved
        time (``metric_shape == (S, K, n)`` for ``"margins"``), or ``()`` with
        ``final_only=True``.
    times : numpy.ndarray
        Saved times of each setting, shape ``grid_shape + (S,)`` (they differ
        between settings only when ``t_end`` is swept).
    metric : str
        The metric's name (or the callable's ``__qualname__``).
    seed : int or tuple
        The entropy of the root :class:`numpy.random.SeedSequence`: passing
        it back as ``seed`` reproduces the sweep exactly.
    """

    axes: tuple
    values: tuple
    results: np.ndarray
    times: np.ndarray
    metric: str
    seed: Any

    @property
    def grid_shape(self) -> tuple:
        """Number of values along each grid axis."""
        return tuple(len(v) for v in self.values)

    @property
    def n_trials(self) -> int:
        return self.results.shape[len(self.values)]

    @property
    def trial_axis(self) -> int:
        """Index of the trials axis of :attr:`results`."""
        return len(self.values)

    def mean(self) -> np.ndarray:
        """Mean over trials, shape ``grid_shape + metric_shape``."""
        return np.mean(self.results, axis=self.trial_axis)

    def std_error(self) -> np.ndarray:
        """Standard error of :meth:`mean`: sample std (ddof=1) / sqrt(n_trials);
        zeros when there is a single trial."""
        T = self.n_trials
        if T < 2:
            return np.zeros_like(self.mean(), dtype=float)
        return np.std(self.results, axis=self.trial_axis, ddof=1) / math.sqrt(T)

    def probability(self) -> np.ndarray:
        """Fraction of trials where a boolean metric is True (e.g. the
        probability of linear separability), shape ``grid_shape + metric_shape``."""
        if self.results.dtype != bool:
            raise TypeError(f"probability() needs a boolean metric such as 'is_separable'; "
                            f"metric {self.metric!r} has dtype {self.results.dtype}")
        return np.mean(self.results, axis=self.trial_axis)

    def index(self, **params) -> tuple:
        """Index into the grid axes for the given parameter values, e.g.
        ``res.results[res.index(beta=0.5)]``. Axes not named are kept whole."""
        idx = [slice(None)] * len(self.axes)
        for name, val in params.items():
            if name not in self.axes:
                raise ValueError(f"{name!r} is not a grid axis; axes are {self.axes}")
            a = self.axes.index(name)
            matches = [i for i, v in enumerate(self.values[a]) if _same(v, val)]
            if not matches:
                raise ValueError(f"{name}={val!r} is not among the swept values {self.values[a]}")
            idx[a] = matches[0]
        return tuple(idx)


def _same(a, b) -> bool:
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
    except Exception:  # noqa: BLE001 - incomparable objects are simply different
        return a is b


# --------------------------------------------------------------------------
# work items (module level, so that process pools can pickle them)
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Task:
    model: Any
    sim_kwargs: dict
    n_trials: int
    seed: np.random.SeedSequence
    metric: Any
    final_only: bool = False
    where: str = ""                 # "grid setting g of G (index (...): name=value, ...)"
    index: tuple = ()
    setting: Any = None


def _reraise(exc: BaseException, task: "_Task"):
    new = _with_setting(exc, task.where, task.index, task.setting)
    if new is exc:
        raise exc
    raise new from exc


def _with_setting(exc: BaseException, where: str, index: tuple, setting) -> BaseException:
    """``exc`` re-made with ``where`` in front of its message (same type if possible)."""
    if getattr(exc, "setting_index", None) is not None:
        return exc                                      # already named (re-raised twice)
    msg = f"{where}: {exc}"
    new = None
    if type(exc).__init__ is BaseException.__init__ or isinstance(exc, (ValueError, TypeError,
                                                                         ArithmeticError)):
        try:
            new = type(exc)(msg)
            if str(new) != msg:
                new = None
        except Exception:                               # noqa: BLE001 - odd constructor
            new = None
    if new is None:
        new = SweepError(f"{where}: {type(exc).__name__}: {exc}")
    try:
        new.setting_index, new.setting = index, setting
    except AttributeError:                              # pragma: no cover - slotted exception
        new = SweepError(f"{where}: {type(exc).__name__}: {exc}")
        new.setting_index, new.setting = index, setting
    return new


def _evaluate_named(name: str, traj, final_only: bool = False) -> np.ndarray:
    x = traj.features[:, -1] if final_only else traj.features
    labels = traj.labels
    W = traj.model.readout
    if name.startswith("nc") or name == "etf_distance":
        return np.asarray(getattr(_metrics.neural_collapse(x, labels, W), name))
    return np.asarray(getattr(_metrics, name)(x, labels, W))


def _run_task(task: _Task):
    """Simulate one setting and evaluate the metric: returns (times, values).

    Any exception is re-raised naming the setting (see :class:`SweepError`),
    here in the worker, so that every executor reports it the same way.
    """
    try:
        return _run_task_bare(task)
    except Exception as exc:                            # noqa: BLE001 - re-raised, named
        _reraise(exc, task)


def _run_task_bare(task: _Task):
    from .simulate import simulate

    traj = simulate(task.model, n_trials=task.n_trials, seed=task.seed, **task.sim_kwargs)
    if isinstance(task.metric, str):
        out = _evaluate_named(task.metric, traj, task.final_only)
    else:
        out = np.asarray(task.metric(traj))
        if out.ndim < 1 or out.shape[0] != task.n_trials:
            raise ValueError(f"metric must return an array whose first axis is the trials "
                             f"(length n_trials = {task.n_trials}); got shape {out.shape}")
    return np.asarray(traj.times), out


# --------------------------------------------------------------------------
# sweep
# --------------------------------------------------------------------------

def _root_seed(seed):
    """(root SeedSequence, entropy to report) from None, int, SeedSequence or Generator."""
    if isinstance(seed, np.random.SeedSequence):
        return (np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                       pool_size=seed.pool_size), seed.entropy)
    if isinstance(seed, np.random.Generator):
        entropy = int(seed.integers(0, 2 ** 63))
        return np.random.SeedSequence(entropy), entropy
    if seed is None:
        ss = np.random.SeedSequence()
        return ss, ss.entropy
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, a non-negative integer, a numpy SeedSequence or "
                        f"Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed)), int(seed)


def _grid_axes(grid, model, fixed_sim: dict):
    """Validated (axes names, tuple of names per axis, values per axis)."""
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict mapping a parameter name (or a tuple of names, "
                        f"varied together) to a list of values; got {type(grid).__name__}")
    fields = {f.name for f in dataclasses.fields(model)}
    allowed = sorted(fields) + list(SIMULATE_KEYS)
    names, keys, values, seen = [], [], [], set()
    for key, vals in grid.items():
        group = (key,) if isinstance(key, str) else tuple(key)
        for name in group:
            if not isinstance(name, str) or name not in allowed:
                raise ValueError(f"grid key {name!r} is not a parameter: use an LEModel field or a "
                                 f"simulate argument, one of {', '.join(allowed)}")
            if name in seen:
                raise ValueError(f"grid: parameter {name!r} appears twice")
            seen.add(name)
        if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
            raise TypeError(f"grid[{key!r}] must be a list of values, got {type(vals).__name__}")
        vals = list(vals)
        if not vals:
            raise ValueError(f"grid[{key!r}] must hold at least one value")
        if len(group) > 1:
            for v in vals:
                if not isinstance(v, (tuple, list)) or len(v) != len(group):
                    raise ValueError(f"grid[{key!r}]: each value must be a tuple of "
                                     f"{len(group)} values (one per name), got {v!r}")
            vals = [tuple(v) for v in vals]
        names.append(",".join(group))
        keys.append(group)
        values.append(tuple(vals))
    clash = seen & set(fixed_sim)
    if clash:
        raise ValueError(f"{', '.join(sorted(clash))} given both in grid and as a keyword argument")
    return tuple(names), keys, tuple(values)


def _short(v) -> str:
    """A value as it appears in an error message (arrays by shape, long reprs cut)."""
    if isinstance(v, np.ndarray) and v.size > 4:
        return f"<array {v.shape}>"
    r = repr(v.tolist() if isinstance(v, np.ndarray) else v)
    return r if len(r) <= 60 else r[:57] + "..."


def _execute(tasks, executor, bar: Progress) -> list:
    """Run the tasks serially or on ``executor``; results in task order.

    On the first failure the tasks not yet started are cancelled and the
    (already setting-named) exception is raised. A failure to *submit* or to
    transfer a task (e.g. an unpicklable metric for a process pool) is
    named here, in the caller's process.
    """
    out = []
    with bar:
        if executor is None:
            for t in tasks:
                out.append(_run_task(t))
                bar.update()
            return out
        futures = []
        try:
            for t in tasks:
                try:
                    futures.append(executor.submit(_run_task, t))
                except Exception as exc:                # noqa: BLE001 - named below
                    _reraise(exc, t)
            pending = dict(zip(futures, tasks))
            for fut in concurrent.futures.as_completed(futures):
                t = pending[fut]
                exc = fut.exception()
                if exc is not None:
                    _reraise(exc, t)
                bar.update()
            return [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()


def sweep(model, grid, metric, *, t_end=None, dt=None, method: str = "sde",
          n_trials: int = 1, n_saves: int = 2, seed=None, executor=None,
          trials_per_task: int | None = None, common_random_numbers: bool = False,
          final_only: bool = False, progress: bool = False,
          **simulate_options) -> SweepResult:
    r"""Evaluate a metric over a grid of parameter settings and independent trials.

    For every setting of the Cartesian product of the ``grid`` axes, the
    model (``model.replace(**setting)``) is simulated with
    :func:`lecode.simulate` (``n_trials`` trials, vectorised) and the metric is
    evaluated on the trajectory. Chapter 4 estimates with it

    .. math::

        \hat P(\text{separable at } t) = \frac{1}{T}\sum_{r=1}^{T}
        \mathbf 1\big[\{X^{(r)}_{k,i}(t)\} \text{ linearly separable}\big]

    over grids of :math:`\beta/\alpha`, ``K``, ``n``, :math:`\sigma` and ``t``
    (``sweep(..., "is_separable").probability()``).

    Parameters
    ----------
    model : LEModel
        The base model; grid values replace its fields.
    grid : dict
        ``{name: [values...]}``, one grid axis per entry, in order. A name is a
        field of :class:`~lecode.LEModel` (``alpha``, ``beta``, ``sigma``,
        ``n_per_class``, ``label_noise``...) or a :func:`~lecode.simulate`
        argument (``t_end``, ``dt``, ``method``, ``lr``, ``x0``, ``centre``).
        A tuple of names varies them together along one axis:
        ``{("alpha", "beta"): [(1, 0.5), (2, 1)]}``. An empty dict runs the
        base setting once.
    metric : str or callable
        A name from ``lecode.sweep.METRICS`` (``"is_separable"``, ``"accuracy"``,
        ``"cross_entropy"``, ``"min_margin"``, ``"margins"``, ``"nc1"``...),
        evaluated by :mod:`lecode.metrics` at every saved time with the
        trajectory's labels and the model's readout; or a callable
        ``metric(trajectory) -> array`` whose first axis is the trials. With a
        process pool the callable must be picklable: a module-level function
        (or :func:`functools.partial` of one), not a lambda or a local
        function.
    t_end, dt, method
        Passed to :func:`~lecode.simulate` (unless swept).
    n_trials : int, default 1
        Independent trials per setting.
    n_saves : int, default 2
        Saved times per simulation (``2``: the start and ``t_end``); named
        metrics are evaluated at each.
    seed : None, int, numpy SeedSequence or Generator
        Root of the random numbers. Setting ``g`` (in C order of the grid) uses
        child ``g`` of ``SeedSequence(seed)``, so the results are bit-identical
        whether the settings run serially or on any executor, in any order.
        ``SweepResult.seed`` records the entropy (also when ``seed=None``).
    executor : concurrent.futures.Executor, optional
        Runs the settings through ``executor.submit`` (e.g. a
        ``ProcessPoolExecutor``, a ``ThreadPoolExecutor``, or
        ``distributed.Client(...).get_executor()``; see the README's "Bigger
        sweeps"). Default: serially, in this process. With a process pool
        every value in the grid, the model (including callable impacts) and
        the metric must be picklable. If a setting fails, the exception names
        it (index and parameter values; :class:`SweepError`), the settings
        not yet started are cancelled, and nothing is returned.
    trials_per_task : int, optional
        Split each setting's trials into work items of this many trials (each
        with its own child seed), to parallelise a small grid with many
        trials. The numbers then depend on ``trials_per_task`` (never on the
        executor). Default: one work item per setting.
    final_only : bool, default False
        Evaluate a named metric at ``t_end`` only: ``metric_shape`` loses its
        saves axis (``results`` is ``grid_shape + (n_trials,)``) and, for
        ``"is_separable"``, no linear program is spent on earlier saves.
        Only for metric names (a callable decides itself what it measures).
    common_random_numbers : bool, default False
        Use the *same* random numbers (initial cloud, Brownian paths) for every
        setting, which makes differences between settings smoother (variance
        reduction); settings are then no longer independent.
    **simulate_options
        Other keyword arguments of :func:`~lecode.simulate` (``x0``, ``lr``,
        ``centre``).

    Returns
    -------
    SweepResult
        ``results`` of shape ``grid_shape + (n_trials,) + metric_shape``; see
        :meth:`lecode.sweep.SweepResult.probability`, :meth:`lecode.sweep.SweepResult.mean`.

    Examples
    --------
    >>> from lecode import LEModel, sweep
    >>> m = LEModel(3, 30, alpha=1.0, beta=0.5, sigma=0.3, gradient="identity")
    >>> res = sweep(m, {"beta": [0.5, 1.5]}, "is_separable", t_end=60.0, dt=0.25,
    ...             n_trials=8, seed=0, centre=True, final_only=True)
    >>> res.probability()              # P(separable at t_end) for each beta
    array([1., 0.])
    """
    from .model import LEModel
    from ._validate import check_int

    if not isinstance(model, LEModel):
        raise TypeError(f"model must be a lecode.LEModel, got {type(model).__name__}")
    n_trials = check_int("n_trials", n_trials, minimum=1)
    n_saves = check_int("n_saves", n_saves, minimum=2)
    if trials_per_task is not None:
        trials_per_task = check_int("trials_per_task", trials_per_task, minimum=1)
    if not isinstance(final_only, (bool, np.bool_)):
        raise TypeError(f"final_only must be True or False, got {final_only!r}")
    if final_only and not isinstance(metric, str):
        raise TypeError("final_only=True applies to metric names only; a callable metric "
                        "receives the whole trajectory (use traj.final())")
    if not isinstance(common_random_numbers, (bool, np.bool_)):
        raise TypeError(f"common_random_numbers must be True or False, got {common_random_numbers!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if executor is not None and not (isinstance(executor, concurrent.futures.Executor)
                                     or callable(getattr(executor, "submit", None))):
        raise TypeError(f"executor must be None (serial) or a concurrent.futures.Executor such "
                        f"as ProcessPoolExecutor(), ThreadPoolExecutor() or a dask client's "
                        f"get_executor(); got {type(executor).__name__} {executor!r}")
    bad = set(simulate_options) - set(SIMULATE_KEYS)
    if bad:
        raise TypeError(f"sweep got unexpected keyword argument(s) {', '.join(sorted(bad))}; "
                        f"simulate options are {', '.join(SIMULATE_KEYS)}")
    fixed = {"t_end": t_end, "dt": dt, "method": method, **simulate_options}
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"metric must be a callable or one of {', '.join(METRICS)}; "
                             f"got {metric!r}")
        metric_name = metric
    elif callable(metric):
        metric_name = getattr(metric, "__qualname__", None) or repr(metric)
    else:
        raise TypeError(f"metric must be a metric name (str) or a callable, "
                        f"got {type(metric).__name__}")
    axes, keys, values = _grid_axes(
        grid, model, {k: v for k, v in fixed.items() if v is not None and k != "method"})
    swept = {name for group in keys for name in group}
    fixed = {k: v for k, v in fixed.items() if k not in swept and v is not None}
    if "t_end" not in swept and "t_end" not in fixed:
        raise TypeError("sweep needs t_end (a number > 0), as a keyword or a grid axis")
    fields = {f.name for f in dataclasses.fields(model)}

    # one validated (model, simulate kwargs) per setting, in C order
    grid_shape = tuple(len(v) for v in values)
    n_total = int(np.prod(grid_shape, dtype=np.int64))
    settings, labels = [], []
    for g, (index, combo) in enumerate(zip(itertools.product(*(range(n) for n in grid_shape)),
                                           itertools.product(*values))):
        model_changes, sim = {}, dict(fixed, n_saves=n_saves)
        named = {}
        for group, val in zip(keys, combo):
            vals = val if len(group) > 1 else (val,)
            for name, v in zip(group, vals):
                (model_changes if name in fields else sim)[name] = v
                named[name] = v
        desc = ", ".join(f"{k}={_short(v)}" for k, v in named.items()) or "the base model"
        where = f"grid setting {g} of {n_total} (index {index}: {desc})"
        try:
            m = model.replace(**model_changes) if model_changes else model
        except (TypeError, ValueError) as exc:
            raise _with_setting(exc, where, index, named) from None
        settings.append((m, sim))
        labels.append((where, index, named))

    root, entropy = _root_seed(seed)
    n_set = len(settings)
    chunk = n_trials if trials_per_task is None else min(trials_per_task, n_trials)
    sizes = [chunk] * (n_trials // chunk) + ([n_trials % chunk] if n_trials % chunk else [])
    setting_seeds = ([root] * n_set if common_random_numbers else root.spawn(n_set))
    tasks = []
    for (m, sim), ss, (where, index, named) in zip(settings, setting_seeds, labels):
        if len(sizes) == 1:
            seeds = [ss]
        else:
            seeds = np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key).spawn(len(sizes))
        first = 0
        for T, s in zip(sizes, seeds):
            w = where if len(sizes) == 1 else f"{where[:-1]}; trials {first}-{first + T - 1})"
            tasks.append(_Task(m, sim, T, s, metric, bool(final_only), w, index, named))
            first += T

    outputs = _execute(tasks, executor, Progress(len(tasks), "sweep", unit="work items",
                                                 enabled=bool(progress)))

    times, vals = [], []
    per = len(sizes)
    for g in range(n_set):
        outs = outputs[g * per:(g + 1) * per]
        times.append(outs[0][0])
        try:
            vals.append(np.concatenate([o[1] for o in outs], axis=0))
        except ValueError:
            raise ValueError(f"metric {metric_name!r} returned arrays of different shapes "
                             "for different work items") from None
    try:
        results = np.stack(vals)
        times = np.stack(times)
    except ValueError:
        raise ValueError(f"metric {metric_name!r} returned arrays of different shapes for "
                         "different settings (e.g. a swept n_saves or n_per_class changes the "
                         "shape); make the metric reduce to a common shape") from None
    results = results.reshape(grid_shape + results.shape[1:])
    times = times.reshape(grid_shape + times.shape[1:])
    return SweepResult(axes=axes, values=values, results=results, times=times,
                       metric=metric_name, seed=entropy)
