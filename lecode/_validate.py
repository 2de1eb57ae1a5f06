"""Input validation shared by every public function of :mod:`lecode`.

Every check raises a ``TypeError`` (wrong kind of object) or a ``ValueError``
(right kind, wrong value) whose message names the parameter and states what is
allowed, e.g. ``ValueError: n_classes must be an integer >= 2, got 1``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_probability",
    "check_array",
    "check_choice",
    "as_generator",
    "NonFiniteError",
]


class NonFiniteError(FloatingPointError, ValueError):
    """A computation produced ``inf`` or ``NaN``.

    Raised instead of returning non-finite numbers, so that nothing downstream
    silently plots or averages them. The message says where it happened and
    what to change.
    """


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` or raise naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value}")
    return value


def check_real(name: str, value: Any, *, minimum: float | None = None,
               maximum: float | None = None, strict_min: bool = False,
               strict_max: bool = False) -> float:
    """Return ``value`` as a finite ``float`` within the given bounds.

    ``strict_min=True`` excludes the minimum itself (``value > minimum``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_min and not value > minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_min and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None:
        if strict_max and not value < maximum:
            raise ValueError(f"{name} must be < {maximum}, got {value}")
        if not strict_max and value > maximum:
            raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_probability(name: str, value: Any, *, allow_one: bool = True) -> float:
    """A real number in [0, 1] (or [0, 1) with ``allow_one=False``)."""
    return check_real(name, value, minimum=0.0, maximum=1.0, strict_max=not allow_one)


def check_array(name: str, value: Any, *, ndim: int | None = None,
                shape: tuple | None = None, finite: bool = True,
                dtype=float) -> np.ndarray:
    """Return ``value`` as an array, checking dimension, shape and finiteness.

    ``shape`` may contain ``None`` for a free axis, e.g. ``(None, 3)``.
    """
    if dtype is not None and np.dtype(dtype).kind == "f":
        raw = value if isinstance(value, np.ndarray) else None
        if raw is None:
            try:
                raw = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be array-like of numbers ({exc})") from None
        if raw.dtype.kind == "c":
            raise TypeError(f"{name} must hold real numbers, got complex dtype {raw.dtype} "
                            f"(take .real or abs() explicitly if that is meant)")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (found NaN or inf)")
    return arr


def check_choice(name: str, value: Any, choices) -> Any:
    """``value`` must be one of ``choices``."""
    try:
        ok = isinstance(value, (str, bytes, int, float, bool, type(None), tuple)) and value in choices
    except TypeError:                                   # e.g. an unhashable value
        ok = False
    if not ok:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def as_generator(seed: Any = None, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None``, an int, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be None, a non-negative integer or a numpy Generator, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))
