"""Execute book notebooks in place so that their stored outputs are current.

Usage (from the repository root, inside the project's environment)::

    python tools/run_notebooks.py chapters/04_phase_transition.ipynb [...]
    python tools/run_notebooks.py --all

Each notebook is executed top to bottom in a fresh kernel from ``chapters/``
(the working directory nbval and the book build use), with widget state
stripped from the saved file (nbclient needs it while executing; the book
build stores its own), execution counts renumbered, and the size and wall time reported.
A notebook over 1.5 MB is an error. This is the only supported way to refresh
the committed outputs that nbval compares.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 1_500_000


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


def run(path: Path, timeout: int) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
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
    # atomically (temp file + rename): an interrupted run keeps the old notebook
    from lecode._io import atomic_write
    with atomic_write(path, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT)}: executed in {elapsed:.1f} s, {size / 1e6:.2f} MB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size / 1e6:.2f} MB exceeds the 1.5 MB limit; shrink its figures")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook listed in _toc.yml")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = toc_notebooks() if args.all else [p.resolve() for p in args.notebooks]
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        run(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
