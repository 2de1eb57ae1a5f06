"""Tests of the Explorer pattern (lecode/widgets/_explorer.py) and of every explorer module."""

import importlib
import pkgutil

import matplotlib
import numpy as np
import pytest

import lecode.widgets as widgets
from lecode.widgets import Control, Explorer, time_update


def _toy():
    def compute(a, n, kind):
        x = np.linspace(0, 1, n)
        return x * a if kind == "linear" else x**2 * a

    def draw(result, axes, params):
        axes[0].plot(result)
        axes[1].hist(result)

    controls = [Control("a", "slope", 1.0, 0.0, 2.0, 0.1),
                Control("n", "points", 10, 2, 50, 1, kind="int"),
                Control("kind", "kind", "linear", kind="choice", options=("linear", "square"))]
    return Explorer("toy", controls, compute, draw, panels=[{}, {}])


def test_params_defaults_and_validation():
    ex = _toy()
    assert ex.params() == {"a": 1.0, "n": 10, "kind": "linear"}
    assert ex.params(a=1.5)["a"] == 1.5
    with pytest.raises(ValueError, match="a must be <= 2.0"):
        ex.params(a=3.0)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        ex.params(n=1)
    with pytest.raises(ValueError, match="kind must be one of"):
        ex.params(kind="cubic")
    with pytest.raises(ValueError, match="unknown control"):
        ex.params(b=1.0)


def test_control_rejects_bad_specs():
    with pytest.raises(ValueError, match="minimum must be < maximum"):
        Control("a", "a", 1.0, 2.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="a must be <= 1.0"):
        Control("a", "a", 5.0, 0.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="log slider needs minimum > 0"):
        Control("a", "a", 1.0, 0.0, 2.0, 0.1, kind="log")
    with pytest.raises(ValueError, match="options must be non-empty"):
        Control("c", "c", "x", kind="choice")
    with pytest.raises(ValueError, match="distinct names"):
        Explorer("t", [Control("a", "a", 1.0, 0, 2, 0.1)] * 2, lambda a: a, lambda r, ax, p: None)


def test_figure_and_small_multiples_shapes():
    ex = _toy()
    fig = ex.figure(a=0.5)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 1
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), np.linspace(0, 0.5, 10))
    fig = ex.small_multiples("a", [0.2, 0.4, 0.8], kind="square")
    assert len(fig.axes) == 6
    np.testing.assert_allclose(fig.axes[4].lines[0].get_ydata(), 0.8 * np.linspace(0, 1, 10) ** 2)
    with pytest.raises(ValueError, match="values must be a non-empty"):
        ex.small_multiples("a", [])


def test_widget_builds_headlessly():
    import ipywidgets

    box = _toy().widget()
    assert isinstance(box, ipywidgets.VBox)
    sliders = box.children[0].children
    assert [type(s).__name__ for s in sliders] == ["FloatSlider", "IntSlider", "Dropdown"]
    assert sliders[0].max == 2.0 and sliders[1].min == 2  # widgets cannot reach invalid values


def test_time_update_returns_a_positive_median():
    assert time_update(_toy(), repeats=2, render=False) > 0
    with pytest.raises(ValueError, match="repeats"):
        time_update(_toy(), repeats=0)


def _explorer_modules():
    names = [i.name for i in pkgutil.iter_modules(widgets.__path__) if not i.name.startswith("_")]
    return [importlib.import_module(f"lecode.widgets.{n}") for n in names]


@pytest.mark.parametrize("module", _explorer_modules(), ids=lambda m: m.__name__)
def test_every_explorer_module_builds_and_draws_at_defaults(module):
    explorer = module.make_explorer()
    assert isinstance(explorer, Explorer)
    fig = explorer.figure()
    assert len(fig.axes) >= len(explorer.panels)
    assert any(ax.has_data() for ax in fig.axes)


def test_live_figure_redraws_in_place_and_renders_png():
    ex = _toy()
    live = ex.live()
    first = live.update(a=0.5)
    assert first[:3] == b"\xff\xd8\xff"                      # JPEG by default
    assert ex.live(image_format="png").update()[:8] == b"\x89PNG\r\n\x1a\n"
    positions = [ax.get_position().bounds for ax in live.axes]
    assert live.update(render=False, a=1.5) is None
    np.testing.assert_allclose(live.axes[0].lines[0].get_ydata(), np.linspace(0, 1.5, 10))
    assert len(live.axes[0].lines) == 1  # cleared, not stacked
    live.update(a=0.5)                                        # same tick labels: nothing to re-lay
    assert [ax.get_position().bounds for ax in live.axes] == positions  # layout frozen
    assert live.relayouts == 0 and live.fits()
    with pytest.raises(ValueError, match="a must be <= 2.0"):
        live.update(a=2.5)


def test_widget_updates_its_image_when_a_control_moves():
    box = _toy().widget()
    slider, image = box.children[0].children[0], box.children[1]
    before = image.value
    slider.value = 1.7
    assert image.value != before and image.value[:3] == b"\xff\xd8\xff" and image.format == "jpeg"


def _every_explorer():
    """(id, factory) for every ``make_*explorer`` of every explorer module."""
    found = []
    for module in _explorer_modules():
        for name in sorted(n for n in dir(module) if n.startswith("make_") and n.endswith("explorer")):
            label = module.__name__.rsplit(".", 1)[1] + ("" if name == "make_explorer" else "." + name[5:])
            found.append(pytest.param(getattr(module, name), id=label))
    return found


def _far_settings(explorer):
    """One change per control, each far from the default: the other end of a slider, every other option."""
    settings = []
    for c in explorer.controls:
        if c.kind == "choice":
            settings += [{c.name: option} for option in c.options if option != c.default]
            continue
        far = c.minimum if (c.default - c.minimum) > (c.maximum - c.default) else c.maximum
        settings.append({c.name: int(far) if c.kind == "int" else far})
    return settings


def _pixels(png):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.mark.parametrize("factory", _every_explorer())
def test_reused_axes_render_the_same_pixels_as_new_axes(factory):
    """Updating panels in place (``_reset_axes``) must not leave anything of the previous draw behind.

    Two live figures walk the same path through the controls; one reuses its
    panels, the other gets new ones before every draw. Agg is deterministic,
    so the renders must agree pixel for pixel. The path moves each control
    far from its default and back, then moves them one after another without
    going back (so that combinations such as alpha = beta = 0 occur), then
    visits the settings that once left stale limits behind (_REGRESSIONS).
    Settings that ``compute`` rejects are skipped (both figures reject them).
    """
    explorer = factory()
    reused, cleared = explorer.live(image_format="png"), explorer.live(reuse_axes=False, image_format="png")
    far = _far_settings(explorer)
    cumulative, path = {}, [{}] + far + [{}]
    for change in far:
        cumulative = {**cumulative, **change}
        path.append(dict(cumulative))
    path += _REGRESSIONS.get(factory.__module__.rsplit(".", 1)[1], []) + [{}]
    for step, changes in enumerate(path):
        try:
            a = _pixels(reused.update(**changes))
        except ValueError:
            with pytest.raises(ValueError):
                cleared.update(**changes)
            continue
        b = _pixels(cleared.update(**changes))
        assert a.shape == b.shape
        differing = int(np.count_nonzero(np.any(a != b, axis=-1)))
        assert differing == 0, f"step {step} ({changes or 'defaults'}): {differing} pixels differ"


#: Settings at which a panel once kept the limits of the previous draw (a draw that adds no data).
_REGRESSIONS = {
    "connections": [{"alpha": 0.0, "beta": 0.0}],
    "imitation": [{"dataset": "digits (K=2)", "trial": "2"}],
}


def test_live_figure_rejects_a_non_boolean_reuse_axes():
    with pytest.raises(TypeError, match="reuse_axes must be True or False"):
        _toy().live(reuse_axes="yes")


def _branchy():
    """A toy explorer whose ``fancy`` setting uses everything ``_reset_axes`` must undo."""
    from matplotlib.ticker import MaxNLocator

    def compute(fancy, colour_cycle):
        return np.linspace(1.0, 10.0, 20)

    def draw(x, axes, params):
        ax, hist_ax = axes
        for _ in range(params["colour_cycle"]):
            ax.plot(x, x)                                 # advances the colour cycle
        if params["fancy"] == "fancy":
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_ylim(0.5, 50.0)
            ax.set_title("fancy", fontsize=16, loc="left")
            ax.set_xlabel("x", fontsize=14)
            ax.set_ylabel("y (fancy)", fontsize=15)
            ax.set_title("centre", fontsize=15)
            ax.text(0.5, 0.5, "note", transform=ax.transAxes)
            ax.legend(["x"] * params["colour_cycle"])
            hist_ax.hist(x, bins=5)
            hist_ax.fill_between(x, 0, x)
            hist_ax.imshow(np.eye(3), extent=(0, 3, 0, 3))
            hist_ax.set_yticks([0.0, 5.0])                # tick locations (no text): reset, not replaced
            ax.xaxis.set_minor_locator(MaxNLocator(2))
        else:
            ax.set_title("plain", loc="left")
            ax.set_xlabel("x")
        hist_ax.plot(x, -x)
        hist_ax.set_ylabel("y")

    controls = [Control("fancy", "fancy", "plain", kind="choice", options=("plain", "fancy")),
                Control("colour_cycle", "lines", 1, 1, 3, 1, kind="int")]
    return Explorer("branchy", controls, compute, draw, panels=[{}, {}])


def test_reset_axes_undoes_scales_aspect_limits_titles_texts_legends_and_the_colour_cycle():
    explorer = _branchy()
    reused, cleared = explorer.live(image_format="png"), explorer.live(reuse_axes=False, image_format="png")
    path = [{}, {"fancy": "fancy", "colour_cycle": 3}, {}, {"colour_cycle": 2}, {"fancy": "fancy"}, {}]
    for step, changes in enumerate(path):
        a, b = _pixels(reused.update(**changes)), _pixels(cleared.update(**changes))
        differing = int(np.count_nonzero(np.any(a != b, axis=-1)))
        assert differing == 0, f"step {step} ({changes or 'defaults'}): {differing} pixels differ"
    assert not reused.axes[0].texts and reused.axes[0].get_legend() is None   # back to plain
    assert reused.axes[0].get_title() == "" and reused.axes[0].get_ylabel() == ""
    for axis in ("xaxis", "yaxis"):                # label fonts as on a new panel
        assert (getattr(reused.axes[0], axis).label.get_fontsize()
                == getattr(cleared.axes[0], axis).label.get_fontsize())
    assert reused.axes[0].get_xscale() == "linear" and reused.axes[0].get_aspect() == "auto"
    assert reused.axes[1].yaxis.isDefault_majloc and reused.axes[0].xaxis.isDefault_minloc


def test_panels_with_styled_tick_labels_or_tick_parameters_are_replaced_not_reset():
    from matplotlib.ticker import FuncFormatter

    def draw(result, axes, params):
        kind = params["kind"]
        if kind == "styled labels":
            axes[0].set_xticks([0.0, 1.0], ["left", "right"], rotation=90)
        elif kind == "plain labels":
            axes[0].set_xticks([0.0, 0.5], ["start", "middle"])
        elif kind == "formatter":
            axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"[{v:g}]"))
        elif kind == "tick params":
            axes[0].tick_params(labelsize=4)
        elif kind == "grid toggled":
            axes[0].grid(not matplotlib.rcParams["axes.grid"])
        axes[0].plot(result, result)

    kinds = ("plain", "styled labels", "plain labels", "formatter", "tick params", "grid toggled")
    explorer = Explorer("toy", [Control("kind", "kind", "plain", kind="choice", options=kinds)],
                        lambda kind: np.linspace(0, 1, 5), draw)
    reused, fresh = explorer.live(image_format="png"), explorer.live(reuse_axes=False, image_format="png")
    path = ["plain"]
    for kind in kinds[1:]:
        path += [kind, "plain"]
    replaced = []
    for kind in path:
        before = reused.axes[0]
        a, b = _pixels(reused.update(kind=kind)), _pixels(fresh.update(kind=kind))
        assert np.array_equal(a, b), kind
        replaced.append(reused.axes[0] is not before)
    # the panel is replaced exactly after a draw that styled tick labels, set tick parameters
    # or changed the grid; tick labels as plain text and formatters are undone in place
    expected = [False] + [kind == "plain" and path[i - 1] in ("styled labels", "tick params", "grid toggled")
                          for i, kind in enumerate(path) if i > 0]
    assert replaced == expected, list(zip(path, replaced))


def test_a_draw_that_fails_before_the_first_render_leaves_nothing_behind():
    calls = {"n": 0}

    def draw(result, axes, params):
        axes[0].plot(result, result)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("draw failed")

    explorer = Explorer("toy", [Control("a", "a", 1.0, 0.0, 2.0, 0.1)],
                        lambda a: np.linspace(0, a, 5), draw)
    live = explorer.live(image_format="png")
    with pytest.raises(RuntimeError, match="draw failed"):
        live.update()
    live.update()
    assert len(live.axes[0].lines) == 1


def _styled():
    """A toy explorer with a 3-D panel and a 2-D one, styled once by ``style``."""
    from matplotlib.ticker import MaxNLocator

    def style(ax, j):
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_locator(MaxNLocator(3))

    def draw(x, axes, params):
        ax3, ax = axes
        ax3.plot(x, x**2, params["a"] * x)
        ax3.set_zlabel("z")
        ax.plot(x, params["a"] * x)
        if params["a"] > 1.5:
            ax.xaxis.set_major_locator(MaxNLocator(8))    # draw overrides the styled locator
            ax.set_title("steep")

    explorer = Explorer("styled", [Control("a", "a", 1.0, 0.0, 2.0, 0.1)],
                        lambda a: np.linspace(0.0, 1.0, 7), draw,
                        panels=[{"projection": "3d"}, {}], style=style)
    return explorer, style


def test_style_is_applied_to_every_new_panel_and_kept_by_a_reset():
    explorer, _ = _styled()
    for fig in (explorer.figure(), explorer.small_multiples("a", [0.5, 1.0])):
        for ax in fig.axes:
            assert ax.xaxis.get_major_ticks()[0].label1.get_fontsize() == 6
    reused, fresh = explorer.live(image_format="png"), explorer.live(reuse_axes=False, image_format="png")
    panels = None
    for a in (1.0, 1.9, 0.3, 1.9, 1.0):
        x, y = _pixels(reused.update(a=a)), _pixels(fresh.update(a=a))
        assert np.array_equal(x, y), a
        if panels is not None:
            assert [p is q for p, q in zip(reused.axes, panels)] == [True, True]   # never rebuilt
        panels = list(reused.axes)
    styled = reused._pristine[1].tickers[0][0]
    assert reused.axes[1].xaxis.get_major_locator() is styled      # the styled locator is back


def test_style_must_be_callable():
    with pytest.raises(TypeError, match="style must be a callable"):
        Explorer("toy", [], lambda: None, lambda r, a, p: None, style="bold")


def _walk(draw, kinds, panels=None, style=None):
    """Walk a one-control toy explorer through ``kinds``; pixels must agree; return 'replaced' flags."""
    explorer = Explorer("toy", [Control("kind", "kind", kinds[0], kind="choice",
                                        options=tuple(dict.fromkeys(kinds)))],
                        lambda kind: np.linspace(0.0, 1.0, 5), draw, panels=panels, style=style)
    reused, fresh = explorer.live(image_format="png"), explorer.live(reuse_axes=False, image_format="png")
    replaced = []
    for kind in kinds:
        before = list(reused.axes)
        a, b = _pixels(reused.update(kind=kind)), _pixels(fresh.update(kind=kind))
        differing = int(np.count_nonzero(np.any(a != b, axis=-1)))
        assert differing == 0, f"{kind}: {differing} pixels differ"
        replaced.append(any(p is not q for p, q in zip(before, reused.axes)))
    return replaced


def test_reset_restores_limits_inversion_margins_and_containers():
    def draw(x, axes, params):
        ax = axes[0]
        kind = params["kind"]
        if kind == "data":
            ax.plot(x * 50, x - 7)
            ax.invert_yaxis()
            ax.margins(0.0)
            ax.bar([0, 1], [1, 2], label="bars")
            ax.legend()
        elif kind == "text only":                    # no data: a new panel shows 0..1
            ax.text(0.5, 0.5, "nothing to plot", transform=ax.transAxes)
            ax.axhline(0.5)
        else:
            ax.bar([0, 1], [1, 2], label="bars")
            ax.legend()

    replaced = _walk(draw, ["data", "text only", "data", "bars", "bars", "data"])
    assert not any(replaced)


def test_style_is_reapplied_after_every_reset_and_after_a_failed_first_draw():
    from matplotlib.ticker import MaxNLocator

    def style(ax, j):
        ax.set_xlabel("styled label")
        ax.set_prop_cycle(color=["#CC79A7", "#009E73"])
        ax.xaxis.set_major_locator(MaxNLocator(3))

    def draw(x, axes, params):
        ax = axes[0]
        ax.plot(x, x)
        if params["kind"] == "relabel":
            ax.set_xlabel("drawn label", color="red", labelpad=12)
        elif params["kind"] == "default locator edit":
            ax.yaxis.get_major_locator().set_params(nbins=9)    # a default locator edited in place

    replaced = _walk(draw, ["plain", "relabel", "plain", "default locator edit", "plain"], style=style)
    assert not any(replaced)

    failed = {"n": 0}

    def fragile(x, axes, params):
        failed["n"] += 1
        axes[0].plot(x, x)
        if failed["n"] == 1:
            raise RuntimeError("first draw fails")

    explorer = Explorer("toy", [], lambda: np.linspace(0.0, 1.0, 5), fragile, style=style)
    live = explorer.live(image_format="png")
    with pytest.raises(RuntimeError):
        live.update()
    live.update()
    assert live.axes[0].get_xlabel() == "styled label"
    assert isinstance(live.axes[0].xaxis.get_major_locator(), MaxNLocator)


@pytest.mark.parametrize("change", ["axis off", "spine", "second tick label", "shared x", "title x",
                                    "styled locator edit", "pane colour"])
def test_changes_the_reset_cannot_undo_get_a_new_panel(change):
    from matplotlib.ticker import MaxNLocator

    three_d = change == "pane colour"

    def style(ax, j):
        ax.xaxis.set_major_locator(MaxNLocator(4))

    def draw(x, axes, params):
        ax = axes[0]
        if three_d:
            ax.plot(x, x, x)
        else:
            ax.plot(x, x)
        if params["kind"] != "changed":
            return
        if change == "axis off":
            ax.set_axis_off()
        elif change == "spine":
            ax.spines["left"].set_visible(False)
        elif change == "second tick label":
            ax.xaxis.get_major_ticks()[2].label1.set_color("red")
        elif change == "shared x":
            ax.sharex(ax.figure.add_axes((0.0, 0.0, 0.01, 0.01)))
        elif change == "title x":
            ax.set_title("moved")
            ax.title.set_position((0.2, 1.0))
        elif change == "styled locator edit":
            ax.xaxis.get_major_locator().set_params(nbins=9)
        elif change == "pane colour":
            ax.xaxis.set_pane_color((1.0, 0.0, 0.0, 1.0))

    kinds = ["plain", "changed", "plain", "plain"]
    replaced = _walk(draw, kinds, panels=[{"projection": "3d"}] if three_d else None, style=style)
    assert replaced == [False, False, True, False]


def test_live_figure_is_hidpi_and_reports_its_css_size():
    live = _toy().live()
    image = _pixels(live.update())
    width, height = live.css_size
    assert (width, height) == (640, 256)                     # 2 panels of 4 x 3.2 in, 80 px per inch
    assert image.shape[:2] == (2 * height, 2 * width)         # two image pixels per CSS pixel
    assert _pixels(_toy().live(pixel_ratio=1.5).update()).shape[:2] == (384, 960)
    with pytest.raises(ValueError, match="pixel_ratio"):
        _toy().live(pixel_ratio=0.5)
    with pytest.raises(ValueError, match="image_format"):
        _toy().live(image_format="gif")


def test_jpeg_render_is_close_to_the_lossless_one():
    """Live figures are sent as JPEG: at two pixels per CSS pixel it must look like the PNG."""
    for factory in (f.values[0] for f in _every_explorer()):
        explorer = factory()
        png = _pixels(explorer.live(image_format="png").update())[..., :3].astype(float)
        jpeg = _pixels(explorer.live().update()).astype(float)
        psnr = 10 * np.log10(255**2 / np.mean((png - jpeg) ** 2))
        assert psnr > 40, f"{explorer.title}: JPEG differs from the PNG by PSNR {psnr:.1f} dB"


def _wide_labels():
    """A toy explorer whose y tick labels widen a lot with its slider."""
    from matplotlib.ticker import FuncFormatter

    def draw(result, axes, params):
        for ax in axes:
            ax.plot([0, 1], [0, result])
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.set_ylabel("a long label of y")
            ax.set_title(f"scale {result:g}")

    return Explorer("wide", [Control("s", "scale", 1.0, 1.0, 1e9, 1.0, kind="log")],
                    lambda s: s, draw, panels=[{}, {}, {}])


def test_live_figure_lays_out_again_when_labels_no_longer_fit():
    live = _wide_labels().live(image_format="png")
    live.update(s=1.0)
    before = [ax.get_position().bounds for ax in live.axes]
    assert _text_outside_or_overlapping(live) == []
    live.update(s=1e9)                                        # "1,000,000,000" tick labels
    assert live.relayouts == 1 and live.fits()
    assert [ax.get_position().bounds for ax in live.axes] != before
    assert _text_outside_or_overlapping(live) == []
    live.update(s=1e8)                                        # still fits: layout kept
    assert live.relayouts == 1
    assert [t["relayout"] for t in live.timings] == [False, True, False]


def test_live_figure_times_its_rendered_updates():
    live = _toy().live()
    image = live.update()
    live.update(render=False)                                 # not rendered: not timed
    assert len(live.timings) == 1
    t = live.timings[0]
    assert t["bytes"] == len(image) and t["relayout"] is False
    assert all(t[k] >= 0 for k in ("compute", "draw", "render", "encode")) and t["render"] > 0


def _text_boxes(live):
    """(owner, description, window extent) of every text the last render drew."""
    from matplotlib.text import Text

    renderer = live.canvas.get_renderer()
    boxes = []
    for j, ax in enumerate(live.figure.axes):
        texts = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None),
                 *ax.texts]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            boxes.append((j, "legend", legend.get_window_extent(renderer)))
        for t in texts:
            if isinstance(t, Text) and t.get_visible() and t.get_text().strip():
                boxes.append((j, f"text {t.get_text()!r}", t.get_window_extent(renderer)))
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis) + ((ax.zaxis,) if hasattr(ax, "zaxis") else ()):
                if not axis.get_visible():
                    continue
                box = axis.get_tightbbox(renderer)           # drawn tick labels and axis label
                if box is not None and box.width > 0 and box.height > 0:
                    boxes.append((j, f"{axis.axis_name} axis labels", box))
    sup = live.figure._suptitle
    if sup is not None and sup.get_text():
        boxes.append((-1, "figure title", sup.get_window_extent(renderer)))
    return boxes


def _text_outside_or_overlapping(live, tol=1.0):
    """Texts of the last render that reach outside the figure, or into another panel's texts."""
    width, height = live.figure.bbox.width, live.figure.bbox.height
    boxes = _text_boxes(live)
    bad = [f"panel {j}: {what} reaches outside the figure ({b.x0:.0f}..{b.x1:.0f} x {b.y0:.0f}..{b.y1:.0f}"
           f" in {width:.0f} x {height:.0f})"
           for j, what, b in boxes
           if b.x0 < -tol or b.y0 < -tol or b.x1 > width + tol or b.y1 > height + tol]
    for i, (j, what, a) in enumerate(boxes):
        for k, other, b in boxes[i + 1:]:
            if j != k and (min(a.x1, b.x1) - max(a.x0, b.x0) > tol
                           and min(a.y1, b.y1) - max(a.y0, b.y0) > tol):
                bad.append(f"panel {j}: {what} overlaps panel {k}: {other}")
    return bad


def _extreme_settings(explorer):
    """Each control at each end of its range (every option of a dropdown), then all at their minima, all at maxima."""
    one, low, high = [], {}, {}
    for c in explorer.controls:
        if c.kind == "choice":
            one += [{c.name: option} for option in c.options]
            low[c.name], high[c.name] = c.options[0], c.options[-1]
            continue
        ends = [int(c.minimum), int(c.maximum)] if c.kind == "int" else [c.minimum, c.maximum]
        one += [{c.name: v} for v in ends]
        low[c.name], high[c.name] = ends
    return [{}] + one + [low, high]


def _updated_at_extremes(live):
    """Update ``live`` to each of :func:`_extreme_settings` in turn; yield ``(changes, image)`` for
    every setting its ``compute`` accepts (rejected ones are skipped)."""
    for changes in _extreme_settings(live.explorer):
        try:
            image = live.update(**changes)
        except ValueError:
            continue
        yield changes, image


@pytest.mark.parametrize("factory", _every_explorer())
def test_no_text_is_clipped_at_extreme_control_values(factory):
    """After every update, at the ends of every control, every text lies inside the figure.

    The live figure walks the settings in turn (as a reader moving one
    control after another would), rendering each; the texts it drew (titles,
    axis and tick labels, legends, figure title) must lie inside the figure
    and not run into another panel's. Settings that ``compute`` rejects are
    skipped.
    """
    live = factory().live()
    for changes, _ in _updated_at_extremes(live):
        bad = _text_outside_or_overlapping(live)
        assert not bad, f"{changes or 'defaults'}: " + "; ".join(bad)


@pytest.mark.parametrize("factory", _every_explorer())
def test_layout_boxes_read_from_the_render_equal_matplotlibs_tight_boxes(factory):
    """``LiveFigure.layout_boxes`` (texts recorded while drawing) equals ``Axes.get_tightbbox(for_layout_only=True)``.

    The fast boxes are what :meth:`LiveFigure.fits` judges every update by;
    matplotlib's own (which locates and formats every tick again) is the
    reference. Compared at the defaults and at the ends of every control,
    to a hundredth of a pixel (both read the same cached text layouts, so
    they agree exactly unless a part is missed or added).
    """
    live = factory().live()
    for changes, _ in _updated_at_extremes(live):
        fast = live.layout_boxes()
        renderer = live.canvas.get_renderer()
        slow = [ax.get_tightbbox(renderer, for_layout_only=True) for ax in live.axes]
        if live.figure._suptitle is not None and live.figure._suptitle.get_text():
            slow.append(live.figure._suptitle.get_window_extent(renderer))
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow):
            np.testing.assert_allclose(a.extents, b.extents, atol=0.01, err_msg=f"{changes or 'defaults'}")


@pytest.mark.parametrize("factory", _every_explorer())
def test_titles_placed_once_render_the_same_pixels_as_automatic_placement(factory):
    """Skipping matplotlib's automatic title placement where it is a no-op changes no pixel.

    Two live figures of the same explorer walk the defaults and the ends of
    every control, one with the shortcut and one without; every render must
    be byte-identical (lossless PNG).
    """
    explorer = factory()
    fast, slow = explorer.live(image_format="png"), explorer.live(image_format="png")
    slow._place_titles_once = False
    for changes, image in _updated_at_extremes(fast):
        assert image == slow.update(**changes), f"{changes or 'defaults'}"


def test_titles_placed_once_apply_to_plain_panels_and_fall_back_when_a_title_must_move():
    from lecode.widgets._explorer import _titles_stay_put

    def draw(result, axes, params):
        axes[0].plot([0, 1], [0, result])
        axes[0].set_title("a title")
        axes[1].plot([0, 1], [0, 1])

    explorer = Explorer("titles", [Control("s", "scale", 1.0, 1.0, 1e9, 1.0, kind="log")],
                        lambda s: s, draw, panels=[{}, {}])
    live, reference = explorer.live(image_format="png"), explorer.live(image_format="png")
    reference._place_titles_once = False
    assert live.update(s=1.0) == reference.update(s=1.0)
    assert all(_titles_stay_put(ax) for ax in live.axes)           # the shortcut is used here
    # 1e9 on a linear axis: matplotlib writes an offset text ("1e9") above the y axis, where
    # the title may have to move; the shortcut must notice and give the same pixels
    assert live.update(s=1e9) == reference.update(s=1e9)
    assert live.axes[0].yaxis.offsetText.get_text()
    assert not _titles_stay_put(live.axes[0])
    assert live.update(s=1.0) == reference.update(s=1.0)             # and back


def test_layout_boxes_see_a_legend_title_and_tick_labels_that_grow():
    """The fast boxes follow what was drawn: a wider tick label, a legend moved outside, a new title."""
    def draw(result, axes, params):
        axes[0].plot([0, 1], [0, result], label="line")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0) if result > 10 else None)
        axes[0].set_title("title" if result > 100 else "")

    live = Explorer("grow", [Control("s", "scale", 1.0, 1.0, 1e6, 1.0, kind="log")],
                    lambda s: s, draw, panels=[{}, {}]).live(image_format="png")
    live.update(s=1.0)
    first = live.layout_boxes()[0]
    live.update(s=1e6)                      # wider y tick labels, legend outside on the right, a title
    renderer = live.canvas.get_renderer()
    grown = live.layout_boxes()[0]
    assert grown.x1 > first.x1 and grown.y1 > first.y1
    np.testing.assert_allclose(grown.extents,
                               live.axes[0].get_tightbbox(renderer, for_layout_only=True).extents, atol=0.01)
    assert "draw_text" not in vars(renderer)          # the recording hook is removed after each render


def test_a_render_that_fails_removes_its_recording_hook():
    def draw(result, axes, params):
        axes[0].plot([0, 1], [0, 1])
        if result > 1:
            axes[0].text(0.5, 0.5, r"$\frac{1$")          # bad mathtext: fails only when drawn

    live = Explorer("fail", [Control("s", "s", 1.0, 0.0, 2.0, 0.1)], lambda s: s, draw).live()
    live.update(s=1.0)
    with pytest.raises(ValueError):
        live.update(s=2.0)
    assert "draw_text" not in vars(live.canvas.get_renderer())
    assert live.update(s=1.0)                          # and the figure renders again


# -- the display output of the live widget ----------------------------------------

def test_widget_output_says_how_to_start_it():
    """Before the cell runs (or without a widget front end) the reader sees one line."""
    from IPython.core.formatters import DisplayFormatter

    box = _toy().widget()
    data, meta = DisplayFormatter().format(box)
    assert data["text/plain"] == "Run this cell to start the explorer: toy"
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert widgets.EXPLORER_MIME not in data and meta == {}     # no site grid: nothing to name


def test_widget_output_of_a_book_explorer_names_its_factory():
    from IPython.core.formatters import DisplayFormatter

    from lecode.widgets import linear_modes

    explorer = linear_modes.make_explorer()
    data, meta = DisplayFormatter().format(explorer.widget())
    assert data["text/plain"] == f"Run this cell to start the explorer: {explorer.title}"
    named = {"module": "lecode.widgets.linear_modes", "factory": "make_explorer"}
    assert data[widgets.EXPLORER_MIME] == {**named, "title": explorer.title}
    assert meta == {"lecode": {"explorer": named}}
