"""Build the student edition of the book: notebooks, website and problem-set PDFs, no solutions.

Usage (from the repository root, inside the project's environment; ``make student``)::

    python tools/build_student.py                # notebooks, html and pdf
    python tools/build_student.py notebooks      # only some of the three
    python tools/build_student.py html pdf

Writes, from the same sources as the book (no second copy of any chapter is kept
in the repository):

- ``_build/student/notebooks/`` — every notebook of ``_toc.yml`` (chapters and
  problem sets) with its solution blocks removed
  (:func:`lecode.grade.strip_solutions`): what an instructor hands out;
- ``_build/student/html/`` — the website built from those notebooks with
  sphinx-exercise's ``hide_solutions: True``, without executing anything (the
  notebooks carry the outputs that nbval checks), without the instructor's
  pages, and without launch buttons (they would open the full notebooks);
- ``_build/student/pdf/`` — each problem set's student page printed to PDF by
  headless Chromium (``--print-to-pdf``; the site's own offline MathJax renders
  the math).

The site is assembled in ``_build/student/book/`` and built with
``jupyter-book build -W -n --keep-going`` like the book itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "student"

#: Pages of the table of contents that the student edition leaves out (file stems
#: containing one of these words): the instructor's guide talks about the answers.
INSTRUCTOR_ONLY = ("instructor",)

#: What of the repository the student site is built from, besides the notebooks.
_SKIP = {".git", ".venv", "_build", "lecode", "tests", "benchmarks", "tools", ".ci", ".github",
         "lecode.egg-info", "__pycache__", ".ipynb_checkpoints", "data"}


def _atomic_write_text(path: Path, text: str) -> None:
    try:
        from lecode._io import atomic_write_text
    except ImportError:                       # before lecode._io lands: the same steps, locally
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def _toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def _instructor_only(entry: str) -> bool:
    return any(word in Path(entry).name.lower() for word in INSTRUCTOR_ONLY)


def student_toc(toc: dict) -> dict:
    """The table of contents without the instructor-only pages (and without parts left empty)."""
    def walk(node):
        if isinstance(node, list):
            items = [walk(x) for x in node]
            return [x for x in items if x is not None]
        if isinstance(node, dict):
            if "file" in node and _instructor_only(node["file"]):
                return None
            out = {k: (walk(v) if k != "file" else v) for k, v in node.items()}
            if "chapters" in out and not out["chapters"] and "file" not in out:
                return None
            return out
        return node

    return walk(toc)


def notebook_entries() -> list[str]:
    """Every notebook of the table of contents, as paths relative to the root."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from run_notebooks import toc_entries
    finally:
        sys.path.pop(0)
    return [f"{e}.ipynb" for e in toc_entries() if (ROOT / f"{e}.ipynb").exists()]


def build_notebooks() -> list[Path]:
    """Strip every notebook of the book into ``_build/student/notebooks/``; return the written paths."""
    from lecode.grade import strip_solutions

    written = []
    for rel in notebook_entries():
        if _instructor_only(rel):
            continue
        nb = nbformat.read(ROOT / rel, as_version=4)
        target = OUT / "notebooks" / rel
        _atomic_write_text(target, nbformat.writes(strip_solutions(nb)) + "\n")
        written.append(target)
    return written


def student_config(config: dict) -> dict:
    """The book's ``_config.yml`` for the student site: no execution, solutions hidden, no launch buttons."""
    cfg = dict(config)
    cfg["title"] = f"{config.get('title', 'Book')} (student edition)"
    cfg["execute"] = dict(config.get("execute", {}), execute_notebooks="off")
    cfg["launch_buttons"] = {"notebook_interface": "jupyterlab", "binderhub_url": "", "colab_url": "",
                             "thebe": False}
    html = dict(config.get("html", {}))
    html.update(use_repository_button=False, use_issues_button=False, use_edit_page_button=False)
    cfg["html"] = html
    sphinx = dict(config.get("sphinx", {}))
    sconf = dict(sphinx.get("config", {}))
    sconf["hide_solutions"] = True
    theme = dict(sconf.get("html_theme_options", {}))
    theme.update(use_repository_button=False, use_issues_button=False, use_edit_page_button=False)
    sconf["html_theme_options"] = theme
    sphinx["config"] = sconf
    cfg["sphinx"] = sphinx
    return cfg


def assemble_book() -> Path:
    """Lay out ``_build/student/book/``: the book's sources with the stripped notebooks in place."""
    book = OUT / "book"
    if book.exists():
        shutil.rmtree(book)
    book.mkdir(parents=True)
    for item in ROOT.iterdir():
        if item.name in _SKIP or item.name.startswith(".") or item.suffix == ".ipynb":
            continue
        if item.is_dir():
            shutil.copytree(item, book / item.name,
                            ignore=shutil.ignore_patterns("*.ipynb", "data", "__pycache__",
                                                          ".ipynb_checkpoints"))
        elif item.name not in ("_config.yml", "_toc.yml"):
            shutil.copy2(item, book / item.name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    (book / "_config.yml").write_text(yaml.safe_dump(student_config(config), sort_keys=False,
                                                     allow_unicode=True))
    (book / "_toc.yml").write_text(yaml.safe_dump(student_toc(_toc()), sort_keys=False,
                                                  allow_unicode=True))
    for rel in notebook_entries():
        if _instructor_only(rel):
            continue
        src = OUT / "notebooks" / rel
        (book / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, book / rel)
    for page in list(book.rglob("*.md")):
        if _instructor_only(page.stem):
            page.unlink()
    return book


def build_html() -> float:
    """Build the student website into ``_build/student/html/``; return the build's wall time in s."""
    book = assemble_book()
    start = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=book)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the student site did not build (jupyter-book exit code {proc.returncode})")
    target = OUT / "html"
    staged = OUT / ".html-new"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(book / "_build" / "html", staged)
    old = OUT / ".html-old"
    if target.exists():
        target.rename(old)
    staged.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return elapsed


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium binary found (apt-get install chromium): the PDFs need it")


PDF_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
             "--virtual-time-budget=20000"]


def build_pdfs() -> list[Path]:
    """Print each problem set's student page (``_build/student/html/problem_sets/*.html``) to PDF."""
    html = OUT / "html"
    pages = sorted((html / "problem_sets").glob("part*.html"))
    if not pages:
        raise SystemExit("no problem-set pages in _build/student/html: build the html first")
    (OUT / "pdf").mkdir(parents=True, exist_ok=True)
    written = []
    browser = chromium()
    for page in pages:
        target = OUT / "pdf" / f"{page.stem}.pdf"
        tmp = target.with_name(f".{target.name}.tmp.pdf")
        subprocess.run([browser, *PDF_FLAGS, f"--print-to-pdf={tmp}", page.as_uri()], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        if not tmp.exists() or tmp.stat().st_size < 1000:
            raise SystemExit(f"Chromium wrote no PDF for {page}")
        os.replace(tmp, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="notebooks|html|pdf",
                        help="what to build (default: all three)")
    args = parser.parse_args(argv)
    parts = args.parts or ["notebooks", "html", "pdf"]
    unknown = sorted(set(parts) - {"notebooks", "html", "pdf"})
    if unknown:
        parser.error(f"parts must be among notebooks, html, pdf; got {', '.join(unknown)}")
    if "notebooks" in parts or not (OUT / "notebooks").exists():
        t0 = time.perf_counter()
        paths = build_notebooks()
        print(f"student notebooks: {len(paths)} in {OUT / 'notebooks'} ({time.perf_counter() - t0:.1f} s)")
    if "html" in parts:
        elapsed = build_html()
        print(f"student site: {OUT / 'html' / 'index.html'} (jupyter-book build {elapsed:.0f} s)")
    if "pdf" in parts:
        t0 = time.perf_counter()
        pdfs = build_pdfs()
        print(f"problem-set PDFs: {', '.join(p.name for p in pdfs)} in {OUT / 'pdf'} "
              f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
