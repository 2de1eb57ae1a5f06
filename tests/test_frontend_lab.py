"""The book in a real JupyterLab page, as a reader of ``make lab`` meets it.

JupyterLab is started from this environment (the project's: jupyterlab-myst
included) on a free local port, on a temporary copy of ``chapters/``, and
driven by headless Chromium (Debian's ``/usr/bin/chromium``, through
Playwright's Python package; tools/lab_session.py). For every chapter of the
table of contents, in one tab each:

* opening it does not mark it modified;
* every Markdown cell is rendered by MyST (jupyterlab-myst), shows no raw
  MyST markup (directive fences, ``:label:`` lines, roles, ``$$``, TeX
  commands outside math) and no math error; the only unresolved items
  allowed are what jupyterlab-myst cannot resolve inside one notebook:
  citations of ``references.bib`` keys and references to labels of other
  chapters (both shown as their key);
* after Run All (from the menu, with real clicks) no cell has an error or
  stderr output and MathJax reports no error;
* every explorer shows a crisp figure (at least 1.5 image pixels per CSS
  pixel), and a real key press on its first slider replaces the figure by a
  different one; the time from the key press to the new figure on screen is
  recorded (``record_property``, printed, and written to
  ``_build/frontend_latency.json``). Budgets are checked by
  ``benchmarks/bench_frontend.py``, not here.

Without Chromium or Playwright the tests skip and say why, unless
``LECODE_REQUIRE_BROWSER=1`` (set by ``.ci/run`` where chromium is
installed): then they fail.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tools import lab_session
from tools.run_notebooks import ROOT, toc_notebooks

CHAPTERS = [p.name for p in toc_notebooks() if p.parent.name == "chapters"]
PRESSES = 3                              # key presses per explorer
BEFORE_RUN: dict[str, list[str]] = {}    # chapter -> what each explorer cell shows before it runs
LATENCY: dict[str, list[float]] = {}     # "chapter cell N" -> key press to new figure (ms)

#: Raw MyST or TeX that must not survive rendering (code and math are removed before matching).
RAW_MARKUP = [
    (re.compile(r"```|~~~"), "a code/directive fence"),
    (re.compile(r"^\s*:::", re.M), "a colon fence"),
    (re.compile(r"^\s*:(label|class|nonumber|name|filter|open):", re.M), "a directive option line"),
    (re.compile(r"\{(eq|cite(:[a-z]+)?|prf:[a-z]+|ref|doc|numref|term|exercise|solution(-start|-end)?"
                r"|admonition|note|tip|warning|important|dropdown|math|bibliography)\}"), "a role or directive"),
    (re.compile(r"\$\$"), "display-math delimiters"),
    (re.compile(r"\\[A-Za-z]{2,}"), "a TeX command outside math"),
]


def _require_browser():
    required = os.environ.get("LECODE_REQUIRE_BROWSER")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("LECODE_REQUIRE_BROWSER is set but playwright is not installed (pip install -e '.[test]')")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    path = lab_session.chromium()
    if path is None:
        if required:
            pytest.fail("LECODE_REQUIRE_BROWSER is set but no chromium binary is installed "
                        "(apt-get install chromium)")
        pytest.skip("no chromium binary (apt-get install chromium): the JupyterLab page cannot be tested")
    return path


@pytest.fixture(scope="module")
def browser():
    path = _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=lab_session.CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab(browser):
    with lab_session.LabServer() as server:
        yield server


def _bib_keys() -> set[str]:
    return set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", (ROOT / "references.bib").read_text()))


def _labels() -> dict[str, str]:
    """Every label of the book (directive ``:label:`` and equation labels) -> its chapter."""
    found = {}
    for name in CHAPTERS:
        nb = json.loads((ROOT / "chapters" / name).read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text = "".join(cell["source"])
            for label in re.findall(r"^:label: (\S+)", text, re.M) + re.findall(r"\$\$\s*\(([\w:-]+)\)", text):
                found[label] = name
    return found


def _markdown_problems(name: str, cells: list[dict]) -> list[str]:
    keys, labels = _bib_keys(), _labels()
    problems = []
    for c in cells:
        if c["type"] != "markdown" or not c["source"].strip():
            continue
        where = f"markdown cell {c['index']}"
        if not c["myst"]:
            problems.append(f"{where} is not rendered by MyST (is jupyterlab-myst installed?)")
            continue
        if c["unknown_directive"]:
            problems.append(f"{where} has an unknown directive")
        for pattern, what in RAW_MARKUP:
            match = pattern.search(c["text"])
            if match:
                start = max(0, match.start() - 40)
                problems.append(f"{where} shows {what}: {c['text'][start:match.end() + 40]!r}")
        for flag in c["flags"]:
            title, text = flag["title"], flag["text"]
            if title.startswith("Link to this") or title == "Copy to Clipboard":
                continue
            if title == "Citation Not Found" and text in keys:
                continue                 # jupyterlab-myst has no bibliography: the key is shown
            if title == "Cross Reference Not Found" and labels.get(text, name) != name:
                continue                 # a label of another chapter: shown as the label
            problems.append(f"{where}: {title!r} at {text[:120]!r}")
    return problems


def _output_problems(cells: list[dict]) -> list[str]:
    problems = []
    for c in cells:
        if c["type"] != "code":
            continue
        for out in c["outputs"]:
            if out["output_type"] == "error" or out["name"] == "stderr":
                problems.append(f"code cell {c['index']} ({c['source'][:50]!r}): {out['text'][:300]}")
        if "Error displaying widget" in c["shown"] or "Error rendering" in c["shown"]:
            problems.append(f"code cell {c['index']}: {c['shown'][:200]!r}")
    return problems


def _write_latency() -> None:
    path = ROOT / "_build" / "frontend_latency.json"
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(LATENCY, indent=1))
    os.replace(tmp, path)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_reads_runs_and_answers_in_jupyterlab(browser, lab, chapter, record_property):
    start = time.monotonic()
    page = lab_session.ChapterPage(browser, lab, chapter)
    try:
        # 1. opened, kernel started: not modified (the kernelspec matches what Lab writes)
        page.page.wait_for_timeout(1000)
        assert page.state()["dirty"] is False, f"{chapter} is marked modified as soon as it is opened"

        # 2. formatted text, rendered math, no raw markup
        cells = page.cells()
        problems = _markdown_problems(chapter, cells)
        assert not problems, f"{chapter}:\n" + "\n".join(problems)
        explorers = page.explorer_cells()
        BEFORE_RUN[chapter] = [cells[i]["shown"] for i in explorers]

        # 3. every cell runs without error
        page.run_all()
        cells = page.cells()
        problems = _output_problems(cells)
        assert not problems, f"{chapter}: error output after Run All:\n" + "\n".join(problems)
        assert page.mathjax_errors() == 0, f"{chapter}: MathJax reports an error"

        # 4. every explorer: a crisp figure that a real key press replaces
        for index in explorers:
            sizes = page.watch_image(index)
            ratio = sizes["natural"] / sizes["shown"]
            assert ratio >= 1.5, f"{chapter} cell {index}: {ratio:.2f} image px per CSS px (want >= 1.5)"
            image = page.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea img").first
            handle = page.slider_handle(index)
            times = []
            for _ in range(PRESSES):
                now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
                before = image.screenshot()
                timing = page.press(index, "ArrowLeft" if now >= top else "ArrowRight")
                assert image.screenshot() != before, f"{chapter} cell {index}: the figure did not change"
                times.append(round(timing["frame"], 1))
            key = f"{chapter} cell {index}"
            LATENCY[key] = times
            record_property(f"latency_ms[{key}]", times)
            print(f"{key}: key press to new figure {times} ms")
        _write_latency()
    finally:
        page.close()
    print(f"{chapter}: {time.monotonic() - start:.0f} s in the page")


def test_explorer_cells_say_what_they_are_before_they_run():
    """Before a chapter runs, an explorer cell says "Run this cell to start the explorer".

    The text is the plain-text part of ``Explorer.widget()``'s display
    bundle, which issue 11 provides. Until that lands (the stored outputs
    do not carry the text yet), a failure here is an expected failure.
    """
    if not BEFORE_RUN:
        pytest.skip("no chapter was opened (see the test above)")
    phrase = "Run this cell to start the explorer"
    landed = any(phrase in (ROOT / "chapters" / name).read_text() for name in CHAPTERS)
    missing = [f"{name}: {shown[:80]!r}" for name, shown_list in BEFORE_RUN.items()
               for shown in shown_list if phrase not in shown]
    if missing and not landed:
        pytest.xfail("issue 11 (Explorer.widget()'s text/plain bundle) has not landed: explorer cells show "
                     + missing[0])
    assert not missing, "explorer cells that do not say what they are before they run:\n" + "\n".join(missing)
