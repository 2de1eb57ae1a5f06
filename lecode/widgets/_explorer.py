"""The :class:`Explorer` pattern shared by every chapter's interactive figure.

Introduced in the preface (how to use explorers) and used in chapters 1–7.
"""

from __future__ import annotations

import functools
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._validate import check_choice, check_int, check_real

__all__ = ["CSS_PX_PER_INCH", "Control", "EXPLORER_MIME", "Explorer", "JPEG_QUALITY", "LiveFigure", "time_update"]


@dataclass(frozen=True)
class Control:
    """One control of an explorer: a slider (``kind`` "float", "int", "log") or a dropdown ("choice").

    Parameters
    ----------
    name : str
        Keyword passed to ``compute``.
    label : str
        Text shown next to the slider (may contain unicode such as ``α``).
    default : float, int or str
        Initial value; must lie in the allowed range.
    minimum, maximum, step : float
        Range and step of a slider (``kind="log"``: range of the value itself,
        the slider moves in log10 steps of ``step``).
    options : sequence
        Allowed values for ``kind="choice"``.
    """

    name: str
    label: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    kind: str = "float"
    options: tuple = field(default_factory=tuple)

    def __post_init__(self):
        check_choice("kind", self.kind, ("float", "int", "log", "choice"))
        if self.kind == "choice":
            if not self.options:
                raise ValueError(f"control {self.name!r}: options must be non-empty for kind='choice'")
            if self.default not in self.options:
                raise ValueError(f"control {self.name!r}: default {self.default!r} is not among options {self.options!r}")
            return
        if self.minimum is None or self.maximum is None or self.step is None:
            raise ValueError(f"control {self.name!r}: minimum, maximum and step are required for kind={self.kind!r}")
        if not self.minimum < self.maximum:
            raise ValueError(f"control {self.name!r}: minimum must be < maximum")
        if self.kind == "log" and self.minimum <= 0:
            raise ValueError(f"control {self.name!r}: a log slider needs minimum > 0")
        self.validate(self.default)

    def validate(self, value):
        """Return ``value`` if this control can take it, else raise naming the control and its range."""
        if self.kind == "choice":
            return check_choice(self.name, value, self.options)
        if self.kind == "int":
            return check_int(self.name, value, minimum=int(self.minimum), maximum=int(self.maximum))
        return check_real(self.name, value, minimum=self.minimum, maximum=self.maximum)

    def make_widget(self):
        """The ipywidgets control (imported lazily so headless use needs no front end)."""
        import ipywidgets as w

        style = {"description_width": "initial"}
        layout = w.Layout(width="320px")
        if self.kind == "choice":
            return w.Dropdown(options=list(self.options), value=self.default, description=self.label,
                              style=style, layout=layout)
        if self.kind == "int":
            return w.IntSlider(value=self.default, min=int(self.minimum), max=int(self.maximum),
                               step=int(self.step), description=self.label, continuous_update=False,
                               style=style, layout=layout)
        if self.kind == "log":
            return w.FloatLogSlider(value=self.default, base=10, min=math.log10(self.minimum),
                                    max=math.log10(self.maximum), step=self.step, description=self.label,
                                    continuous_update=False, style=style, layout=layout)
        return w.FloatSlider(value=self.default, min=self.minimum, max=self.maximum, step=self.step,
                             description=self.label, continuous_update=False, readout_format=".3g",
                             style=style, layout=layout)


class Explorer:
    """An interactive figure: controls → ``compute`` → ``draw``.

    Parameters
    ----------
    title : str
        Figure title.
    controls : sequence of Control
        The sliders and dropdowns, in display order.
    compute : callable
        ``compute(**params) -> result``: pure, seeded, fast; the update logic
        that tests call without a browser.
    draw : callable
        ``draw(result, axes, params)`` draws ``result`` into the list ``axes``
        (one row of panels) without creating figures.
    panels : sequence of dict, optional
        Keyword arguments of ``Figure.add_subplot`` for each panel, e.g.
        ``[{}, {"projection": "3d"}]``. Default: one ordinary panel.
    panel_size : (float, float)
        Width and height of one panel in inches.
    style : callable, optional
        ``style(ax, j)`` gives panel ``j`` its fixed styling, the same
        whatever the controls (tick label sizes, tick locators, 3-D panes,
        an axis switched off). It is applied to every new panel before its
        first draw, and again each time a live figure empties the panel in
        place, so it must be idempotent. Styling done here, unlike the same
        styling done in ``draw``, never forces a panel to be rebuilt (see
        :class:`LiveFigure`).
    """

    #: Where the explorer comes from and what the website precomputes
    #: (a :class:`lecode.widgets._site.SiteGrid`, set by the factory's
    #: ``lecode.widgets._site.site_grid`` decorator); None for an
    #: explorer the website does not show.
    site = None

    def __init__(self, title: str, controls: Sequence[Control], compute: Callable[..., Any],
                 draw: Callable[[Any, list, dict], None], *, panels: Sequence[dict] | None = None,
                 panel_size: tuple[float, float] = (4.0, 3.2),
                 style: Callable[[Any, int], None] | None = None):
        self.title = title
        self.controls = tuple(controls)
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"controls must have distinct names, got {names}")
        self.compute = compute
        self.draw = draw
        self.panels = tuple(panels) if panels is not None else ({},)
        self.panel_size = panel_size
        if style is not None and not callable(style):
            raise TypeError(f"style must be a callable style(ax, j) or None, got {style!r}")
        self.style = style

    # -- headless API -------------------------------------------------
    @property
    def defaults(self) -> dict:
        """The default value of every control."""
        return {c.name: c.default for c in self.controls}

    def params(self, **changes) -> dict:
        """Defaults updated with ``changes``; each value validated against its control."""
        by_name = {c.name: c for c in self.controls}
        unknown = set(changes) - set(by_name)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this explorer has {sorted(by_name)}")
        values = self.defaults
        for name, value in changes.items():
            values[name] = by_name[name].validate(value)
        return values

    def _new_figure(self, n_rows: int):
        from matplotlib.figure import Figure

        width = self.panel_size[0] * len(self.panels)
        height = self.panel_size[1] * n_rows
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = [[fig.add_subplot(n_rows, len(self.panels), r * len(self.panels) + j + 1, **kw)
                 for j, kw in enumerate(self.panels)] for r in range(n_rows)]
        for row in axes:
            for j, ax in enumerate(row):
                self._style(ax, j)
        return fig, axes

    def _style(self, ax, j: int) -> None:
        if self.style is not None:
            self.style(ax, j)

    def figure(self, **changes):
        """Compute and draw at the given control values; returns a matplotlib Figure (no pyplot state)."""
        params = self.params(**changes)
        result = self.compute(**params)
        fig, axes = self._new_figure(1)
        self.draw(result, axes[0], params)
        fig.suptitle(self.title)
        return fig

    def small_multiples(self, name: str, values: Sequence, **fixed):
        """Static figure for the website: one row of panels per value of control ``name``."""
        values = list(values)
        if not values:
            raise ValueError("values must be a non-empty sequence")
        fig, axes = self._new_figure(len(values))
        for row, value in zip(axes, values):
            params = self.params(**{**fixed, name: value})
            self.draw(self.compute(**params), row, params)
        fig.suptitle(self.title)
        return fig

    # -- interactive API ----------------------------------------------
    def live(self, **options) -> "LiveFigure":
        """A persistent figure that redraws in place; what :meth:`widget` uses (see :class:`LiveFigure`)."""
        return LiveFigure(self, **options)

    def widget(self):
        """An ipywidgets box: the controls above the figure, redrawn on every change.

        The figure is rendered by :class:`LiveFigure` (at twice the resolution
        it is shown at, JPEG) and shown in an ``ipywidgets.Image`` sized to
        the static figures of the book (``CSS_PX_PER_INCH``) and never wider
        than the output area, so an update costs one compute, one draw and
        one fast encoding.

        Besides the widget view, the box's display output carries the plain
        text ``Run this cell to start the explorer: <title>`` (what a front end
        without the live widget, or a notebook opened before it runs, shows)
        and, for an explorer with a site grid (:attr:`site`), the
        ``application/vnd.lecode.explorer+json`` data and output metadata
        naming its module and factory, from which the book build draws the
        website's player (``lecode._sphinx``).
        """
        import ipywidgets as w

        controls = {c.name: c.make_widget() for c in self.controls}
        live = self.live()
        value = live.update()
        width, _ = live.css_size
        image = w.Image(value=value, format=live.image_format,
                        layout=w.Layout(width=f"{width}px", max_width="100%", height="auto"))

        def redraw(_change=None):
            image.value = live.update(**{name: ctl.value for name, ctl in controls.items()})

        for ctl in controls.values():
            ctl.observe(redraw, names="value")
        box = w.GridBox(list(controls.values()),
                        layout=w.Layout(grid_template_columns="repeat(2, 340px)"))
        # flex-start: the image keeps its own width instead of being stretched to the box's
        view = _explorer_box_class()([box, image], layout=w.Layout(align_items="flex-start"))
        view._lecode_bundle = self.display_bundle()
        return view

    def display_bundle(self) -> tuple[dict, dict]:
        """The non-widget part of :meth:`widget`'s display output: ``(data, metadata)``.

        ``data`` always has ``text/plain``; an explorer with a site grid adds
        ``EXPLORER_MIME`` (module, factory, title) and the metadata
        ``{"lecode": {"explorer": {"module", "factory"}}}``.
        """
        data = {"text/plain": f"Run this cell to start the explorer: {self.title}"}
        metadata = {}
        if self.site is not None:
            module, factory = self.site.factory.split(":")
            data[EXPLORER_MIME] = {"module": module, "factory": factory, "title": self.title}
            metadata["lecode"] = {"explorer": {"module": module, "factory": factory}}
        return data, metadata


#: Mime type of an explorer's reference in a notebook output (read by the book build).
EXPLORER_MIME = "application/vnd.lecode.explorer+json"


@functools.lru_cache(maxsize=None)
def _explorer_box_class():
    """An ``ipywidgets.VBox`` whose display output adds :meth:`Explorer.display_bundle`."""
    import ipywidgets as w

    class ExplorerBox(w.VBox):
        def _repr_mimebundle_(self, **kwargs):
            data = dict(super()._repr_mimebundle_(**kwargs) or {})
            extra, metadata = getattr(self, "_lecode_bundle", ({}, {}))
            data.update(extra)
            return data, metadata

    return ExplorerBox


#: CSS pixels per inch of figure at which live figures are shown: the book's figure dpi
#: (``lecode.plots.use_book_style``), so that a live figure appears at the size of the
#: static figures beside it.
CSS_PX_PER_INCH = 80

#: JPEG quality of live figures; with full-resolution colour (4:4:4) and two image pixels
#: per CSS pixel it cannot be told from the PNG (tests/test_widgets.py bounds the difference).
JPEG_QUALITY = 90


class LiveFigure:
    """One figure of an explorer, kept between updates and redrawn in place.

    The first update lays the panels out (constrained layout); later updates
    empty the panels, draw, and render with that layout frozen, which is what
    makes an interactive update cheap. After each render the layout is
    checked (:meth:`fits`): if a panel's tick labels, axis labels or title
    now reach outside the figure or into another panel (wider tick labels
    after a slider move, say), the panels are laid out again and the figure
    is redrawn before it is sent, so no update shows a clipped label.

    Parameters
    ----------
    explorer : Explorer
        What to compute and draw.
    pixel_ratio : float
        Image pixels per CSS pixel (at least 1; default 2, crisp on hi-dpi
        screens). The figure is shown ``CSS_PX_PER_INCH`` CSS pixels per inch
        wide, so it is rendered at ``dpi = CSS_PX_PER_INCH * pixel_ratio``.
    image_format : {"jpeg", "png"}
        Encoding of the rendered image. JPEG (quality ``JPEG_QUALITY``, no
        chroma subsampling) encodes several times faster than PNG at the same
        size here; PNG is lossless (the tests compare pixels with it).
    reuse_axes : bool
        If true (default), panels that were only given data, labels, limits,
        a scale, tick locators or formatters, an aspect or a legend are
        emptied without being rebuilt (see ``_reset_axes``); if false, every
        panel is replaced by a new one before each draw. Both give the same
        pixels; the first is faster.

    Attributes
    ----------
    relayouts : int
        How many renders needed a new layout (the first one excluded).
    timings : collections.deque
        The last 1000 rendered updates, each a dict of seconds spent in
        ``compute``, ``draw`` (emptying the panels and drawing into them),
        ``render`` (matplotlib's draw, a relayout included) and ``encode``,
        with ``bytes`` (image size), ``relayout`` and ``end`` (``time.time()``
        when the image was ready). ``benchmarks/bench_frontend.py`` reads
        them from the kernel to split a slider move's latency in the page.
    """

    def __init__(self, explorer: Explorer, *, pixel_ratio: float = 2.0, image_format: str = "jpeg",
                 reuse_axes: bool = True):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.explorer = explorer
        self.pixel_ratio = check_real("pixel_ratio", pixel_ratio, minimum=1.0, maximum=4.0)
        self.image_format = check_choice("image_format", image_format, ("jpeg", "png"))
        if not isinstance(reuse_axes, bool):
            raise TypeError(f"reuse_axes must be True or False, got {reuse_axes!r}")
        self.reuse_axes = reuse_axes
        self.dpi = CSS_PX_PER_INCH * self.pixel_ratio
        self.figure, rows = explorer._new_figure(1)
        self.figure.set_dpi(self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = rows[0]
        self._pristine = [_Pristine(ax) for ax in self.axes]
        self._drawn = False
        self._frozen = False
        self.relayouts = 0
        self.timings: deque = deque(maxlen=1000)
        self._drawn_texts: set = set()
        self._drawn_ticks: dict = {}
        # skip matplotlib's automatic title placement where it is a no-op (see _render)
        self._place_titles_once = True

    @property
    def css_size(self) -> tuple[int, int]:
        """Width and height, in CSS pixels, at which the figure is meant to be shown."""
        width, height = self.figure.get_size_inches()
        return round(width * CSS_PX_PER_INCH), round(height * CSS_PX_PER_INCH)

    def update(self, *, render: bool = True, **changes) -> bytes | None:
        """Compute and draw at the given control values; return the encoded image if ``render``."""
        start = time.perf_counter()
        params = self.explorer.params(**changes)
        result = self.explorer.compute(**params)
        computed = time.perf_counter()
        if self._drawn and not self._frozen:      # an earlier draw failed before the first render
            for j, ax in enumerate(self.axes):
                ax.cla()
                self._restyle(j)
        elif self._drawn:
            for j, pristine in enumerate(self._pristine):
                if self.reuse_axes and _reset_axes(self.axes[j], pristine):
                    if self.explorer.style is not None:
                        self._restyle(j)
                else:
                    self._replace_panel(j)
        self._drawn = True
        self.explorer.draw(result, self.axes, params)
        self.figure.suptitle(self.explorer.title)
        if not render and self._frozen:
            return None
        drawn = time.perf_counter()
        # The first draw lays the figure out (constrained layout) and the layout is then
        # frozen; a later draw that no longer fits it is laid out and drawn once more.
        self._render()
        relayout = False
        if not self._frozen:
            self.figure.set_layout_engine("none")
            self._frozen = True
        elif not self.fits():
            self._layout()
            self._render()
            self.relayouts += 1
            relayout = True
        rendered = time.perf_counter()
        image = self._encode()
        end = time.perf_counter()
        self.timings.append({"compute": computed - start, "draw": drawn - computed,
                             "render": rendered - drawn, "encode": end - rendered,
                             "bytes": len(image), "relayout": relayout, "end": time.time()})
        return image

    def fits(self) -> bool:
        """Whether the last render fits its layout.

        True if the extent of every panel's decorations (tick labels, axis
        labels, titles, legend, texts; titles and x labels by their height, as
        constrained layout counts them) and of the figure title lie inside the
        figure and do not overlap each other. Needs a render (``update``).
        The extents are those of :meth:`layout_boxes`.
        """
        return _boxes_fit(self.layout_boxes(), self.figure.bbox.width, self.figure.bbox.height)

    def layout_boxes(self) -> list:
        """Window extents (pixels) of each panel with its decorations, then of the figure title, as last rendered.

        Each panel's box is what ``Axes.get_tightbbox(for_layout_only=True)``
        returns (what constrained layout lays out), but taken from the last
        render instead of recomputed: the texts the render drew (tick labels,
        axis labels, offset texts, titles) are recorded while it draws,
        and their extents are read from their cached
        layout; matplotlib's own ``get_tightbbox`` would first locate and
        format every axis's ticks again, which costs about a third of a
        render. 3-D panels, whose axes matplotlib places at draw time, use
        ``get_tightbbox`` itself. ``tests/test_widgets.py`` checks that both
        give the same boxes for every explorer of the book.
        """
        renderer = self.canvas.get_renderer()
        boxes = [_panel_box(ax, renderer, self._drawn_texts, self._drawn_ticks) for ax in self.axes]
        boxes = [b for b in boxes if b is not None]
        suptitle = self.figure._suptitle
        if suptitle is not None and suptitle.get_text():
            boxes.append(suptitle.get_window_extent(renderer))
        return boxes

    def _render(self) -> None:
        """Draw the figure on the Agg canvas, recording which texts were drawn (for :meth:`layout_boxes`).

        Once the layout is frozen, panels whose titles matplotlib would leave
        at their default height anyway (:func:`_titles_stay_put`) are drawn
        with automatic title placement switched off: that placement locates
        and formats the panel's y ticks once more at every render, for
        nothing. If the render shows that a title should have moved (a y
        offset text appeared, or a title dips into the panel), the figure is
        drawn again with automatic placement. ``tests/test_widgets.py``
        checks that every explorer renders the same pixels either way.
        """
        fixed = ([ax for ax in self.axes if _titles_stay_put(ax)]
                 if self._frozen and self._place_titles_once else [])
        for ax in fixed:
            for title in (ax.title, ax._left_title, ax._right_title):
                title.set_y(1.0)
            ax._autotitlepos = False
        try:
            self._draw_recording_texts()
        finally:
            for ax in fixed:
                ax._autotitlepos = True
        renderer = self.canvas.get_renderer()
        if not all(_titles_stayed_put(ax, renderer) for ax in fixed):
            self._draw_recording_texts()

    def _draw_recording_texts(self) -> None:
        renderer = self.canvas.get_renderer()
        drawn: set = set()
        draw_text = renderer.draw_text

        def recording_draw_text(gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if mtext is not None:
                drawn.add(id(mtext))
            return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

        # and which ticks each axis drew (what Axis._update_ticks returns; the spines' extents need them)
        drawn_ticks: dict = {}
        axes = [axis for ax in self.axes if ax.name == "rectilinear" for axis in (ax.xaxis, ax.yaxis)]
        for axis in axes:
            def recording_update_ticks(update=axis._update_ticks, key=id(axis)):
                drawn_ticks[key] = update()
                return drawn_ticks[key]
            axis._update_ticks = recording_update_ticks

        renderer.draw_text = recording_draw_text
        try:
            self.canvas.draw()
        finally:
            del renderer.draw_text                # back to the class's method
            for axis in axes:
                del axis._update_ticks
        if self.canvas.get_renderer() is not renderer:   # the canvas made a new renderer (new size)
            raise RuntimeError("the figure's renderer changed during a render")
        self._drawn_texts = drawn
        self._drawn_ticks = drawn_ticks

    def _layout(self) -> None:
        """Lay the panels out again for what they hold now (constrained layout, once)."""
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        ConstrainedLayoutEngine().execute(self.figure)

    def _encode(self) -> bytes:
        return _encode_canvas(self.canvas, self.image_format)

    def _replace_panel(self, j: int) -> None:
        """Put a new, empty panel ``j`` where the old one was (same grid cell and position)."""
        old = self.axes[j]
        position = old.get_position(original=True)
        spec = old.get_subplotspec()
        self.figure.delaxes(old)
        self.axes[j] = self.figure.add_subplot(spec, **self.explorer.panels[j])
        self.axes[j].set_position(position)
        self.axes[j].set_in_layout(True)       # set_position takes a panel out of the layout
        self._restyle(j)

    def _restyle(self, j: int) -> None:
        """Apply the explorer's fixed styling to panel ``j`` and take its state as the pristine one."""
        self.explorer._style(self.axes[j], j)
        self._pristine[j] = _Pristine(self.axes[j])


def _titles_stay_put(ax) -> bool:
    """Whether matplotlib's automatic title placement (``Axes._update_title_position``, 3.10) would
    leave the titles of ``ax`` at their default height, judging by the panel's last render.

    It moves titles only above top ticks or a top x label, above a y offset
    text (such as "1e6") that they overlap, to line up with twinned,
    child or aligned panels, or when a title would dip into the panel.
    The last two are checked after the render (:func:`_titles_stayed_put`).
    """
    if ax.name != "rectilinear" or ax._autotitlepos is not True or ax.child_axes:
        return False
    if len(ax._twinned_axes.get_siblings(ax)) > 1:
        return False
    if len(ax.get_figure(root=False)._align_label_groups["title"].get_siblings(ax)) > 1:
        return False
    if ax.xaxis.get_ticks_position() in ("top", "unknown") or ax.xaxis.get_label_position() == "top":
        return False
    return not ax.yaxis.offsetText.get_text()


def _titles_stayed_put(ax, renderer) -> bool:
    """After a render with fixed titles: no y offset text appeared and no title dips into the panel."""
    if ax.yaxis.offsetText.get_text():
        return False
    top = ax.get_window_extent(renderer).ymax
    return all(t.get_window_extent(renderer).ymin >= top
               for t in (ax.title, ax._left_title, ax._right_title) if t.get_text())


def _boxes_fit(boxes, width: float, height: float, tol: float = 0.5) -> bool:
    """Whether every box lies inside a ``width`` x ``height`` figure (within ``tol`` pixels of rounding) and no two overlap."""
    for b in boxes:
        if b.x0 < -tol or b.y0 < -tol or b.x1 > width + tol or b.y1 > height + tol:
            return False
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a.x1, b.x1) - max(a.x0, b.x0) > tol
                    and min(a.y1, b.y1) - max(a.y0, b.y0) > tol):
                return False
    return True


def _collapsed(bbox, direction: str):
    """``bbox`` with its width (``"x"``) or height (``"y"``) collapsed to one pixel about its centre, as
    ``get_tightbbox(for_layout_only=True)`` counts titles, x labels (width) and y labels (height)."""
    from matplotlib.transforms import Bbox

    x0, y0, x1, y1 = bbox.x0, bbox.y0, bbox.x1, bbox.y1
    if direction == "x" and bbox.width > 0:
        x0 = (x0 + x1) / 2 - 0.5
        x1 = x0 + 1.0
    if direction == "y" and bbox.height > 0:
        y0 = (y0 + y1) / 2 - 0.5
        y1 = y0 + 1.0
    return Bbox([[x0, y0], [x1, y1]])


def _panel_box(ax, renderer, drawn_texts: set, drawn_ticks: dict):
    """The extent of panel ``ax`` and its decorations as last rendered (see :meth:`LiveFigure.layout_boxes`).

    The same parts as ``Axes.get_tightbbox(renderer, for_layout_only=True)``
    (matplotlib 3.10): the panel itself; for each visible axis, its drawn
    tick labels, its offset text and its label (collapsed across); the
    titles (collapsed to their height); the other children that are not
    clipped to the panel (legends by their frame as drawn, spines with the
    ticks the render drew, anything else by its own ``get_tightbbox``).
    """
    from matplotlib.legend import Legend
    from matplotlib.spines import Spine
    from matplotlib.transforms import Bbox

    if not ax.get_visible():
        return None
    if ax.name != "rectilinear":
        return ax.get_tightbbox(renderer, for_layout_only=True)
    parts = []

    def usable(b):
        return b is not None and 0 < b.width < np.inf and 0 < b.height < np.inf

    if ax.axison:
        for axis in (ax.xaxis, ax.yaxis):
            if not (axis.get_visible() and axis.get_in_layout()):
                continue
            texts = [axis.offsetText] if axis.offsetText.get_visible() else []
            texts += [label for tick in (*axis.majorTicks, *axis.minorTicks)
                      for label in (tick.label1, tick.label2) if id(label) in drawn_texts]
            boxes = [t.get_window_extent(renderer) for t in texts]
            if axis.label.get_visible():
                boxes.append(_collapsed(axis.label.get_window_extent(renderer), axis.axis_name))
            boxes = [b for b in boxes if usable(b)]
            if boxes:
                parts.append(Bbox.union(boxes))
    parts.append(ax.get_window_extent(renderer))
    for title in (ax.title, ax._left_title, ax._right_title):
        if title.get_visible():
            parts.append(_collapsed(title.get_window_extent(renderer), "x"))
    for artist in ax.get_default_bbox_extra_artists():
        if isinstance(artist, Legend):
            patch = artist.legendPatch              # its bounds are set to the legend's box at each draw
            box = Bbox.from_bounds(patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height())
        elif isinstance(artist, Spine) and id(getattr(artist, "axis", None)) in drawn_ticks:
            # a spine's extent includes its axis's drawn tick marks; matplotlib would locate
            # and format the ticks again to find them, so it is handed those of the render
            axis = artist.axis
            axis._update_ticks = lambda: drawn_ticks[id(axis)]
            try:
                box = artist.get_tightbbox(renderer)
            finally:
                del axis._update_ticks
        else:                                       # texts read their cached layout
            box = artist.get_tightbbox(renderer)
        if usable(box):
            parts.append(box)
    return Bbox.union([b for b in parts if b.width != 0 or b.height != 0])   # an empty title is a point


def _encode_canvas(canvas, image_format: str) -> bytes:
    """The last render of an Agg ``canvas`` as JPEG (``JPEG_QUALITY``, 4:4:4) or PNG (fast zlib level 1) bytes."""
    import io

    from PIL import Image

    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    if image_format == "jpeg":
        image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _axes_of(ax):
    """The x, y (and, on a 3-D panel, z) :class:`matplotlib.axis.Axis` of a panel."""
    return (ax.xaxis, ax.yaxis) + ((ax.zaxis,) if hasattr(ax, "zaxis") else ())


def _tick_state(ax):
    """What a draw may leave on the ticks of ``ax`` beyond scales, locators and formatters.

    The tick settings of every axis (``tick_params``, grid) and the text
    properties of its first major and minor tick labels (``set_xticks(ticks,
    labels, **text_props)`` applies text properties to every tick label, and
    new ticks copy them from the first). ``None`` if this matplotlib keeps
    tick settings elsewhere.
    """
    try:
        settings = tuple(dict(kw) for axis in _axes_of(ax)
                         for kw in (axis._major_tick_kw, axis._minor_tick_kw))
    except AttributeError:
        return None
    def line(li):
        return li.get_visible(), str(li.get_color()), li.get_linewidth(), li.get_linestyle()

    def label(t):
        return (t.get_rotation(), t.get_rotation_mode(), t.get_fontsize(), t.get_fontweight(),
                t.get_fontstyle(), tuple(t.get_fontfamily()), str(t.get_color()), t.get_alpha(),
                t.get_horizontalalignment(), t.get_verticalalignment(), t.get_visible(),
                t.get_bbox_patch() is None)

    # The distinct looks over every tick object the axis holds (a panel gains tick objects
    # as it needs them, all alike unless a draw styled some): labels, tick marks, grid line.
    # (A 3-D panel restyles its tick lines at every render, so only its labels count.)
    parts = (("label1", label), ("label2", label))
    if ax.name != "3d":
        parts += (("tick1line", line), ("tick2line", line), ("gridline", line))
    looks = tuple(
        frozenset(part(getattr(tick, name)) for tick in ticks)
        for axis in _axes_of(ax)
        for ticks in (axis.majorTicks, axis.minorTicks)
        for name, part in parts)
    return settings, looks


def _text_look(t):
    return (str(t.get_color()), t.get_fontweight(), t.get_fontstyle(), t.get_rotation(),
            t.get_visible(), t.get_bbox_patch() is None)


def _look(ax):
    """Panel properties that ``draw`` may change and the in-place reset does not restore.

    Compared with the pristine panel before every reset: any difference (axis
    switched off, frame, face colour, spines, hidden axes, label or tick
    sides, title colour or position, child axes such as insets, shared
    axes, the 3-D view and panes) makes the panel customised, and it is
    replaced instead of reset. Positions that every render recomputes are
    left out.
    """
    def call(name):                        # some getters are switched off on 3-D panels
        getter = getattr(ax, name, None)
        value = getter() if callable(getter) else None
        return tuple(value) if isinstance(value, np.ndarray) else value

    look = [ax.axison, call("get_frame_on"), tuple(ax.get_facecolor()), len(ax.child_axes),
            call("get_box_aspect"),
            tuple((name, spine.get_visible(), str(spine.get_position()), str(spine.get_edgecolor()),
                   spine.get_linewidth()) for name, spine in ax.spines.items()),
            tuple(_text_look(t) + (t.get_position()[0],)
                  for t in (ax.title, getattr(ax, "_left_title", ax.title),
                            getattr(ax, "_right_title", ax.title))),
            tuple(len(group.get_siblings(ax)) for group in
                  (ax.get_shared_x_axes(), ax.get_shared_y_axes()))]
    for axis in _axes_of(ax):
        look.append((axis.get_visible(), axis.get_label_position(), axis.get_ticks_position()))
    if ax.name == "3d":
        look.append((ax.elev, ax.azim, getattr(ax, "roll", None), getattr(ax, "_axis3don", None)))
        look.extend((tuple(axis.pane.get_facecolor()), tuple(axis.pane.get_edgecolor()),
                     axis.pane.get_fill(), axis.pane.get_visible()) for axis in _axes_of(ax))
    return tuple(look)


def _tickers(axis):
    return (axis.get_major_locator(), axis.get_minor_locator(),
            axis.get_major_formatter(), axis.get_minor_formatter())


def _ticker_settings(ticker):
    """Settings of a locator or formatter that ``draw`` could change in place.

    ``locator_params`` edits the locator object itself and ``ticklabel_format``
    the formatter, so a reset that only checks which objects are installed
    would miss them. Locators: their attributes (not the axis they serve);
    scalar formatters: their offset, mathtext and locale switches (their other
    attributes change at every render).
    """
    from matplotlib.ticker import Locator, ScalarFormatter

    if isinstance(ticker, Locator):
        return tuple(sorted((k, repr(v)) for k, v in vars(ticker).items() if k != "axis"))
    if isinstance(ticker, ScalarFormatter):
        return (ticker.get_useOffset(), ticker.get_useMathText(), ticker.get_useLocale())
    return None


class _Pristine:
    """A new panel's state after its fixed styling (:attr:`Explorer.style`): what a reset restores."""

    def __init__(self, ax):
        self.ticks = _tick_state(ax)
        self.scales = [axis.get_scale() for axis in _axes_of(ax)]
        self.tickers = [_tickers(axis) for axis in _axes_of(ax)]
        self.defaults = [(axis.isDefault_majloc, axis.isDefault_minloc, axis.isDefault_majfmt,
                          axis.isDefault_minfmt) for axis in _axes_of(ax)]
        self.settings = [tuple(_ticker_settings(t) for t in tickers) for tickers in self.tickers]
        self.limits = [tuple(getattr(ax, f"get_{axis.axis_name}lim")()) for axis in _axes_of(ax)]
        self.margins = tuple(ax.margins())
        self.look = _look(ax)
        self.labels = [(axis.labelpad, axis.label.get_color(), axis.label.get_fontweight(),
                        axis.label.get_fontstyle(), axis.label.get_rotation(),
                        axis.label.get_fontsize()) for axis in _axes_of(ax)]


def _reset_axes(ax, pristine: _Pristine) -> bool:
    """Empty ``ax`` for the next draw, keeping its ticks, spines and labels; True if it could.

    A new panel (or ``Axes.cla``) rebuilds every tick, spine and label, and the
    next render lays each of them out again: about a third of an update. When
    the panel has only been given data, legends, titles, axis labels, limits,
    margins, a scale, tick locators or formatters (tick labels given as
    plain text included), an aspect or a colour cycle, this removes or resets
    exactly those to the panel's state after its fixed styling
    (:class:`_Pristine`), keeps the rest, and returns True; the caller then
    applies ``Explorer.style`` again. For panels customised further by
    ``draw`` (see :func:`_tick_state` and :func:`_look`) it does nothing and
    returns False: :class:`LiveFigure` then replaces the panel.
    ``tests/test_widgets.py`` checks, for every explorer of the book, that a
    live figure updated in place renders the same pixels as one whose panels
    are new at every update.
    """
    if ax.name not in ("rectilinear", "3d") or pristine.ticks is None:
        return False
    # per axis, per locator/formatter: (still the pristine object, with its pristine settings)
    tickers = [[(now is then, now is then and _ticker_settings(now) == setting)
                for now, then, setting in zip(_tickers(axis), pristine_tickers, settings)]
               for axis, pristine_tickers, settings in zip(_axes_of(ax), pristine.tickers,
                                                           pristine.settings)]
    customised = (
        _tick_state(ax) != pristine.ticks
        or _look(ax) != pristine.look
        # a styled locator or formatter edited in place cannot be restored (a default one can)
        or any(same and not intact and not default
               for states, defaults in zip(tickers, pristine.defaults)
               for (same, intact), default in zip(states, defaults))
    )
    if customised:
        return False
    for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images, *ax.artists,
                   *ax.tables):
        artist.remove()
    ax.containers.clear()                  # bar, errorbar and stem containers (legend entries)
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)          # set_title also restores the default font
    for axis, (pad, color, weight, style, rotation, size) in zip(_axes_of(ax), pristine.labels):
        axis.labelpad = pad
        axis.label.set_text("")
        axis.label.update(dict(color=color, fontweight=weight, fontstyle=style, rotation=rotation,
                               fontsize=size))
    # Setting the scale installs new default locators and formatters (also undoing in-place
    # edits such as ``locator_params``); then the styled ones go back.
    for axis, scale, states, pristine_tickers, defaults in zip(
            _axes_of(ax), pristine.scales, tickers, pristine.tickers, pristine.defaults):
        if axis.get_scale() == scale and all(intact for _, intact in states):
            continue
        getattr(ax, f"set_{axis.axis_name}scale")(scale)
        setters = (axis.set_major_locator, axis.set_minor_locator, axis.set_major_formatter,
                   axis.set_minor_formatter)
        for setter, ticker, default in zip(setters, pristine_tickers, defaults):
            if not default:
                setter(ticker)
    # Margins first (setting them asks for autoscaling), then the new panel's limits, which
    # also undo inversions; autoscaling takes over as soon as the next draw adds data.
    ax.margins(*pristine.margins)
    for axis, limits in zip(_axes_of(ax), pristine.limits):
        getattr(ax, f"set_{axis.axis_name}lim")(*limits)
    ax.set_aspect("auto", adjustable="box")
    ax.set_prop_cycle(None)
    ax.relim()
    ax.set_autoscale_on(True)
    return True


def time_update(explorer: Explorer, *, repeats: int = 7, render: bool = True, **changes) -> float:
    """Median wall time in seconds of one interactive update of ``explorer``.

    An update is what a slider move costs in JupyterLab: ``compute`` at the
    given control values, ``draw`` into the explorer's live figure and, if
    ``render``, the PNG render. The first (layout) render is done before
    timing. Used by ``benchmarks/bench_widgets.py``; never by timed assertions
    in tests.
    """
    repeats = check_int("repeats", repeats, minimum=1)
    live = explorer.live()
    live.update(**changes)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        live.update(render=render, **changes)
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))
