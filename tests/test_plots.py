"""Tests of lecode/plots.py."""

import matplotlib as mpl
import pytest

from lecode import plots


def test_class_colors_are_stable_and_cycle():
    assert plots.class_colors(3) == plots.class_colors(10)[:3]
    assert len(plots.class_colors(10)) == 10
    assert plots.class_colors(9)[8] == plots.class_colors(1)[0]
    with pytest.raises(ValueError, match="n_classes"):
        plots.class_colors(0)
    with pytest.raises(TypeError, match="n_classes"):
        plots.class_colors(2.5)


def test_book_style_sets_a_small_dpi():
    plots.use_book_style()
    assert mpl.rcParams["figure.dpi"] == 80
