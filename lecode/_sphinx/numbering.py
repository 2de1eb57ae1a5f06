"""Numbers within chapters: Theorem 4.2, equation (4.12), Exercise 4.3, Figure 4.1.

Sphinx numbers figures, equations (``math_numfig``), and the enumerable nodes
of sphinx-proof and sphinx-exercise per *numbered toctree*, and Jupyter Book
makes each part of ``_toc.yml`` a toctree of its own, so numbering the
toctrees would restart the chapters at 1 in every part, add section numbers
to every heading and duplicate the numbers the chapter titles already carry
("# 4. The phase transition", kept in the title so that the notebook reads
the same in JupyterLab). Instead, after Sphinx has assigned its book-wide
numbers, :func:`number_within_chapters` renumbers each chapter's items
``(chapter, 1), (chapter, 2), ...`` in document order, per kind, with the
chapter taken from the title. Captions, ``{eq}``, ``{numref}``,
``{prf:ref}`` and exercise references all read these numbers. Pages whose
title has no number (preface, API reference) keep Sphinx's numbers.
"""

from __future__ import annotations

import re

__all__ = ["chapter_number", "number_within_chapters", "setup"]

_TITLE = re.compile(r"^\s*(\d+)\.\s")


def chapter_number(title: str) -> int | None:
    """The chapter number that starts ``title`` ("4. The phase transition" -> 4), else None."""
    match = _TITLE.match(title)
    return int(match.group(1)) if match else None


def number_within_chapters(app, env) -> list[str]:
    """Renumber every numbered item of every chapter as ``(chapter, k)``; return the changed pages.

    Connected to ``env-get-updated`` after Sphinx's own numbering (which
    reassigns ``env.toc_fignumbers`` when pages change). Idempotent: items
    keep their document order, which the numbers already encode.
    """
    changed = []
    for docname, by_type in list(env.toc_fignumbers.items()):
        title = env.titles.get(docname)
        chapter = chapter_number(title.astext()) if title is not None else None
        if chapter is None:
            continue
        renumbered = {
            figtype: {node_id: (chapter, k + 1)
                      for k, node_id in enumerate(sorted(numbers, key=numbers.__getitem__))}
            for figtype, numbers in by_type.items()}
        if renumbered != by_type:
            env.toc_fignumbers[docname] = renumbered
            changed.append(docname)
    return changed


def setup(app):
    # Sphinx's TocTreeCollector assigns its numbers at the default priority (500).
    app.connect("env-get-updated", number_within_chapters, priority=900)
