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
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    positions = [ax.get_position().bounds for ax in live.axes]
    assert live.update(render=False, a=1.5) is None
    np.testing.assert_allclose(live.axes[0].lines[0].get_ydata(), np.linspace(0, 1.5, 10))
    assert len(live.axes[0].lines) == 1  # cleared, not stacked
    live.update(a=2.0)
    assert [ax.get_position().bounds for ax in live.axes] == positions  # layout frozen
    with pytest.raises(ValueError, match="a must be <= 2.0"):
        live.update(a=2.5)


def test_widget_updates_its_image_when_a_control_moves():
    box = _toy().widget()
    slider, image = box.children[0].children[0], box.children[1]
    before = image.value
    slider.value = 1.7
    assert image.value != before and image.value[:4] == b"\x89PNG"
