"""The :class:`Explorer` pattern shared by every chapter's interactive figure.

Introduced in the preface (how to use explorers) and used in chapters 1–7.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._validate import check_choice, check_int, check_real

__all__ = ["Control", "Explorer", "LiveFigure", "time_update"]


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
        ``style(ax, j)`` gives new panel ``j`` its fixed styling, the same
        whatever the controls (tick label sizes, tick locators, 3-D panes).
        It is applied to every new panel before its first draw; a live
        figure keeps it when it empties the panel for the next update, so
        styling done here, unlike styling done in ``draw``, never forces a
        panel to be rebuilt (see :class:`LiveFigure`).
    """

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
    def live(self, *, reuse_axes: bool = True) -> "LiveFigure":
        """A persistent figure that redraws in place; what :meth:`widget` uses (see :class:`LiveFigure`)."""
        return LiveFigure(self, reuse_axes=reuse_axes)

    def widget(self):
        """An ipywidgets box: the controls above the figure, redrawn on every change.

        The figure is rendered to PNG by :class:`LiveFigure` and shown in an
        ``ipywidgets.Image``, so an update costs one compute, one draw and one
        render, without re-laying out the figure.
        """
        import ipywidgets as w

        controls = {c.name: c.make_widget() for c in self.controls}
        live = self.live()
        image = w.Image(value=live.update(), format="png")

        def redraw(_change=None):
            image.value = live.update(**{name: ctl.value for name, ctl in controls.items()})

        for ctl in controls.values():
            ctl.observe(redraw, names="value")
        box = w.GridBox(list(controls.values()),
                        layout=w.Layout(grid_template_columns="repeat(2, 340px)"))
        return w.VBox([box, image])


class LiveFigure:
    """One figure of an explorer, kept between updates and redrawn in place.

    The first update lays the panels out (constrained layout); later updates
    clear the axes, draw, and render to PNG with that layout frozen, which is
    what makes an interactive update cheap.

    Parameters
    ----------
    explorer : Explorer
        What to compute and draw.
    dpi : int
        Resolution of the PNG (at least 20).
    reuse_axes : bool
        If true (default), panels that were only given data, labels, limits,
        a scale, tick locators or formatters, an aspect or a legend are
        emptied without being rebuilt (see ``_reset_axes``); if false, every
        panel is replaced by a new one before each draw. Both give the same
        pixels; the first is faster.
    """

    def __init__(self, explorer: Explorer, dpi: int = 72, *, reuse_axes: bool = True):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.explorer = explorer
        self.dpi = check_int("dpi", dpi, minimum=20)
        if not isinstance(reuse_axes, bool):
            raise TypeError(f"reuse_axes must be True or False, got {reuse_axes!r}")
        self.reuse_axes = reuse_axes
        self.figure, rows = explorer._new_figure(1)
        self.figure.set_dpi(self.dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = rows[0]
        self._pristine = [_Pristine(ax) for ax in self.axes]
        self._drawn = False
        self._frozen = False

    def update(self, *, render: bool = True, **changes) -> bytes | None:
        """Compute and draw at the given control values; return PNG bytes if ``render``."""
        import io

        params = self.explorer.params(**changes)
        result = self.explorer.compute(**params)
        if self._drawn and not self._frozen:      # an earlier draw failed before the first render
            for ax in self.axes:
                ax.cla()
        elif self._drawn:
            for j, pristine in enumerate(self._pristine):
                if not (self.reuse_axes and _reset_axes(self.axes[j], pristine)):
                    self._replace_panel(j)
        self._drawn = True
        self.explorer.draw(result, self.axes, params)
        self.figure.suptitle(self.explorer.title)
        if not render and self._frozen:
            return None
        buffer = io.BytesIO()
        # The canvas is drawn once per update: ``savefig`` would add a second,
        # invisible draw whenever the figure has (or had) a layout engine.
        self.canvas.print_png(buffer, pil_kwargs={"compress_level": 1})
        if not self._frozen:
            self.figure.set_layout_engine("none")
            self._frozen = True
        return buffer.getvalue()

    def _replace_panel(self, j: int) -> None:
        """Put a new, empty panel ``j`` where the old one was (the layout is frozen)."""
        old = self.axes[j]
        position = old.get_position(original=True)
        self.figure.delaxes(old)
        self.axes[j] = self.figure.add_axes(position, **self.explorer.panels[j])
        self.explorer._style(self.axes[j], j)
        self._pristine[j] = _Pristine(self.axes[j])


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
    labels = tuple(
        (t.get_rotation(), t.get_rotation_mode(), t.get_fontsize(), t.get_fontweight(),
         t.get_fontstyle(), tuple(t.get_fontfamily()), str(t.get_color()), t.get_alpha(),
         t.get_horizontalalignment(), t.get_verticalalignment(), t.get_visible(),
         t.get_bbox_patch() is None)
        for axis in _axes_of(ax)
        for ticks in (axis.majorTicks, axis.minorTicks) if len(ticks)
        for t in (ticks[0].label1, ticks[0].label2))
    return settings, labels


def _tickers(axis):
    return (axis.get_major_locator(), axis.get_minor_locator(),
            axis.get_major_formatter(), axis.get_minor_formatter())


class _Pristine:
    """A new panel's state after its fixed styling (:attr:`Explorer.style`): what a reset restores."""

    def __init__(self, ax):
        self.ticks = _tick_state(ax)
        self.scales = [axis.get_scale() for axis in _axes_of(ax)]
        self.tickers = [_tickers(axis) for axis in _axes_of(ax)]
        self.defaults = [(axis.isDefault_majloc, axis.isDefault_minloc, axis.isDefault_majfmt,
                          axis.isDefault_minfmt) for axis in _axes_of(ax)]


def _reset_axes(ax, pristine: _Pristine) -> bool:
    """Empty ``ax`` for the next draw, keeping its ticks, spines and labels; True if it could.

    A new panel (or ``Axes.cla``) rebuilds every tick, spine and label, and the
    next render lays each of them out again: about a third of an update. When
    the panel has only been given data, titles, axis labels, limits, a scale,
    tick locators or formatters (tick labels given as text included, without
    text properties), an aspect or a legend, this removes or resets exactly
    those to the panel's state after its fixed styling (``Explorer.style``),
    keeps the rest, and returns True. For panels customised further by
    ``draw`` (``tick_params``, grid changes, text properties of tick labels:
    see :func:`_tick_state`) it does nothing and returns False:
    :class:`LiveFigure` then replaces the panel. ``tests/test_widgets.py``
    checks, for every explorer of the book, that a live figure updated in
    place renders the same pixels as one whose panels are new at every
    update.
    """
    import matplotlib as mpl

    customised = (
        ax.name not in ("rectilinear", "3d")
        or pristine.ticks is None
        or _tick_state(ax) != pristine.ticks
    )
    if customised:
        return False
    for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images, *ax.artists,
                   *ax.tables):
        artist.remove()
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)          # set_title also restores the default font
    for axis in _axes_of(ax):
        axis.label.set_text("")
        axis.label.set_fontsize(mpl.rcParams["axes.labelsize"])
    # Setting the scale restores its default locators and formatters; then the styled ones.
    for axis, scale, tickers, defaults in zip(_axes_of(ax), pristine.scales, pristine.tickers,
                                              pristine.defaults):
        if axis.get_scale() == scale and all(now is then for now, then in zip(_tickers(axis), tickers)):
            continue
        getattr(ax, f"set_{axis.axis_name}scale")(scale)
        setters = (axis.set_major_locator, axis.set_minor_locator, axis.set_major_formatter,
                   axis.set_minor_formatter)
        for setter, ticker, default in zip(setters, tickers, defaults):
            if not default:
                setter(ticker)
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
