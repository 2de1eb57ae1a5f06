"""Execute book notebooks in place so that their stored outputs are current.

Usage (from the repository root, inside the project's environment)::

    python tools/run_notebooks.py chapters/04_phase_transition.ipynb [...]
    python tools/run_notebooks.py --all
    python tools/run_notebooks.py --normalise-only --all   # no execution, outputs kept

Each notebook is executed top to bottom in a fresh kernel from ``chapters/``
(the working directory nbval and the book build use), with widget state
stripped from the saved file (nbclient needs it while executing; the book
build stores its own), execution counts renumbered, and the size and wall time reported.
A notebook over 1.5 MB is an error. This is the only supported way to refresh
the committed outputs that nbval compares.

Every saved notebook is also normalised (:func:`normalise`) so that it reads
in JupyterLab as on the website and is not marked modified when opened:

* its first cell is the book's math macros as MyST front matter (the
  ``math:`` key that ``jupyterlab-myst`` reads from the first Markdown cell),
  generated from the one definition in ``_config.yml``
  (``sphinx.config.mathjax3_config.tex.macros``, what the website's MathJax
  uses) and tagged ``remove-cell`` so that the website skips it;
* its kernelspec is the installed ``python3`` kernel's, display name
  included (JupyterLab rewrites a differing one as soon as the kernel starts,
  which marks the notebook modified).

``--normalise-only`` applies this without executing (stored outputs are kept),
e.g. after a merge or a change of the macros.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 1_500_000
KERNEL = "python3"
MACROS_CELL_ID = "book-math-macros"
MACROS_HEADER = ("# The book's LaTeX macros for JupyterLab (jupyterlab-myst reads them here).\n"
                 "# Generated from _config.yml by tools/run_notebooks.py: edit them there.\n")


def toc_entries() -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (the root first), in order, without suffix.

    Shared with ``tests/test_book.py``, which checks the table of contents
    against the files on disk and the built site.
    """
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key, value in node.items():
                if key != "file":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def toc_notebooks() -> list[Path]:
    """The notebooks of the table of contents, in book order."""
    return [ROOT / f"{f}.ipynb" for f in toc_entries() if (ROOT / f"{f}.ipynb").exists()]


def book_macros() -> dict[str, str]:
    """The book's LaTeX macros, ``{name: definition}`` without backslash, as ``_config.yml`` defines them.

    They live in ``sphinx.config.mathjax3_config.tex.macros`` (the website's
    MathJax). A macro with arguments may be given as MathJax's
    ``[definition, n]``; its definition uses ``#1``... as both MathJax and
    KaTeX expect, so only the definition is kept.
    """
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    out = {}
    for name, value in macros.items():
        definition = value[0] if isinstance(value, list) else value
        if not isinstance(definition, str) or not name.isalpha():
            raise ValueError(f"_config.yml: macro {name!r} must be a letters-only name with a string "
                             f"definition (or [definition, n]), got {value!r}")
        out[name] = definition
    return out


def macros_cell_source(macros: dict[str, str]) -> str:
    """MyST front matter (a YAML block) that defines ``macros`` for jupyterlab-myst."""
    import yaml

    body = yaml.safe_dump({"math": {"\\" + name: value for name, value in macros.items()}},
                          default_flow_style=False, allow_unicode=True, sort_keys=True)
    return "---\n" + MACROS_HEADER + body + "---"


def kernelspec() -> dict[str, str]:
    """The notebook metadata of the installed ``python3`` kernel (what JupyterLab writes when it starts)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    return {"display_name": spec.display_name, "language": spec.language, "name": KERNEL}


def normalise(nb, macros: dict[str, str] | None = None, spec: dict[str, str] | None = None):
    """Put the macros cell first and the installed kernelspec in ``nb`` (in place); return ``nb``.

    Idempotent. The macros cell (id ``MACROS_CELL_ID``) is rewritten and moved
    first wherever it was; every other cell is left untouched.
    """
    macros = book_macros() if macros is None else macros
    source = macros_cell_source(macros)
    cells = [c for c in nb.cells if c.get("id") != MACROS_CELL_ID]
    cell = nbformat.v4.new_markdown_cell(source, id=MACROS_CELL_ID)
    cell.metadata["tags"] = ["remove-cell"]
    nb.cells = [cell] + cells
    nb.metadata["kernelspec"] = kernelspec() if spec is None else dict(spec)
    nb.metadata.pop("widgets", None)
    return nb


def write(nb, path: Path) -> None:
    """Write ``nb`` to ``path`` atomically (``lecode._io.atomic_write``: a temporary
    file beside it, fsync, then ``os.replace``), so an interrupted run keeps the old notebook."""
    from lecode._io import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as handle:
        nbformat.write(nb, handle)


def normalise_file(path: Path) -> bool:
    """Normalise one notebook on disk without executing it; True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    normalise(nb)
    if nbformat.writes(nb) == before:
        return False
    write(nb, path)
    return True


def run(path: Path, timeout: int) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    normalise(nb)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    # The kernel inherits the environment. With MPLBACKEND=Agg (as set for the unit tests)
    # plt.show() displays nothing, the saved notebook would lose its figures, and nbval
    # (which runs with the inline backend) would fail on it: the kernel never sees it.
    backend = os.environ.pop("MPLBACKEND", None)
    try:
        client.execute()
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
    write(nb, path)
    size = path.stat().st_size
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"{shown}: executed in {elapsed:.1f} s, {size / 1e6:.2f} MB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size / 1e6:.2f} MB exceeds the 1.5 MB limit; shrink its figures")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook listed in _toc.yml")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    parser.add_argument("--normalise-only", action="store_true",
                        help="only normalise (macros cell, kernelspec); do not execute, keep outputs")
    args = parser.parse_args(argv)
    paths = toc_notebooks() if args.all else [p.resolve() for p in args.notebooks]
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        if args.normalise_only:
            changed = normalise_file(path)
            print(f"{path.relative_to(ROOT)}: {'normalised' if changed else 'already normal'}")
        else:
            run(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
