"""Limits on the work and memory one call may ask for, checked before it starts.

A typo such as ``simulate(model, t_end=1, dt=1e-300)`` or ``n_trials=10**9``
would otherwise hang for ever or die in a ``MemoryError`` that names no
parameter. Every entry point that allocates or loops in proportion to its
arguments (:func:`lecode.simulate`, :class:`lecode.LEModel`,
:func:`lecode.data.geomnist`, :class:`lecode.nets.MLP`,
:func:`lecode.nets.train`) estimates what it needs first and raises
:class:`LimitError` (a ``ValueError``) naming the parameter, the amount needed
and the limit.

Defaults (documented here, changeable by the caller):

===============  ==================  =====================================
limit            default             what it bounds
===============  ==================  =====================================
``max_bytes``    2 GiB (2**31)       the largest allocation of one call
``max_steps``    10**8               time steps / SGD steps of one call
===============  ==================  =====================================

Raise them for a bigger machine, for the whole process or for a block::

    import lecode.limits
    lecode.limits.set(max_bytes=16 * 2**30)
    with lecode.limits.raised(max_steps=10**9):
        traj = lecode.simulate(model, 1e4, dt=1e-5)

or with the environment variables ``LECODE_MAX_BYTES`` and
``LECODE_MAX_STEPS`` (read at import).
"""

from __future__ import annotations

import contextlib
import numbers
import os

__all__ = ["LimitError", "DEFAULTS", "get", "set", "raised", "check_bytes", "check_steps"]


class LimitError(ValueError):
    """A call would need more memory or steps than the current limits allow."""


#: The documented defaults.
DEFAULTS = {"max_bytes": 2 ** 31, "max_steps": 10 ** 8}


def _from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


_current = {"max_bytes": _from_env("LECODE_MAX_BYTES", DEFAULTS["max_bytes"]),
            "max_steps": _from_env("LECODE_MAX_STEPS", DEFAULTS["max_steps"])}


def get() -> dict:
    """The limits in force, a dict ``{"max_bytes": ..., "max_steps": ...}``."""
    return dict(_current)


def _validated(changes: dict) -> dict:
    out = {}
    for key, value in changes.items():
        if key not in _current:
            raise TypeError(f"unknown limit {key!r}; limits are {', '.join(_current)}")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
        out[key] = int(value)
    return out


def set(**limits) -> dict:  # noqa: A001 - the natural name, used as lecode.limits.set
    """Change limits for the process (``max_bytes=``, ``max_steps=``); returns the old ones."""
    new = _validated(limits)
    old = get()
    _current.update(new)
    return old


@contextlib.contextmanager
def raised(**limits):
    """Change limits inside a ``with`` block only."""
    old = set(**limits)
    try:
        yield get()
    finally:
        _current.update(old)


def _fmt_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def check_bytes(name: str, nbytes, what: str, advice: str = "") -> None:
    """Raise :class:`LimitError` if ``nbytes`` exceeds ``max_bytes``.

    ``name`` is the parameter (or parameters) that decide the size, ``what``
    says which array it is.
    """
    limit = _current["max_bytes"]
    if nbytes > limit:
        raise LimitError(
            f"{name}: {what} would need about {_fmt_bytes(float(nbytes))} of memory, more than "
            f"the limit of {_fmt_bytes(float(limit))}" + (f"; {advice}" if advice else "") +
            " (raise the limit with lecode.limits.set(max_bytes=...) if the machine has the "
            "memory)")


def check_steps(name: str, steps, what: str, advice: str = "") -> None:
    """Raise :class:`LimitError` if ``steps`` exceeds ``max_steps``."""
    limit = _current["max_steps"]
    if steps > limit:
        raise LimitError(
            f"{name}: {what} would take {float(steps):.3g} steps, more than the limit of "
            f"{float(limit):.3g}" + (f"; {advice}" if advice else "") +
            " (raise the limit with lecode.limits.set(max_steps=...) to run it anyway)")
