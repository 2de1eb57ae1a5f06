"""Time every explorer's update (compute + draw + PNG render) at default settings.

Run with ``python benchmarks/bench_widgets.py`` (``make bench``). Each explorer
module in ``lecode.widgets`` exposes ``make_explorer()``; the script reports the
median of several updates, and the ratio to the book's budget of 200 ms and to
a baseline measured in the same run (rendering an empty figure of the same
layout, the floor any explorer pays), and the update without the PNG render
(compute + draw: the part the explorer's own code controls).
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import lecode.widgets as widgets  # noqa: E402
from lecode.widgets import time_update  # noqa: E402

BUDGET_S = 0.200


def empty_figure_time(explorer, repeats=7):
    """Median time to render the explorer's panels with nothing in them, the way a live update renders.

    The baseline: the same figure size, panels, frozen layout, dpi and PNG
    encoder as :class:`lecode.widgets.LiveFigure`, but no data, titles or
    legends; what any update of this explorer pays at least.
    """
    live = explorer.live()
    fig = live.figure
    for _ in range(2):                    # lay out once, then keep the layout frozen
        live.canvas.print_png(io.BytesIO())
        fig.set_layout_engine("none")
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        live.canvas.print_png(io.BytesIO(), pil_kwargs={"compress_level": 1})
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def main():
    print(f"matplotlib {matplotlib.__version__}, numpy {np.__version__}")
    print(f"{'explorer':28s} {'median update':>14s} {'budget ratio':>13s} {'vs empty fig':>13s}"
          f" {'compute+draw':>14s}")
    worst = 0.0
    for info in pkgutil.iter_modules(widgets.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"lecode.widgets.{info.name}")
        for factory in sorted(n for n in dir(module) if n.startswith("make_") and n.endswith("explorer")):
            explorer = getattr(module, factory)()
            explorer.figure()  # warm-up: imports, caches, lazily trained networks
            update = time_update(explorer, repeats=7)
            compute_draw = time_update(explorer, repeats=7, render=False)
            floor = empty_figure_time(explorer)
            worst = max(worst, update)
            name = info.name if factory == "make_explorer" else f"{info.name}.{factory[5:]}"
            print(f"{name:28s} {update * 1e3:11.1f} ms {update / BUDGET_S:12.2f}x {update / floor:12.1f}x"
                  f" {compute_draw * 1e3:11.1f} ms")
    print(f"slowest explorer: {worst * 1e3:.1f} ms ({'within' if worst <= BUDGET_S else 'OVER'} the 200 ms budget)")


if __name__ == "__main__":
    main()
