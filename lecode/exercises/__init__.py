"""Answer checks for the exercises of the book.

Each chapter registers its checks in a submodule named ``chNN`` (``ch04`` for
chapter 4) with :func:`register`; a notebook calls ``check("ch04-margin",
answer)``. The expected answer is *computed* by lecode at check time (never
stored as a literal), so a check stays right when the model code changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["check", "register", "labels", "CheckResult"]

_REGISTRY: dict[str, dict] = {}
_LOADED = False


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check`: ``correct`` and the message shown to the learner."""

    label: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message


def register(label: str, *, rtol: float = 1e-2, atol: float = 1e-8, hint: str = "") -> Callable:
    """Register ``func() -> expected answer`` under ``label`` (e.g. ``"ch04-margin"``).

    ``rtol``/``atol`` are the tolerances of :func:`numpy.allclose`; ``hint`` is
    shown when the answer is wrong.
    """
    if not isinstance(label, str) or "-" not in label:
        raise ValueError(f"label must be a chapter-prefixed string like 'ch04-margin', got {label!r}")

    def decorator(func):
        if label in _REGISTRY:
            raise ValueError(f"exercise label {label!r} is registered twice")
        _REGISTRY[label] = {"expected": func, "rtol": rtol, "atol": atol, "hint": hint}
        return func

    return decorator


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("ch"):
            importlib.import_module(f"{__name__}.{info.name}")
    _LOADED = True


def labels() -> list[str]:
    """All registered exercise labels, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def expected(label: str) -> Any:
    """The expected answer of exercise ``label`` (instructors; tests)."""
    _load_all()
    if label not in _REGISTRY:
        raise ValueError(f"unknown exercise label {label!r}; known labels: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[label]["expected"]()


def check(label: str, answer: Any) -> CheckResult:
    """Compare ``answer`` with the expected answer of exercise ``label``.

    Numbers and arrays are compared with :func:`numpy.allclose` at the
    exercise's tolerances (shapes must match); strings and booleans exactly.
    Returns a :class:`CheckResult` whose repr is a one-line verdict.
    """
    truth = expected(label)
    spec = _REGISTRY[label]
    if isinstance(truth, (str, bool, np.bool_)):
        ok = answer == truth
        detail = ""
    else:
        truth_arr = np.asarray(truth, dtype=float)
        try:
            ans_arr = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(label, False, f"{label}: expected a number or an array, got {type(answer).__name__}")
        if ans_arr.shape != truth_arr.shape:
            return CheckResult(label, False, f"{label}: expected shape {truth_arr.shape}, got {ans_arr.shape}")
        ok = bool(np.all(np.isfinite(ans_arr))) and bool(
            np.allclose(ans_arr, truth_arr, rtol=spec["rtol"], atol=spec["atol"]))
        detail = f" (relative tolerance {spec['rtol']:g})"
    if ok:
        return CheckResult(label, True, f"{label}: correct{detail}.")
    hint = f" Hint: {spec['hint']}" if spec["hint"] else ""
    return CheckResult(label, False, f"{label}: not yet.{hint}")
