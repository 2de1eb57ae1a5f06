"""Answer checks for the exercises of the book.

A learner calls, at the end of a solution::

    result = lecode.exercises.check("ch02-sigma", sigma)

which prints one friendly line (for a right answer ``ch02-sigma: 0.14434 is
correct (to three significant figures).``; a wrong one ``ch02-sigma: 0.020833 is not right yet — ...``,
naming the mistake it recognises)
and returns a :class:`CheckResult`. It never raises because of the answer:
``None``, strings, dicts, lists of strings, ragged lists, NaN, infinities and
arrays of the wrong shape all get a message and ``passed=False``.

The machine-readable result (for the grader, ``lecode.grade``)
--------------------------------------------------------------
:class:`CheckResult` is a frozen dataclass with

* ``label`` (str) -- the check's label, e.g. ``"ch02-sigma"``;
* ``passed`` (bool) -- whether the answer is right at the stated precision
  (``bool(result)`` is the same; ``correct`` is an alias);
* ``message`` (str) -- the line that :func:`check` printed (``str(result)``);
* ``mistake`` (str or None) -- the name of the common mistake recognised
  (a key of the check's ``mistakes``), ``"malformed"`` for an answer that
  could not be read, ``"unknown-label"`` for a label that is not registered,
  otherwise ``None``.

:func:`evaluate` computes the same result without printing; :func:`check` is
``evaluate`` plus one ``print``. In IPython a returned result displays nothing
(its message has been printed already); use ``result.passed`` or
``print(result)``.

Registering a check
-------------------
Each chapter registers its checks in a submodule named ``chNN`` with
:func:`register`, decorating a function that *computes* the expected answer
with :mod:`lecode` (never a stored literal)::

    @register("ch02-sigma", exercise="ch02-ex-sigma", precision=sig(3),
              mistakes={"variance": (lambda t: t ** 2, "that is sigma squared ...")})
    def _sigma():
        return sgd_noise_sigma(...)

* ``precision`` -- one of :func:`sig` (significant figures), :func:`rel`
  (relative tolerance), :func:`within` (absolute tolerance), :func:`exact`
  (integers), :func:`choice` (a string among a few). Its ``text``
  ("to three significant figures", "within 5 %") is what the exercise states.
  An answer passes when it is within the precision of the expected value.
* ``mistakes`` -- ``{name: (value_fn, hint)}``: ``value_fn(expected)`` is the
  answer that mistake produces; an answer within the precision of that value
  (and not right) gets ``hint`` and ``mistake=name``.
* ``exercise`` -- the label of the exercise block it checks
  (``"ch02-ex-sigma"``), used by the instructor guide.

:func:`specs` lists every registered :class:`Check` (tests and the instructor
guide enumerate them); :func:`expected` returns the expected answer.
"""

from __future__ import annotations

import difflib
import importlib
import math
import numbers
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = [
    "check", "evaluate", "register", "labels", "expected", "spec", "specs",
    "CheckResult", "Check", "Precision", "Mistake", "format_answer", "sig", "rel", "within", "exact", "choice",
]

_REGISTRY: dict[str, "Check"] = {}
_LOADED = False

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check` / :func:`evaluate`.

    Attributes
    ----------
    label : str
        The check's label.
    passed : bool
        True when the answer is right at the exercise's stated precision.
    message : str
        The one-line verdict shown to the learner (also ``str(result)``).
    mistake : str or None
        Name of the recognised mistake (a key of the check's ``mistakes``),
        ``"malformed"`` for an unreadable answer, ``"unknown-label"``, or None.
    """

    label: str
    passed: bool
    message: str
    mistake: str | None = None

    @property
    def correct(self) -> bool:
        """Alias of ``passed``."""
        return self.passed

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        # check() has printed the message; showing it again as Out[] would repeat it.
        return None


# --------------------------------------------------------------------------- precisions

@dataclass(frozen=True)
class Precision:
    """How close an answer must be: ``kind`` in {"sig", "rel", "abs", "exact", "choice"}.

    Build one with :func:`sig`, :func:`rel`, :func:`within`, :func:`exact` or
    :func:`choice`; ``text`` is the phrase the exercise states.
    """

    kind: str
    value: float
    text: str

    def tolerance(self, truth: np.ndarray) -> np.ndarray:
        """Largest accepted ``|answer - truth|``, element by element (numeric kinds)."""
        t = np.abs(np.asarray(truth, dtype=float))
        # slack for the binary representation of decimal roundings
        slack = 1e-9 * np.maximum(t, 1e-300)
        if self.kind == "sig":
            scale = np.where(t > 1e-12 * (t.max() if t.size else 0.0), t, t.max() if t.size else 0.0)
            with np.errstate(divide="ignore"):
                exponent = np.floor(np.log10(np.where(scale > 0, scale, 1.0)))
            return 0.5 * 10.0 ** (exponent - int(self.value) + 1) + slack
        if self.kind == "rel":
            return self.value * t + slack
        if self.kind == "abs":
            return np.full_like(t, self.value) + slack
        if self.kind == "exact":
            return np.full_like(t, 1e-9) + slack
        raise ValueError(f"precision kind {self.kind!r} has no numeric tolerance")

    def accepts(self, answer: np.ndarray, truth: np.ndarray) -> bool:
        """Whether a numeric ``answer`` (same shape as ``truth``) is within this precision."""
        diff = np.abs(np.asarray(answer, dtype=float) - np.asarray(truth, dtype=float))
        return bool(np.all(diff <= self.tolerance(truth)))


def sig(figures: int = 3) -> Precision:
    """Precision: correct to ``figures`` significant figures (each element of an array).

    An answer passes when it differs from the expected value by at most half a
    unit in its ``figures``-th significant digit, so the expected value rounded
    to ``figures`` figures, and any more precise answer, passes.
    """
    from .._validate import check_int

    figures = check_int("figures", figures, minimum=1, maximum=12)
    word = _NUMBER_WORDS.get(figures, str(figures))
    return Precision("sig", figures, f"to {word} significant figure{'s' if figures > 1 else ''}")


def rel(tolerance: float) -> Precision:
    """Precision: within a relative ``tolerance`` of the expected value (0.05 is "within 5 %")."""
    from .._validate import check_real

    tolerance = check_real("tolerance", tolerance, minimum=0.0, strict_min=True, maximum=1.0)
    return Precision("rel", tolerance, f"within {100 * tolerance:g} %")


def within(tolerance: float) -> Precision:
    """Precision: within an absolute ``tolerance`` (for measured exponents, e.g. ±0.1)."""
    from .._validate import check_real

    tolerance = check_real("tolerance", tolerance, minimum=0.0, strict_min=True)
    return Precision("abs", tolerance, f"within ±{tolerance:g}")


def exact() -> Precision:
    """Precision: an exact integer (a count or a dimension)."""
    return Precision("exact", 0.0, "exactly (an integer)")


def choice() -> Precision:
    """Precision: one string among a few (e.g. a pair of classes ``"0-1"``)."""
    return Precision("choice", 0.0, "exactly (one of the named options)")


# --------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class Mistake:
    """A common mistake of an exercise: ``value(expected)`` is the answer it produces."""

    name: str
    value: Callable[[Any], Any]
    hint: str


@dataclass
class Check:
    """A registered answer check (see :func:`register`)."""

    label: str
    compute: Callable[[], Any]
    precision: Precision
    hint: str = ""
    exercise: str | None = None
    mistakes: dict[str, Mistake] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    normalise: Callable[[Any], str | None] | None = None
    _cache: Any = field(default=None, repr=False)

    def expected(self) -> Any:
        """The expected answer (computed once, then copied)."""
        if self._cache is None:
            value = self.compute()
            if self.precision.kind != "choice":
                value = np.asarray(value, dtype=float)
                if not np.all(np.isfinite(value)):
                    from .._validate import NonFiniteError

                    raise NonFiniteError(f"the expected answer of {self.label} is not finite: {value}")
            self._cache = value
        value = self._cache
        if isinstance(value, np.ndarray):
            return float(value) if value.ndim == 0 else value.copy()
        return value

    def mistake_values(self) -> dict[str, Any]:
        """``{name: answer}`` of every listed mistake (tests, instructor guide)."""
        return {name: m.value(self.expected()) for name, m in self.mistakes.items()}


def register(label: str, *, precision: Precision | None = None, mistakes: dict | None = None,
             exercise: str | None = None, hint: str = "", rtol: float | None = None,
             atol: float | None = None, options: tuple[str, ...] = (),
             normalise: Callable[[Any], str | None] | None = None) -> Callable:
    """Register ``func() -> expected answer`` under ``label`` (e.g. ``"ch04-margin"``).

    Parameters
    ----------
    label : str
        Chapter-prefixed label, unique in the book.
    precision : Precision, optional
        :func:`sig`, :func:`rel`, :func:`within`, :func:`exact` or :func:`choice`.
        Default: ``rel(rtol)`` if ``rtol`` is given, ``within(atol)`` if ``atol``
        is given, else ``sig(3)``.
    mistakes : dict, optional
        ``{name: (value_fn, hint)}``; ``value_fn(expected)`` is the answer the
        mistake produces (for :func:`choice`, a string).
    exercise : str, optional
        Label of the exercise block the check belongs to.
    hint : str
        Shown when the answer is wrong and no listed mistake matches.
    options : tuple of str
        For :func:`choice`: the admissible answers (named in the messages).
    normalise : callable, optional
        For :func:`choice`: maps an answer to its canonical string, or None if
        it cannot be read (default: ``str(answer).strip()`` for strings).
    """
    if not isinstance(label, str) or "-" not in label:
        raise ValueError(f"label must be a chapter-prefixed string like 'ch04-margin', got {label!r}")
    if precision is None:
        precision = rel(rtol) if rtol else within(atol) if atol else sig(3)
    if not isinstance(precision, Precision):
        raise TypeError(f"precision must be a Precision (sig, rel, within, exact, choice), got {precision!r}")
    parsed = {}
    for name, entry in (mistakes or {}).items():
        if not (isinstance(entry, tuple) and len(entry) == 2 and callable(entry[0])
                and isinstance(entry[1], str) and entry[1]):
            raise ValueError(f"mistakes[{name!r}] must be (value_fn, hint) with a non-empty hint, got {entry!r}")
        parsed[name] = Mistake(name, entry[0], entry[1])

    def decorator(func):
        if label in _REGISTRY:
            raise ValueError(f"exercise label {label!r} is registered twice")
        _REGISTRY[label] = Check(label, func, precision, hint, exercise, parsed, tuple(options), normalise)
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


def spec(label: str) -> Check:
    """The registered :class:`Check` of ``label`` (raises ValueError for an unknown label)."""
    _load_all()
    if label not in _REGISTRY:
        raise ValueError(f"unknown exercise label {label!r}; known labels: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[label]


def specs(chapter: int | None = None) -> list[Check]:
    """Every registered :class:`Check` of the book's chapters (of one ``chapter``), by label."""
    _load_all()
    prefix = "ch" if chapter is None else f"ch{int(chapter):02d}-"
    return [_REGISTRY[lbl] for lbl in sorted(_REGISTRY)
            if lbl.startswith(prefix) and lbl[2:4].isdigit()]


def expected(label: str) -> Any:
    """The expected answer of exercise ``label`` (instructors; tests)."""
    return spec(label).expected()


# --------------------------------------------------------------------------- reading answers

class _Malformed(Exception):
    """The answer cannot be read as what the check expects (message for the learner)."""


def _describe(answer: Any) -> str:
    try:
        text = repr(answer)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not break the check
        text = f"<{type(answer).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def _as_numbers(answer: Any, shape: tuple) -> np.ndarray:
    """``answer`` as a float array of ``shape``, or :class:`_Malformed` saying what is wrong."""
    want = "a number" if shape == () else f"an array of {int(np.prod(shape))} numbers (shape {shape})"
    if answer is None:
        raise _Malformed(f"got None; expected {want} (did a function forget to return its result?)")
    if isinstance(answer, (bool, np.bool_)):
        raise _Malformed(f"got {answer}; expected {want}, not True/False")
    if isinstance(answer, (str, bytes)):
        raise _Malformed(f"got the text {_describe(answer)}; expected {want} (not in quotes)")
    if isinstance(answer, (dict, set, frozenset)):
        raise _Malformed(f"got a {type(answer).__name__}; expected {want}")
    if isinstance(answer, numbers.Integral) and not isinstance(answer, np.integer):
        if abs(int(answer)) > 10 ** 300:
            raise _Malformed(f"got an integer with {len(str(abs(int(answer))))} digits; expected {want}")
    try:
        arr = np.asarray(answer)
    except Exception:  # noqa: BLE001 - ragged lists, objects whose __array__ fails, ...
        raise _Malformed(f"could not read {_describe(answer)} as {want}") from None
    if arr.dtype.kind in "USO" or arr.dtype.kind == "V":
        if arr.dtype.kind in "US" or any(isinstance(x, (str, bytes)) for x in arr.ravel()[:1000]):
            raise _Malformed(f"got text ({_describe(answer)}); expected {want}")
        try:
            arr = arr.astype(float)
        except Exception:  # noqa: BLE001
            raise _Malformed(f"could not read {_describe(answer)} as {want}") from None
    if arr.dtype.kind == "b":
        raise _Malformed(f"got True/False values; expected {want}")
    if arr.dtype.kind == "c":
        if np.any(np.imag(arr) != 0):
            raise _Malformed(f"got a complex answer {_describe(answer)}; expected real {want}")
        arr = np.real(arr)
    try:
        arr = arr.astype(float)
    except Exception:  # noqa: BLE001
        raise _Malformed(f"could not read {_describe(answer)} as {want}") from None
    if arr.shape != shape:
        squeezed = np.squeeze(arr)
        if squeezed.shape == shape:
            arr = squeezed
        else:
            raise _Malformed(f"got shape {arr.shape}; expected {want}")
    if not np.all(np.isfinite(arr)):
        raise _Malformed(f"your answer contains NaN or infinity ({_describe(answer)}); expected {want}")
    return arr


def format_answer(value: Any) -> str:
    """An answer as the messages print it: numbers to five significant figures.

    ``float(s)`` of each printed number (``[a, b]`` for arrays) reads it back;
    tests use this to feed the value a solution printed back to its check.
    """
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.5g}"
    return "[" + ", ".join(f"{x:.5g}" for x in arr.ravel()) + "]"


def _default_normalise(answer: Any) -> str | None:
    if isinstance(answer, (str, np.str_)):
        return str(answer).strip()
    return None


# --------------------------------------------------------------------------- checking

def evaluate(label: str, answer: Any) -> CheckResult:
    """Compare ``answer`` with the expected answer of ``label``, without printing.

    Never raises because of ``answer``; an unknown ``label`` gives
    ``passed=False`` with ``mistake="unknown-label"``. See the module
    docstring for the fields of the result.
    """
    _load_all()
    if not isinstance(label, str) or label not in _REGISTRY:
        close = difflib.get_close_matches(str(label), list(_REGISTRY), n=1)
        alt = f" Did you mean {close[0]!r}?" if close else ""
        return CheckResult(str(label), False, f"{label!r} is not the label of an exercise check.{alt}",
                           "unknown-label")
    c = _REGISTRY[label]
    truth = c.expected()
    prec = c.precision
    try:
        if prec.kind == "choice":
            norm = c.normalise or _default_normalise
            try:
                given = norm(answer)
            except Exception:  # noqa: BLE001
                given = None
            if not isinstance(given, str):
                opts = ", ".join(repr(o) for o in c.options) or "a string"
                raise _Malformed(f"got {_describe(answer)}; expected one of {opts}")
            shown = repr(given)
            if given == truth:
                return CheckResult(label, True, f"{label}: {shown} is correct.")
            for name, m in c.mistakes.items():
                if given == m.value(truth):
                    return CheckResult(label, False, f"{label}: {shown} is not right yet — {m.hint}", name)
            if c.options and given not in c.options:
                opts = ", ".join(repr(o) for o in c.options)
                raise _Malformed(f"got {_describe(answer)}; expected one of {opts}")
        else:
            truth_arr = np.asarray(truth, dtype=float)
            arr = _as_numbers(answer, truth_arr.shape)
            shown = format_answer(arr)
            if prec.accepts(arr, truth_arr):
                return CheckResult(label, True, f"{label}: {shown} is correct ({prec.text}).")
            for name, m in c.mistakes.items():
                value = np.asarray(m.value(truth), dtype=float)
                if value.shape == truth_arr.shape and prec.accepts(arr, value):
                    return CheckResult(label, False, f"{label}: {shown} is not right yet — {m.hint}", name)
    except _Malformed as err:
        return CheckResult(label, False, f"{label}: cannot check this answer: {err}.", "malformed")
    hint = f" Hint: {c.hint}" if c.hint else ""
    return CheckResult(label, False, f"{label}: {shown} is not right yet ({prec.text} asked).{hint}")


def check(label: str, answer: Any) -> CheckResult:
    """Check ``answer`` to exercise ``label``: print the verdict and return a :class:`CheckResult`.

    The answer passes when it is within the exercise's stated precision of the
    expected value (computed by :mod:`lecode`); a recognised common mistake is
    named in the message. Malformed answers (None, text, dicts, wrong shape,
    NaN, ...) get a message, never an exception. ``check(...).passed`` is the
    verdict as a boolean.
    """
    result = evaluate(label, answer)
    print(result.message)
    return result
