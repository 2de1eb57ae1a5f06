"""The book as a whole: table of contents, notebook hygiene, built site.

The site tests read ``_build/html``; ``make test`` builds the book first and
sets ``LECODE_REQUIRE_SITE=1`` so that a missing site is a failure there
(a plain ``pytest`` run without a build skips them with a reason).
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from tools.run_notebooks import toc_entries, toc_notebooks

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
MAX_NOTEBOOK_BYTES = 1_500_000


def chapter_notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))


def source_of(entry: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{entry}{suffix}"
        if path.exists():
            return path
    raise AssertionError(f"_toc.yml entry {entry!r} has no .ipynb or .md file")


# -- table of contents ----------------------------------------------------

def test_every_toc_entry_exists():
    for entry in toc_entries():
        source_of(entry)


def test_toc_has_no_duplicates():
    files = toc_entries()
    assert len(files) == len(set(files)), f"duplicated entries in _toc.yml: {files}"


def test_every_chapter_notebook_is_in_the_toc():
    listed = {str(ROOT / f"{f}.ipynb") for f in toc_entries()}
    missing = [p.name for p in chapter_notebooks() if str(p) not in listed]
    assert not missing, f"notebooks under chapters/ missing from _toc.yml: {missing}"


def test_toc_parts_have_captions():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    for part in toc["parts"]:
        assert part.get("caption"), f"a part of _toc.yml has no caption: {part}"


# -- notebook hygiene -------------------------------------------------------

@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_hygiene(path):
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is over 1.5 MB"
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"], f"{path.name} stores widget state; run tools/run_notebooks.py"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    assert all(c.get("outputs") is not None for c in code)
    assert any(c["outputs"] for c in code), f"{path.name} has no stored outputs for nbval to compare"
    assert any("assert" in "".join(c["source"]) for c in code), f"{path.name} checks no claim with assert"
    assert not any("sys.path" in "".join(c["source"]) for c in code), f"{path.name} manipulates sys.path"
    counts = [c["execution_count"] for c in code if c["execution_count"] is not None]
    assert counts == sorted(counts), f"{path.name} was not executed top to bottom"


def test_nbval_runs_every_notebook_of_the_book():
    """The Makefile's nbval lines (``make nbval`` and ``make test``) reach every notebook of the toc."""
    lines = [l for l in (ROOT / "Makefile").read_text().splitlines() if "nbval_sanitize.cfg" in l]
    assert len(lines) == 2
    for line in lines:
        paths = line.split("nbval_sanitize.cfg", 1)[1].split()
        for nb in toc_notebooks():
            rel = nb.relative_to(ROOT)
            assert any(rel == Path(q) or Path(q) in rel.parents for q in paths), (
                f"{rel} is in the book but not checked by nbval: {line.strip()}")


def test_only_widget_cells_skip_output_comparison():
    """``nbval-ignore-output`` is reserved for cells that show a live widget.

    A live widget's output depends on the front end (nbval has no widget
    manager, so the explorer's first figure leaks into the cell output); every
    other cell's printed text is part of the book's contract.
    """
    for path in toc_notebooks():
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            tagged = "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])
            shows_widget = ".widget()" in source
            assert tagged == shows_widget, (
                f"{path.name}: cell {source[:60]!r} "
                + ("shows a widget without the nbval-ignore-output tag" if shows_widget
                   else "is excluded from nbval comparison but shows no widget"))


def _markdown(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", [p for p in chapter_notebooks() if re.match(r"\d\d_", p.name)
                                  and not p.name.startswith("00_")], ids=lambda p: p.name)
def test_chapter_anatomy(path):
    """Objectives with a time estimate, a summary, >= 3 exercises each with a hidden solution."""
    text = _markdown(path)
    prefix = "ch" + path.name[:2]
    assert re.search(r"learning objectives", text, re.I), f"{path.name}: no learning objectives"
    assert re.search(r"\b\d+\s*(min|minutes|hour|hours)\b", text), f"{path.name}: no time estimate"
    assert re.search(r"^#+ .*summary", text, re.I | re.M), f"{path.name}: no summary section"
    exercises = re.findall(r"```\{exercise(?:-start)?\}[^\n]*\n:label: (\S+)", text)
    assert len(exercises) >= 3, f"{path.name}: {len(exercises)} exercises, want >= 3"
    assert all(label.startswith(prefix) for label in exercises), f"{path.name}: labels {exercises}"
    solutions = re.findall(r"```\{solution(?:-start)?\} (\S+)", text)
    assert set(solutions) >= set(exercises), f"{path.name}: exercises without a solution"
    assert "dropdown" in text, f"{path.name}: solutions are not hidden in dropdowns"


def test_labels_are_unique_across_the_book():
    seen: dict[str, str] = {}
    for path in chapter_notebooks():
        for label in re.findall(r"^:label: (\S+)", _markdown(path), re.M):
            assert label not in seen, f"label {label} in {path.name} and {seen[label]}"
            seen[label] = path.name


def test_site_loads_no_widget_javascript_and_never_renders_widget_views():
    """The site has no kernel: no widget JavaScript (it came from CDNs), no widget views.

    An empty ``nb_ipywidgets_js`` (a missing key would mean myst-nb's CDN
    defaults); the HTML builders drop the widget view and prefer the
    explorer reference, which becomes the scrubbable player.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert config["nb_ipywidgets_js"] == {}
    overrides = {(b, m): p for b, m, p in config["nb_mime_priority_overrides"]}
    for builder in ("html", "dirhtml", "singlehtml"):
        assert overrides[(builder, "application/vnd.jupyter.widget-view+json")] is None
        assert overrides[(builder, "application/vnd.lecode.explorer+json")] < 100   # before text/plain
    assert "lecode._sphinx" in yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["extra_extensions"]


def test_player_html_shows_the_default_frame_with_its_values_and_a_full_size_link():
    """The player's markup before any script runs: controls at their defaults, the default
    frame (lazy, with its alt text), and a link that opens that frame at full resolution."""
    from lecode._sphinx.player import player_html

    info = {"title": "Demo", "width": 1200, "height": 600, "dpi": 200,
            "alt": {"1-0.webp": "Demo at a = 0.2, kind = x", "0-0.webp": "Demo at a = 0.1, kind = x"},
            "controls": [{"kind": "range", "label": "a", "values": ["0.1", "0.2"], "default": 1},
                         {"kind": "choice", "label": "kind", "values": ["x"], "default": 0}]}
    markup = player_html(info, "_static/demo/", "p0")
    assert 'data-frame="1-0.webp"' in markup
    assert '<output for="p0-c0">0.2</output>' in markup
    assert 'type="radio" name="p0-c1" value="0" checked' in markup
    assert 'src="_static/demo/1-0.webp" alt="Demo at a = 0.2, kind = x"' in markup
    assert 'loading="lazy"' in markup
    assert re.search(r'<a class="lecode-player-full" href="_static/demo/1-0.webp"', markup)


def test_built_pages_reference_nothing_on_the_network():
    """No page loads a script, style, font or image from another host (links may point anywhere)."""
    _require_site()
    pages = sorted(p for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_"))
    remote = []
    for page in pages:
        for kind, link in _parse(page).links:
            if kind == "src" and (urlparse(link).scheme in ("http", "https") or link.startswith("//")):
                remote.append(f"{page.relative_to(SITE)}: {link}")
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r'<link[^>]+rel="stylesheet"[^>]+href="(https?:)?//[^"]+"', text):
            remote.append(f"{page.relative_to(SITE)}: {match.group(0)}")
    assert not remote, "pages load from the network:\n" + "\n".join(remote[:20])


# -- the built site ---------------------------------------------------------

def _require_site():
    if not (SITE / "index.html").exists():
        if os.environ.get("LECODE_REQUIRE_SITE"):
            pytest.fail("the book is not built: run `make book` first")
        pytest.skip("the book is not built (run `make book`); `make test` builds it first")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(("href", attrs["href"]))
        if tag in ("img", "script") and attrs.get("src"):
            self.links.append(("src", attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.links.append(("href", attrs["href"]))


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


class _Images(HTMLParser):
    """The ``<img>`` tags inside a page's content (``<article>``; not the header's launch buttons), as attribute dicts."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            self.depth += 1
        elif tag == "img" and self.depth:
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "article":
            self.depth -= 1


def test_page_figures_load_lazily():
    """Every figure in a page's content loads lazily (lecode._sphinx.images), so a page's first
    paint waits for none of them (issue 11: initial load <= 5 MB; benchmarks/bench_site.py)."""
    _require_site()
    eager, counted = [], 0
    for entry in toc_entries():
        parser = _Images()
        parser.feed((SITE / f"{entry}.html").read_text(encoding="utf-8"))
        for attrs in parser.images:
            counted += 1
            if attrs.get("loading") != "lazy":
                eager.append(f"{entry}: {attrs.get('src')}")
    assert counted > 50, f"only {counted} images found in the pages' content"
    assert not eager, "images loaded eagerly:\n" + "\n".join(eager[:20])


def test_site_has_a_page_for_every_toc_entry():
    _require_site()
    missing = [e for e in toc_entries() if not (SITE / f"{e}.html").exists()]
    assert not missing, f"no built page for {missing}"


def test_site_has_no_broken_internal_link_or_image():
    _require_site()
    # theme templates copied into _static/ are not pages
    pages = sorted(p for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_"))
    parsed = {p: _parse(p) for p in pages}
    broken = []
    for page, info in parsed.items():
        for kind, link in info.links:
            url = urlparse(link)
            if url.scheme or link.startswith("//") or link.startswith("mailto:"):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if url.path and not target.exists():
                broken.append(f"{page.relative_to(SITE)} -> {link}")
                continue
            if url.fragment and target.suffix == ".html" and target in parsed:
                if unquote(url.fragment) not in parsed[target].ids:
                    broken.append(f"{page.relative_to(SITE)} -> {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


def test_preface_chapter_map_matches_each_chapter_time_estimate():
    """Instructors plan with the preface's table: it must agree with the chapters."""
    preface = _markdown(ROOT / "chapters" / "00_preface.ipynb")
    for path in chapter_notebooks():
        if path.name.startswith("00_"):
            continue
        number = int(path.name[:2])
        row = re.search(rf"^\| {number}\. [^\n]*\| (\d+) min \|$", preface, re.M)
        assert row, f"the preface's chapter map has no row for chapter {number}"
        stated = re.search(r"\b(\d+)\s*min", _markdown(path))
        assert stated and stated.group(1) == row.group(1), (
            f"chapter {number}: preface says {row.group(1)} min, chapter says {stated and stated.group(1)}")
