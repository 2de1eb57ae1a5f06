"""What a problem set is for the grader: problems, their checks, and the variables holding the answers.

A problem set is written once, as a notebook ``problem_sets/partN.ipynb`` with
its solutions in solution blocks; its checks are registered in
``lecode.exercises.psN`` (with :func:`lecode.exercises.register`), which also
defines ``PROBLEM_SET``, a :class:`ProblemSet` naming, for every problem, the
checks that score it and the notebook variable each check reads. The grader
takes the problem set from the package, never from a submitted notebook.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Answer", "Problem", "ProblemSet", "problem_set", "PROBLEM_SETS"]

#: The problem sets of the book: registry module -> notebook (relative to the repository root).
PROBLEM_SETS = {f"ps{k}": f"problem_sets/part{k}.ipynb" for k in (1, 2, 3, 4)}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Answer:
    """One scored answer: the check ``label`` applied to the notebook variable ``variable``."""

    label: str
    variable: str

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label must be a non-empty check label, got {self.label!r}")
        if not isinstance(self.variable, str) or not _IDENT.match(self.variable) \
                or self.variable.startswith("_"):
            raise ValueError(f"variable must be a public Python identifier, got {self.variable!r}")


@dataclass(frozen=True)
class Problem:
    """A problem: its ``key`` (column of the score table), title, exercise label and answers (1 point each)."""

    key: str
    title: str
    exercise: str
    answers: tuple

    def __post_init__(self):
        if not isinstance(self.key, str) or not _IDENT.match(self.key):
            raise ValueError(f"key must be an identifier like 'p1', got {self.key!r}")
        if not self.answers or not all(isinstance(a, Answer) for a in self.answers):
            raise ValueError(f"problem {self.key}: answers must be a non-empty tuple of Answer")

    @property
    def points(self) -> int:
        return len(self.answers)


@dataclass(frozen=True)
class ProblemSet:
    """A problem set: ``name`` (``"ps1"``), title, notebook path and problems."""

    name: str
    title: str
    notebook: str
    problems: tuple

    def __post_init__(self):
        keys = [p.key for p in self.problems]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.name}: problem keys must be unique, got {keys}")
        labels = [a.label for p in self.problems for a in p.answers]
        if len(set(labels)) != len(labels):
            raise ValueError(f"{self.name}: a check scores at most one answer, got {labels}")
        variables = [a.variable for p in self.problems for a in p.answers]
        if len(set(variables)) != len(variables):
            raise ValueError(f"{self.name}: each answer needs its own variable, got {variables}")

    @property
    def answers(self) -> list:
        """Every :class:`Answer` of the set, in problem order."""
        return [a for p in self.problems for a in p.answers]

    @property
    def points(self) -> int:
        return sum(p.points for p in self.problems)


def problem_set(spec) -> ProblemSet:
    """The :class:`ProblemSet` named by ``spec``: ``"ps1"``, ``"part1"`` or a path ending in ``part1.ipynb``.

    Imports ``lecode.exercises.psN``, which registers the set's checks.

    Raises
    ------
    ValueError
        ``spec`` names no problem set of the book.
    """
    if not isinstance(spec, (str, Path)):
        raise TypeError(f"problem set must be a name or a path, got {type(spec).__name__}")
    stem = Path(str(spec)).stem.lower()
    m = re.fullmatch(r"(?:ps|part)([1-9])", stem)
    name = f"ps{m.group(1)}" if m else None
    if name not in PROBLEM_SETS:
        raise ValueError(f"problem set must be one of {', '.join(PROBLEM_SETS)} (or part1..part4, "
                         f"or the path of problem_sets/partN.ipynb); got {str(spec)!r}")
    module = importlib.import_module(f"lecode.exercises.{name}")
    return module.PROBLEM_SET
