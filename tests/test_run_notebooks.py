"""tools/run_notebooks.py: the normalisation every saved notebook gets.

The book's LaTeX macros are defined once, in ``_config.yml`` (the website's
MathJax); each notebook carries a generated copy as MyST front matter in its
first cell, for jupyterlab-myst. These tests check that the copies agree
with the definition, that the website skips the copy, that the stored
kernelspec is the one JupyterLab would write (else opening a notebook marks
it modified), and that every macro the chapters use is defined.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from tools import run_notebooks as rn

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _front_matter(source: str) -> dict:
    match = re.fullmatch(r"---\n(.*)\n---\s*", source, re.S)
    assert match, f"not a front-matter block: {source[:80]!r}"
    return yaml.safe_load(match.group(1))


def test_book_macros_come_from_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    site = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    assert rn.book_macros() == site
    assert {"R", "E", "Prob", "softmax", "tr", "vertex", "Ebar"} <= set(site)


def test_macros_cell_is_front_matter_with_backslashed_names():
    source = rn.macros_cell_source({"R": r"\mathbb{R}", "half": r"\frac{#1}{2}"})
    assert _front_matter(source) == {"math": {r"\R": r"\mathbb{R}", r"\half": r"\frac{#1}{2}"}}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_carries_the_macros_for_jupyterlab(path):
    nb = json.loads(path.read_text())
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and first.get("id") == rn.MACROS_CELL_ID, (
        f"{path.name}: the first cell is not the macros cell; run "
        "`python tools/run_notebooks.py --normalise-only` on it")
    assert "remove-cell" in first["metadata"].get("tags", []), "the website would show the front matter"
    defined = _front_matter("".join(first["source"]))["math"]
    assert defined == {"\\" + k: v for k, v in rn.book_macros().items()}, (
        f"{path.name}: its macros differ from _config.yml; run tools/run_notebooks.py --normalise-only")
    assert sum(c.get("id") == rn.MACROS_CELL_ID for c in nb["cells"]) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_kernelspec_is_what_jupyterlab_writes(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"] == rn.kernelspec()


def _toy(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {"state": {}}
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_normalise_inserts_then_is_idempotent(tmp_path):
    path = _toy(tmp_path)
    ids = [c.id for c in nbformat.read(path, as_version=4).cells]
    assert rn.normalise_file(path) is True
    nb = nbformat.read(path, as_version=4)
    assert [c.id for c in nb.cells] == [rn.MACROS_CELL_ID] + ids      # existing ids kept
    assert nb.metadata["kernelspec"] == rn.kernelspec()
    assert "widgets" not in nb.metadata
    text = path.read_text()
    assert rn.normalise_file(path) is False
    assert path.read_text() == text
    assert not list(tmp_path.glob(".*.tmp")), "the atomic write left its temporary file"


def test_normalise_rewrites_a_stale_macros_cell_wherever_it_is(tmp_path):
    path = _toy(tmp_path)
    nb = nbformat.read(path, as_version=4)
    stale = nbformat.v4.new_markdown_cell("---\nmath:\n  \\R: wrong\n---", id=rn.MACROS_CELL_ID)
    nb.cells.append(stale)
    rn.normalise(nb, macros={"R": r"\mathbb{R}"}, spec={"name": "python3", "display_name": "X",
                                                       "language": "python"})
    assert [c.id for c in nb.cells].count(rn.MACROS_CELL_ID) == 1
    assert nb.cells[0].id == rn.MACROS_CELL_ID
    assert _front_matter(nb.cells[0].source) == {"math": {r"\R": r"\mathbb{R}"}}
    assert nb.metadata["kernelspec"]["display_name"] == "X"


def test_book_macros_rejects_a_bad_definition(tmp_path, monkeypatch):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]["bad"] = 3
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    monkeypatch.setattr(rn, "ROOT", tmp_path)
    with pytest.raises(ValueError, match="bad"):
        rn.book_macros()


def test_run_keeps_figures_when_the_caller_set_a_non_interactive_backend(tmp_path, monkeypatch):
    """MPLBACKEND=Agg (the unit tests' setting) must not reach the kernel: with it plt.show()
    displays nothing and the saved notebook would lose its figures (nbval then fails)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "figure.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    rn.run(path, timeout=120)
    import os

    assert os.environ["MPLBACKEND"] == "Agg"                      # the caller's setting is restored
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert any("image/png" in out.get("data", {}) for out in code[0].outputs)
