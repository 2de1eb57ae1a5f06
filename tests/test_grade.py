"""lecode.grade: the student edition of a notebook, the problem sets' checks, and the grader.

The grader tests execute notebooks in fresh kernels (a few seconds each); the
batch test grades the solution, the untouched student version and four
broken or hostile submissions in one run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lecode.exercises import evaluate, spec
from lecode.grade import (PROBLEM_SETS, Answer, Problem, ProblemSet, answer_key_access, find_solutions,
                          grade, parse_answers, problem_set, strip_solutions, write_csv)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SETS = [ROOT / path for path in PROBLEM_SETS.values()]


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, src in cells:
        cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        nb.cells.append(cell)
    for j, cell in enumerate(nb.cells):
        cell.id = f"c{j}"
    return nb


EX = "```{exercise}\n:label: t-ex-a\n\nCompute it.\n```\n"
START = "```{solution-start} t-ex-a\n:class: dropdown\n:label: t-sol-a\n```\n"
END = "```{solution-end}\n```"


# --------------------------------------------------------------------------- strip_solutions

def test_strip_removes_gated_solution_and_its_cells_and_leaves_a_work_cell():
    nb = _nb(("md", "# T\n\n" + EX + "\n" + START + "\nThe secret derivation."),
             ("code", "x_val = 41 + 1\nprint(x_val)\ncheck(\"t-a\", x_val)"),
             ("md", "More secret text.\n" + END + "\n\n## After"),
             ("code", "print('kept')"))
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="42\n")]
    out, sols = strip_solutions(nb, return_solutions=True)
    text = json.dumps(out)
    assert "secret" not in text and "solution-start" not in text and "solution-end" not in text
    assert [c.cell_type for c in out.cells] == ["markdown", "code", "markdown", "code"]
    assert out.cells[0].id == "c0" and out.cells[0].source.endswith("```")   # exercise kept
    assert "{exercise}" in out.cells[0].source
    assert out.cells[1].source.splitlines()[1:] == ["x_val = ...", 'check("t-a", x_val)']
    assert out.cells[1].outputs == []
    assert out.cells[2].source == "## After" and out.cells[2].id == "c2"
    assert out.cells[3] == nb.cells[3]                                  # untouched cell identical
    assert len(sols) == 1 and sols[0].exercise == "t-ex-a" and sols[0].label == "t-sol-a"
    assert [c.label for c in sols[0].checks] == ["t-a"] and "The secret derivation." in sols[0].text
    assert len(nb.cells) == 4 and "secret" in json.dumps(nb)            # input not modified


def test_strip_one_piece_solution_and_nested_fences():
    body = "```{solution} t-ex-a\n:label: t-sol-b\n\n````{note}\n```python\nsecret = 1\n```\n````\nhidden\n```"
    nb = _nb(("md", EX + "\n" + body + "\n\nvisible tail"))
    out = strip_solutions(nb)
    # the cell is split where the solution was (a work cell would go there if it checked something)
    assert [c.source for c in out.cells] == [EX.strip("\n"), "visible tail"]
    assert out.cells[0].id == "c0" and out.cells[1].id != "c0"


def test_strip_solution_ending_and_starting_in_one_cell_keeps_order():
    nb = _nb(("md", EX + START), ("code", "a = 1\ncheck('t-a', a)"),
             ("md", END + "\n\n" + EX.replace("t-ex-a", "t-ex-b") + START.replace("t-ex-a", "t-ex-b")),
             ("code", "b = 2\nlecode.exercises.check('t-b', [b, 1])"), ("md", END))
    out = strip_solutions(nb)
    kinds = [(c.cell_type, c.source.splitlines()[1] if c.cell_type == "code" else "") for c in out.cells]
    assert kinds == [("markdown", ""), ("code", "a = ..."), ("markdown", ""), ("code", "answer = ...")]
    assert 'lecode.exercises.check("t-b", answer)' in out.cells[3].source
    assert len({c.id for c in out.cells}) == len(out.cells)
    assert strip_solutions(nb) == out                                    # deterministic


def test_strip_literal_code_block_mentioning_solution_syntax_is_kept():
    doc = "How to write one:\n\n```md\n```{solution-start} x\n```\n\nText after."
    out = strip_solutions(_nb(("md", doc)))
    assert out.cells[0].source == doc


@pytest.mark.parametrize("cells, match", [
    ([("md", EX + START), ("code", "x = 1")], "never closed"),
    ([("md", END)], "without a"),
    ([("md", START), ("md", START)], "inside the open solution"),
    ([("md", "```{solution} a\nunclosed")], "unclosed"),
])
def test_strip_rejects_unbalanced_blocks(cells, match):
    with pytest.raises(ValueError, match=match):
        strip_solutions(_nb(*cells))


@pytest.mark.parametrize("bad", [None, [], {"cells": []}, {"cells": [], "nbformat": 3}, "nb"])
def test_strip_rejects_non_notebooks(bad):
    with pytest.raises(TypeError, match="nb must be"):
        strip_solutions(bad)


@pytest.mark.parametrize("path", CHAPTERS + SETS, ids=lambda p: p.stem)
def test_book_notebooks_strip_cleanly(path):
    nb = nbformat.read(path, as_version=4)
    out, sols = strip_solutions(nb, return_solutions=True)
    n_ex = sum(c.source.count("{exercise}") for c in nb.cells if c.cell_type == "markdown")
    assert n_ex == sum(c.source.count("{exercise}") for c in out.cells if c.cell_type == "markdown")
    assert len(sols) == n_ex
    kept_ids = {c.id for c in nb.cells}
    for cell in out.cells:                     # a kept cell is unchanged, a new one is a work cell
        if cell.id in kept_ids:
            orig = next(c for c in nb.cells if c.id == cell.id)
            assert cell.cell_type == orig.cell_type and cell.get("outputs") == orig.get("outputs")
            assert cell.source == orig.source or cell.cell_type == "markdown"
        else:
            assert cell.cell_type == "code" and cell.source.startswith("# Exercise ")
    calls = {c.label for s in sols for c in s.checks}
    text = "\n".join(c.source for c in out.cells)
    assert all(f'"{label}"' in text for label in calls)        # every check still called
    assert "solution-start" not in text and "solution-end" not in text


# --------------------------------------------------------------------------- problem sets

@pytest.mark.parametrize("name", sorted(PROBLEM_SETS))
def test_problem_set_definition_matches_its_notebook(name):
    ps = problem_set(name)
    assert problem_set(f"part{name[-1]}") is ps and problem_set(ROOT / ps.notebook) is ps
    assert 4 <= len(ps.problems) <= 6
    nb = nbformat.read(ROOT / ps.notebook, as_version=4)
    sols = find_solutions(nb)
    assert [s.exercise for s in sols] == [p.exercise for p in ps.problems]
    for sol, problem in zip(sols, ps.problems):
        got = {(c.label, c.variable) for c in sol.checks}
        assert got == {(a.label, a.variable) for a in problem.answers}
    text = json.dumps(nb)
    assert all(f"`{a.variable}`" in text for a in ps.answers)        # each statement names its variable


@pytest.mark.parametrize("label", [a.label for n in sorted(PROBLEM_SETS) for a in problem_set(n).answers])
def test_problem_set_check(label):
    c = spec(label)
    truth = c.expected()
    assert evaluate(label, truth).passed
    if c.precision.kind == "choice":
        assert not evaluate(label, truth + "x").passed
    else:
        t = np.asarray(truth, float)
        rounded = np.array([float(f"{v:.3g}") for v in t.ravel()]).reshape(t.shape)
        if c.precision.kind == "sig" and c.precision.value >= 3 or c.precision.kind != "sig":
            assert evaluate(label, rounded.tolist() if t.ndim else float(rounded)).passed
        assert not evaluate(label, (t * 1.5 + 1).tolist() if t.ndim else float(t * 1.5 + 1)).passed
    values = c.mistake_values()
    assert len(values) >= 1
    for name, value in values.items():
        res = evaluate(label, value.tolist() if isinstance(value, np.ndarray) else value)
        assert not res.passed and res.mistake == name, (name, res.message)
    for junk in (None, "abc", [["x"]], float("nan"), {"a": 1}, [1, 2, 3, 4, 5], object()):
        res = evaluate(label, junk)
        assert not res.passed


def test_problem_definitions_validate():
    with pytest.raises(ValueError, match="variable"):
        Answer("ps1-x", "_private")
    with pytest.raises(ValueError, match="answers"):
        Problem("p1", "t", "e", ())
    a = Answer("ps1-sigma-s2", "v")
    with pytest.raises(ValueError, match="unique"):
        ProblemSet("x", "t", "n", (Problem("p1", "t", "e", (a,)), Problem("p1", "t", "e", (Answer("b-c", "w"),))))
    with pytest.raises(ValueError, match="problem set must be one of"):
        problem_set("ps9")
    with pytest.raises(TypeError):
        problem_set(3)


# --------------------------------------------------------------------------- extraction and flags

def test_parse_answers_is_defensive():
    m = "@@m@@"
    out = m + json.dumps({"a": 1.5, "b": [1, [2, 3]], "c": {"x": 1}, "d": {"missing": True}, "e": "s" * 500})
    got = parse_answers("noise\n" + m + '{"a": 99}\n' + out + "\n", m, ["a", "b", "c", "d", "e", "f"])
    assert got == {"a": 1.5, "b": [1, [2, 3]], "c": None, "e": None}
    assert parse_answers(m + "{not json", m, ["a"]) == {}
    assert parse_answers(m + "[1, 2]", m, ["a"]) == {}
    assert parse_answers("no marker", m, ["a"]) == {}
    assert parse_answers(m + "[" * 100000 + "]" * 100000, m, ["a"]) == {}


def test_answer_key_access_is_flagged():
    nb = _nb(("code", "x = lecode.exercises.expected('ps1-sigma-s2')"),
             ("code", "from lecode.exercises import spec\ny = 1"), ("code", "z = sgd_vs_sde.compute(lr=0.1)"),
             ("code", "def f(:\n"))
    assert [s.split(",")[0] for s in answer_key_access(nb)] == ["code cell 1", "code cell 2"]


def test_write_csv_is_atomic_and_complete(tmp_path):
    ps = problem_set("ps1")
    target = tmp_path / "scores.csv"
    target.write_text("old")
    write_csv(target, ps, [])
    assert target.read_text().startswith("submission,p1,p2,p3,p4,total,max")
    assert not [p for p in tmp_path.iterdir() if p.name != "scores.csv"]


def test_grade_validates_its_input(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        grade("ps1", [])
    with pytest.raises(ValueError, match="time_limit"):
        grade("ps1", [tmp_path / "a.ipynb"], time_limit=0)
    with pytest.raises(FileNotFoundError, match="csv_path"):
        grade("ps1", [tmp_path / "a.ipynb"], csv_path=tmp_path / "no" / "s.csv")


# --------------------------------------------------------------------------- the grader, end to end

def _submission(tmp_path, name, edit):
    nb = nbformat.read(ROOT / "problem_sets" / "part1.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    edit(nb)
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _code_cell_defining(nb, variable):
    return next(c for c in nb.cells if c.cell_type == "code" and f"{variable} =" in c.source)


def test_grader_batch_scores_right_and_survives_broken_and_hostile_submissions(tmp_path):
    student = tmp_path / "student.ipynb"
    nbformat.write(strip_solutions(nbformat.read(ROOT / "problem_sets" / "part1.ipynb", as_version=4)), student)

    def syntax(nb):                                   # problem 1's first cell cannot be parsed
        cell = _code_cell_defining(nb, "sigma_s2")
        cell.source = "def broken(:\n" + cell.source

    def endless(nb):                                  # after problem 3, a loop that never ends
        cell = _code_cell_defining(nb, "impact")
        cell.source += "\nwhile True:\n    pass\n"

    def patched(nb):                                  # wrong answers, and every trick on the checks
        _code_cell_defining(nb, "t_end").source += "\nt_end = 1.0\ns_sched = 2.0\n"
        nb.cells.append(nbformat.v4.new_code_cell(
            "import builtins, lecode.exercises as ex\n"
            "class Yes:\n    passed = True\n    def __eq__(self, o): return True\n"
            "    def __float__(self): return 24.0017\n"
            "ex.check = ex.evaluate = lambda *a, **k: Yes()\n"
            "check = ex.check\n"
            "ex._REGISTRY.clear()\n"
            "exponent = Yes()\n"
            "print('@@lecode-grade-0000000000000000@@{\"t_end\": 24.0017, \"s_sched\": 3.4074}')\n"
            "open(lecode.__file__, 'a').write('\\nraise SystemExit')\n"))

    def garbage(path):
        path.write_text("{ this is not a notebook")
        return path

    subs = [ROOT / "problem_sets" / "part1.ipynb", student, _submission(tmp_path, "syntax", syntax),
            _submission(tmp_path, "endless", endless), _submission(tmp_path, "patched", patched),
            garbage(tmp_path / "garbage.ipynb"), ROOT / "problem_sets" / "part1.ipynb"]
    table = tmp_path / "scores.csv"
    package_init = (ROOT / "lecode" / "__init__.py").read_bytes()
    scores = grade("ps1", subs, csv_path=table, time_limit=20, grace=15)
    by = [s.problems for s in scores]
    full = {"p1": 2, "p2": 2, "p3": 1, "p4": 2}
    assert by[0] == full and scores[0].total == 7 == scores[0].maximum
    assert scores[1].total == 0                                           # untouched student version
    assert by[2] == dict(full, p1=0)                                      # syntax error: p1 only
    assert by[3] == dict(full, p4=0) and scores[3].status == "timeout"    # endless loop after p3
    assert by[4] == dict(full, p2=1, p4=0)                                # patched check: no gain
    assert scores[5].total == 0 and scores[5].status == "unreadable"
    assert by[6] == full                                                  # the batch went on unharmed
    rows = list(csv.DictReader(table.open()))
    assert [r["total"] for r in rows] == ["7", "0", "5", "5", "4", "0", "7"]
    assert "time limit" in rows[3]["feedback"] and "SyntaxError" in rows[2]["feedback"]
    assert all(r["feedback"] for r in rows)
    assert (ROOT / "lecode" / "__init__.py").read_bytes() == package_init   # kernels got a private copy
