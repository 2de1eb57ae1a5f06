"""The student edition (``make student``): no solution anywhere in what it serves; every exercise and check kept.

Reads ``_build/student`` (skipped when it is not built, unless
``LECODE_REQUIRE_SITE=1``). Every solution of every chapter and problem set is
searched for, by its distinctive lines (lines of the solution that occur
nowhere else in its notebook), in every file of the student edition: the
notebooks, the HTML pages, the downloadable sources under ``_sources`` and the
search index (by the stemmed words that only the solution contains).
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from lecode.grade import find_solutions, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "_build" / "student"
SITE = STUDENT / "html"


def _notebooks():
    from tools.build_student import notebook_entries

    return [ROOT / rel for rel in notebook_entries()]


def _built():
    if not (SITE / "index.html").exists() or not (STUDENT / "notebooks").exists():
        if os.environ.get("LECODE_REQUIRE_SITE"):
            pytest.fail("the student edition is not built: run `make student`")
        pytest.skip("the student edition is not built (run `make student`)")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _kept_everywhere() -> str:
    """Every source line of the stripped book (chapters, problem sets and other pages), normalised."""
    parts = [c.source for p in _notebooks() for c in strip_solutions(nbformat.read(p, 4)).cells]
    parts += [p.read_text() for p in ROOT.glob("*.md")]
    return _norm("\n".join(parts))


def distinctive_lines(nb, kept: str) -> dict:
    """{solution label: [lines of that solution that appear nowhere in the stripped book]}."""
    out = {}
    for sol in find_solutions(nb):
        lines = []
        for line in sol.text.splitlines():
            n = _norm(line)
            if len(n) >= 24 and n not in kept and "solution" not in n:
                lines.append(n)
        out[sol.label or sol.exercise] = lines
    return out


def _page_text(path: Path) -> str:
    text = path.read_text(errors="replace")
    if path.suffix == ".html":
        text = re.sub(r"<[^>]+>", "", text)
    return _norm(html.unescape(text))


@pytest.fixture(scope="module")
def kept_text():
    return _kept_everywhere()


@pytest.fixture(scope="module")
def served():
    _built()
    files = [p for p in STUDENT.rglob("*") if p.is_file() and p.suffix in
             (".html", ".ipynb", ".md", ".txt", ".js", ".json", ".yml")]
    return {p: _page_text(p) for p in files}


@pytest.mark.parametrize("path", [p for p in _notebooks() if find_solutions(nbformat.read(p, 4))],
                         ids=lambda p: p.stem)
def test_no_solution_text_anywhere_in_the_student_edition(path, served, kept_text):
    nb = nbformat.read(path, as_version=4)
    lines = distinctive_lines(nb, kept_text)
    assert all(lines.values()), f"a solution with no distinctive line cannot be searched for: {lines}"
    # control: the full notebook does contain them (the search can fail)
    full = _norm("\n".join(c.source for c in nb.cells))
    assert all(line in full for ls in lines.values() for line in ls)
    leaks = [(label, line[:60], str(p.relative_to(STUDENT))) for label, ls in lines.items()
             for line in ls for p, text in served.items() if line in text]
    assert not leaks, f"solution text served by the student edition: {leaks[:5]}"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_every_exercise_and_check_is_kept(path):
    _built()
    rel = path.relative_to(ROOT)
    nb = nbformat.read(path, as_version=4)
    student = nbformat.read(STUDENT / "notebooks" / rel, as_version=4)
    assert student == strip_solutions(nb)                 # the build wrote exactly the stripped notebook
    for target in (STUDENT / "notebooks" / rel, SITE / "_sources" / rel):
        text = target.read_text()
        for label in re.findall(r":label: (\S+-ex-\S+)", "\n".join(c.source for c in nb.cells)):
            assert label in text, (label, target)
        for sol in find_solutions(nb):
            for c in sol.checks:
                assert f'\\"{c.label}\\"' in text, (c.label, target)
    page = SITE / rel.with_suffix(".html")
    exercises = re.findall(r":label: (\S+-ex-\S+)", "\n".join(c.source for c in nb.cells))
    body = page.read_text()
    assert all(f'id="{label}"' in body for label in exercises)


def _stems(text: str, min_len: int = 1) -> set:
    from sphinx.search.en import SearchEnglish

    lang = SearchEnglish({})
    return {lang.stem(w.lower()) for w in lang.split(text) if lang.word_filter(w) and len(w) >= min_len}


def test_search_index_holds_no_word_found_only_in_a_solution():
    _built()
    raw = (SITE / "searchindex.js").read_text()
    index = json.loads(raw[raw.index("(") + 1: raw.rindex(")")])
    docs = index["docnames"]
    checked = 0
    for path in _notebooks():
        nb = nbformat.read(path, as_version=4)
        sols = find_solutions(nb)
        if not sols:
            continue
        doc = docs.index(str(path.relative_to(ROOT).with_suffix("")))
        kept = _stems("\n".join(c.source + "\n" + json.dumps(c.get("outputs", []))
                                for c in strip_solutions(nb).cells))
        only_solution = _stems("\n".join(s.text for s in sols), min_len=4) - kept
        indexed = {term for term, where in index["terms"].items()
                   if (where == doc if isinstance(where, int) else doc in where)}
        assert kept & indexed, "control: the page's own words are indexed"
        leaked = only_solution & indexed
        assert not leaked, f"{path.name}: words only its solutions contain are indexed: {sorted(leaked)[:10]}"
        checked += len(only_solution)
    assert checked > 50


def test_student_site_has_no_launch_or_instructor_pages():
    _built()
    pages = [p for p in SITE.rglob("*.html")]
    assert not [p for p in pages if "instructor" in p.name.lower()]
    index = (SITE / "chapters" / "01_local_elasticity.html").read_text()
    assert "mybinder.org" not in index and "colab.research.google.com" not in index


def test_problem_set_pdfs_exist():
    _built()
    pdfs = sorted((STUDENT / "pdf").glob("part*.pdf"))
    assert [p.stem for p in pdfs] == ["part1", "part2", "part3", "part4"]
    for p in pdfs:
        data = p.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 20_000
