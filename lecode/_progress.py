"""A small progress bar for sweeps and experiments, in a terminal and in JupyterLab.

:class:`Progress` counts finished tasks. It shows nothing for work that ends
within ``delay`` seconds (2 by default), so short calls stay silent; after
that it shows, depending on where it runs,

* in a Jupyter kernel: an ``ipywidgets.IntProgress`` bar with a label
  (``12/40 settings · 3 s · about 7 s left``), updated in place;
* in a terminal (``file.isatty()``): one line redrawn with ``\\r``
  (``sweep [#######.............] 12/40 · 3 s · about 7 s left``);
* elsewhere (a log file, CI): a plain line at every tenth of the work.

It writes to standard error by default. No extra dependency: ipywidgets is
already one of lecode's.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget bar can be displayed)."""
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:               # pragma: no cover - IPython half imported
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _fmt_seconds(s: float) -> str:
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s // 60:.0f} min {s % 60:02.0f} s"
    return f"{s // 3600:.0f} h {(s % 3600) // 60:02.0f} min"


class Progress:
    """Count finished tasks and show a bar once the work has taken ``delay`` seconds.

    Parameters
    ----------
    total : int
        Number of tasks.
    desc : str
        A short name shown before the bar (``"sweep"``).
    unit : str
        What is counted (``"settings"``, ``"trials"``).
    enabled : bool
        ``False`` makes every method a no-op.
    delay : float
        Seconds before anything is shown (short work shows nothing).
    file : text stream, optional
        Where the text bar goes (standard error by default).
    mode : {"auto", "widget", "tty", "lines"}
        ``"auto"`` picks the widget in a Jupyter kernel, the redrawn line on a
        terminal and plain lines otherwise.
    """

    def __init__(self, total: int, desc: str = "", *, unit: str = "tasks", enabled: bool = True,
                 delay: float = 2.0, file=None, mode: str = "auto"):
        self.total, self.desc, self.unit = int(total), desc, unit
        self.enabled = bool(enabled) and self.total > 0
        self.delay = float(delay)
        self.file = file if file is not None else sys.stderr
        if mode == "auto":
            if _in_notebook():
                mode = "widget"
            elif getattr(self.file, "isatty", lambda: False)():
                mode = "tty"
            else:
                mode = "lines"
        if mode not in ("widget", "tty", "lines"):
            raise ValueError(f"mode must be one of 'auto', 'widget', 'tty', 'lines'; got {mode!r}")
        self.mode = mode
        self.n = 0
        self.t0 = time.perf_counter()
        self._shown = False
        self._last_draw = 0.0
        self._last_line_step = -1
        self._widget = None

    # ------------------------------------------------------------ text
    def _status(self) -> str:
        el = time.perf_counter() - self.t0
        s = f"{self.n}/{self.total} {self.unit} · {_fmt_seconds(el)}"
        if 0 < self.n < self.total:
            s += f" · about {_fmt_seconds(el * (self.total - self.n) / self.n)} left"
        return s

    def _bar(self, width: int = 20) -> str:
        full = int(round(width * self.n / self.total))
        return "[" + "#" * full + "." * (width - full) + "]"

    def _draw(self, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._last_draw < 0.2 and self.mode != "lines":
            return
        self._last_draw = now
        prefix = f"{self.desc} " if self.desc else ""
        if self.mode == "widget":
            if self._widget is None:
                import ipywidgets as W
                from IPython.display import display
                bar = W.IntProgress(value=0, min=0, max=self.total, description=self.desc)
                label = W.Label()
                self._widget = (bar, label, W.HBox([bar, label]))
                display(self._widget[2])
            bar, label, _ = self._widget
            bar.value = self.n
            label.value = self._status()
            if final:
                bar.bar_style = "success" if self.n >= self.total else "warning"
        elif self.mode == "tty":
            end = "\n" if final else ""
            self.file.write(f"\r{prefix}{self._bar()} {self._status()}\033[K{end}")
            self.file.flush()
        else:
            step = (10 * self.n) // self.total
            if final or step > self._last_line_step:
                self._last_line_step = step
                self.file.write(f"{prefix}{self._status()}\n")
                self.file.flush()

    # ------------------------------------------------------------ api
    def update(self, n: int = 1) -> None:
        """``n`` more tasks are done."""
        if not self.enabled:
            return
        self.n = min(self.total, self.n + n)
        if not self._shown:
            if time.perf_counter() - self.t0 < self.delay:
                return
            self._shown = True
            self._last_draw = 0.0
        self._draw()

    def close(self) -> None:
        """Draw the final state (only if the bar was shown)."""
        if self.enabled and self._shown:
            self._draw(final=True)
        self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
