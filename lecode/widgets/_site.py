"""Explorers on the static website: frames precomputed over a grid of control values.

The website has no kernel, so it cannot run an explorer; it can show the
explorer's own figures, computed by the book build at a few values of one or
two of its main controls, and let the reader switch between them (the
preface says how to use explorers; every chapter 1-8 has one).

Each explorer module declares its grid with :func:`site_grid` on its
factory::

    @site_grid(beta=(0.5, 0.75, 1.0, 1.25, 1.5), t=(5.0, 15.0, 30.0, 60.0))
    def make_explorer() -> Explorer: ...

and every frame is drawn by :func:`render_frames` through the explorer's
:class:`~lecode.widgets.LiveFigure` (the same ``compute`` and ``draw`` as the
JupyterLab widget, the other controls at their defaults), at twice the live
figure's resolution so that it is sharp on a 2x screen, and stored as
lossless WebP. The book's Sphinx extension (:mod:`lecode._sphinx`) finds the
explorers in the executed chapters, renders their frames once (cached by
content) and puts a small player in place of the live widget.
"""

from __future__ import annotations

import functools
import importlib
import io
import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from .._validate import check_int

__all__ = ["SITE_DPI", "SiteGrid", "site_grid", "grid_points", "frame_name", "frame_alt",
           "render_frames", "encode_frame", "explorer_from_factory", "site_spec"]

#: Resolution of the website's frames: two image pixels per CSS pixel of the live figure
#: (``CSS_PX_PER_INCH`` = 80 CSS px per inch of figure), crisp on 2x screens.
SITE_DPI = 160
#: At most this many controls and values per control in a grid (the site stores every combination).
MAX_CONTROLS = 2
MAX_VALUES = 12


@dataclass(frozen=True)
class SiteGrid:
    """Where an explorer comes from and which control values the website precomputes.

    Attributes
    ----------
    factory : str
        ``"module:function"`` that builds the explorer without arguments.
    values : tuple of (str, tuple)
        ``(control name, values)`` per site control, in display order; every
        other control stays at its default.
    """

    factory: str
    values: tuple

    @property
    def names(self) -> tuple:
        return tuple(name for name, _ in self.values)

    @property
    def shape(self) -> tuple:
        return tuple(len(vals) for _, vals in self.values)


def site_grid(**values: Sequence) -> Callable:
    """Decorator of an explorer factory: the grid of control values shown on the website.

    Parameters
    ----------
    **values : sequence
        For one or two controls (keyword order is display order), the values a
        reader would try first, 2 to 12 of them; each must be a value the
        control accepts, and the control's default must be among them (it is
        the frame the page opens with).

    Returns
    -------
    callable
        A decorator; the decorated factory returns the same explorer, with
        :attr:`Explorer.site` set to a :class:`SiteGrid` naming the factory.

    Raises
    ------
    ValueError
        When the grid is empty, has more than two controls, a control with
        fewer than 2 or more than 12 values or repeated values; when the
        explorer is built, for an unknown control, an invalid value or a
        default missing from its values.
    """
    if not 1 <= len(values) <= MAX_CONTROLS:
        raise ValueError(f"site_grid takes 1 to {MAX_CONTROLS} controls, got {sorted(values)}")
    grid = []
    for name, vals in values.items():
        vals = tuple(vals)
        if not 2 <= len(vals) <= MAX_VALUES:
            raise ValueError(f"site_grid: control {name!r} needs 2 to {MAX_VALUES} values, got {len(vals)}")
        if len(set(vals)) != len(vals):
            raise ValueError(f"site_grid: control {name!r} has repeated values {vals}")
        grid.append((name, vals))
    grid = tuple(grid)

    def decorate(factory: Callable) -> Callable:
        path = f"{factory.__module__}:{factory.__qualname__}"

        @functools.wraps(factory)
        def make():
            explorer = factory()
            _check_grid(explorer, grid)
            explorer.site = SiteGrid(path, grid)
            return explorer

        return make

    return decorate


def _check_grid(explorer, grid) -> None:
    controls = {c.name: c for c in explorer.controls}
    for name, vals in grid:
        if name not in controls:
            raise ValueError(f"site_grid: {explorer.title!r} has no control {name!r}; "
                             f"it has {sorted(controls)}")
        control = controls[name]
        for v in vals:
            control.validate(v)
        if control.default not in vals:
            raise ValueError(f"site_grid: the default {control.default!r} of control {name!r} "
                             f"must be among its values {vals}")


def _site_of(explorer) -> SiteGrid:
    site = getattr(explorer, "site", None)
    if not isinstance(site, SiteGrid):
        raise ValueError(f"explorer {explorer.title!r} has no site grid; decorate its factory "
                         "with lecode.widgets._site.site_grid")
    return site


def grid_points(explorer) -> list[tuple[tuple[int, ...], dict]]:
    """Every point of the explorer's site grid: ``(index, changes)`` in row-major order.

    ``index`` gives the position of each site control's value in its list,
    ``changes`` the keyword arguments for :meth:`Explorer.params`.
    """
    site = _site_of(explorer)
    points = []
    for index in itertools.product(*(range(n) for n in site.shape)):
        changes = {name: vals[i] for (name, vals), i in zip(site.values, index)}
        points.append((tuple(index), changes))
    return points


def frame_name(index: Sequence[int]) -> str:
    """File name of the frame at grid ``index``, e.g. ``"3-1.webp"`` (the player builds the same)."""
    index = [check_int("index", i, minimum=0) for i in index]
    if not index:
        raise ValueError("index must name a position for at least one control")
    return "-".join(str(i) for i in index) + ".webp"


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def frame_alt(explorer, index: Sequence[int]) -> str:
    """Alt text of a frame: the explorer's title and the site controls' values."""
    site = _site_of(explorer)
    labels = {c.name: c.label for c in explorer.controls}
    parts = [f"{labels[name]} = {_format(vals[i])}" for (name, vals), i in zip(site.values, index)]
    return f"{explorer.title}: " + ", ".join(parts)


def encode_frame(image_bytes: bytes) -> bytes:
    """Re-encode a rendered frame (PNG, or any format Pillow reads) as lossless WebP.

    Lossless keeps the frames pixel-identical to the explorer's render (the
    site test compares them) at about a third of the PNG size.
    """
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, format="WEBP", lossless=True, quality=50, method=1)
    return out.getvalue()


def render_frames(explorer, indices: Sequence[Sequence[int]] | None = None, *,
                  dpi: int = SITE_DPI) -> Iterator[tuple[tuple[int, ...], bytes]]:
    """Render website frames of ``explorer``: ``(index, webp bytes)`` per grid point.

    A :class:`~lecode.widgets.LiveFigure` is laid out at the explorer's
    defaults (as the JupyterLab widget is when it appears), then updated to
    each grid point in turn, so every frame has the same layout and size and
    is the picture the widget shows at those control values.

    Parameters
    ----------
    explorer : Explorer
        An explorer built by a :func:`site_grid` factory.
    indices : sequence of index tuples, optional
        Grid points to render (default: all, row-major).
    dpi : int
        Resolution (default :data:`SITE_DPI`).
    """
    from ._explorer import LiveFigure

    points = dict(grid_points(explorer))
    wanted = list(points) if indices is None else [tuple(int(i) for i in ix) for ix in indices]
    for index in wanted:
        if index not in points:
            raise ValueError(f"index {index} is outside the site grid of shape {_site_of(explorer).shape}")
    from ._explorer import CSS_PX_PER_INCH

    dpi = check_int("dpi", dpi, minimum=20)
    # PNG (lossless) so that the WebP frame is pixel-identical to the explorer's render
    live = LiveFigure(explorer, pixel_ratio=dpi / CSS_PX_PER_INCH, image_format="png")
    live.update()
    for index in wanted:
        yield index, encode_frame(live.update(**points[index]))


def explorer_from_factory(factory: str):
    """Build the explorer named ``"module:function"`` (a :func:`site_grid` factory)."""
    if not isinstance(factory, str) or factory.count(":") != 1:
        raise ValueError(f"factory must be 'module:function', got {factory!r}")
    module_name, name = factory.split(":")
    if not module_name.startswith("lecode."):
        raise ValueError(f"factory must live in the lecode package, got {factory!r}")
    func = importlib.import_module(module_name)
    for part in name.split("."):
        func = getattr(func, part)
    explorer = func()
    _site_of(explorer)
    return explorer


def site_spec(explorer) -> dict:
    """What the website's player needs to know, as JSON-ready data.

    ``{"factory", "title", "controls": [{"name", "label", "values", "default"}]}``
    with the values as display strings and ``default`` the index of the
    control's default value.
    """
    site = _site_of(explorer)
    controls = {c.name: c for c in explorer.controls}
    return {
        "factory": site.factory,
        "title": explorer.title,
        "controls": [{"name": name, "label": controls[name].label, "kind": controls[name].kind,
                      "values": [_format(v) for v in vals],
                      "default": vals.index(controls[name].default)}
                     for name, vals in site.values],
    }
