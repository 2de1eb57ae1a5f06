"""Interactive explorers of the book.

Every explorer pairs a pure ``compute(**params)`` function (the update logic,
tested headlessly in ``tests/test_widgets*.py``) with a ``draw(result, axes)``
function, through :class:`Explorer`. In JupyterLab ``explorer.widget()`` shows
sliders that redraw the figure; on the static website
``explorer.small_multiples(name, values)`` draws one row of panels per value of
the main control, so the page tells its story without a kernel, and the
book build turns each ``widget()`` cell into a scrubbable player of frames
drawn by the same code over a small grid of control values declared on the
explorer's factory (``lecode.widgets._site.site_grid``).

The chapter-specific explorers live in submodules of this package, one per
concept, and are re-exported here as they land.
"""

from ._explorer import EXPLORER_MIME, Control, Explorer, LiveFigure, time_update

__all__ = ["Control", "Explorer", "LiveFigure", "time_update", "EXPLORER_MIME"]
