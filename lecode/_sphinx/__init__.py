"""The book's Sphinx extension (``_config.yml``: ``extra_extensions: [lecode._sphinx]``).

Three parts, each in its own module:

* :mod:`lecode._sphinx.player` — every explorer of the book becomes a
  scrubbable player on the website: frames precomputed by the explorer's own
  ``compute``/``draw`` (:mod:`lecode.widgets._site`), switched by a small
  self-hosted script; the dead widget output is replaced by one line.
* :mod:`lecode._sphinx.numbering` — theorems, equations, exercises and
  figures numbered within their chapter (Theorem 4.2, (4.12)), the chapter
  number taken from the chapter's title ("# 4. The phase transition").
* :mod:`lecode._sphinx.images` — the pages' figures load lazily, so that a
  page's first paint does not wait for them.

Only the book build imports this package (it needs Sphinx and docutils);
``lecode`` itself does not.
"""

from __future__ import annotations

from . import images, numbering, player


def setup(app):
    images.setup(app)
    numbering.setup(app)
    player.setup(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": False}
