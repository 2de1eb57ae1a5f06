"""Classroom tools: the student edition of a notebook and the grader of problem sets.

- :func:`strip_solutions` — a notebook without its solution blocks (exercises and
  answer checks kept), the source of ``make student``;
- :func:`grade` — score submitted problem-set notebooks, each executed in a fresh
  kernel with a time limit, the answers checked in the grading process
  (``python -m lecode.grade PROBLEM_SET SUBMISSION.ipynb... --csv scores.csv``);
- :class:`Problem`, :class:`ProblemSet`, :func:`problem_set` — which checks score
  which problem, and which variable of the notebook holds each answer.
"""

from ._grader import Score, answer_key_access, grade, parse_answers, write_csv
from ._problems import PROBLEM_SETS, Answer, Problem, ProblemSet, problem_set
from ._student import CheckCall, Solution, find_solutions, strip_solutions

__all__ = ["strip_solutions", "find_solutions", "Solution", "CheckCall",
           "grade", "Score", "write_csv", "parse_answers", "answer_key_access",
           "Problem", "ProblemSet", "Answer", "problem_set", "PROBLEM_SETS"]
