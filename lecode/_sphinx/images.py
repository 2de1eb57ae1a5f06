"""Figures of the book's pages load lazily (issue 11's budget: any page's initial load <= 5 MB).

Every image in a page's content (the notebooks' stored figures, figures and
images of the Markdown pages) gets ``loading="lazy"``, so a browser fetches
it when the reader scrolls near it instead of before the page's first
paint. Chapter 5, with its collapse figures, loaded 5.3 MB before this.
The explorers' players do their own lazy loading (:mod:`lecode._sphinx.player`).
"""

from __future__ import annotations

from docutils import nodes


def lazy_images(app, doctree, docname) -> None:
    """Mark every image node of ``doctree`` that says nothing else as lazily loaded (docutils' ``loading``)."""
    for image in doctree.findall(nodes.image):
        image.setdefault("loading", "lazy")


def setup(app):
    app.connect("doctree-resolved", lazy_images)
