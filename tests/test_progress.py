"""Tests of lecode._progress: the progress bar of sweeps and experiments."""

import io

import pytest

from lecode import _progress
from lecode._progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_silent_for_short_work():
    buf = io.StringIO()
    with Progress(10, "sweep", file=buf, delay=60) as bar:
        for _ in range(10):
            bar.update()
    assert buf.getvalue() == ""


def test_lines_mode_prints_each_tenth_and_the_end():
    buf = io.StringIO()
    with Progress(40, "sweep", unit="settings", file=buf, delay=0) as bar:
        assert bar.mode == "lines"
        for _ in range(40):
            bar.update()
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("sweep 1/40 settings")
    assert lines[-1].startswith("sweep 40/40 settings")
    assert 10 <= len(lines) <= 12
    assert "left" in lines[1]


def test_tty_mode_redraws_one_line():
    buf = _Tty()
    bar = Progress(4, "run", unit="trials", file=buf, delay=0)
    assert bar.mode == "tty"
    for _ in range(4):
        bar.update()
    bar.close()
    out = buf.getvalue()
    assert out.startswith("\rrun [") and out.endswith("4/4 trials · 0 s\x1b[K\n")
    assert out.count("\n") == 1
    assert "[####################]" in out


def test_widget_mode(monkeypatch):
    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda w: shown.append(w))
    bar = Progress(5, "sweep", delay=0)
    assert bar.mode == "widget"
    for _ in range(3):
        bar.update()
    bar._last_draw = 0.0              # the 0.2 s throttle may have skipped the last update
    bar._draw()
    bar_widget, label, box = bar._widget
    assert shown == [box] and bar_widget.max == 5 and bar_widget.value == 3
    assert label.value.startswith("3/5 tasks")
    bar.update(2)
    bar.close()
    assert bar_widget.value == 5 and bar_widget.bar_style == "success"


def test_disabled_and_bad_mode():
    buf = io.StringIO()
    bar = Progress(3, file=buf, delay=0, enabled=False)
    bar.update()
    bar.close()
    assert buf.getvalue() == ""
    with pytest.raises(ValueError, match="mode"):
        Progress(3, mode="gui")
