"""Time every explorer's update (compute + draw + PNG render) at default settings.

Run with ``python benchmarks/bench_widgets.py`` (``make bench``). Each explorer
module in ``lecode.widgets`` exposes ``make_explorer()``; the script reports the
median of several updates, and the ratio to the book's budget of 200 ms and to
a baseline measured in the same run (drawing an empty figure of the same
layout, which is the floor any explorer pays).
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
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fig, _ = explorer._new_figure(1)
        fig.savefig(io.BytesIO(), format="png", dpi=72)
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def main():
    print(f"{'explorer':28s} {'median update':>14s} {'budget ratio':>13s} {'vs empty fig':>13s}")
    worst = 0.0
    for info in pkgutil.iter_modules(widgets.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"lecode.widgets.{info.name}")
        if not hasattr(module, "make_explorer"):
            continue
        explorer = module.make_explorer()
        explorer.figure()  # warm-up: imports, caches
        update = time_update(explorer, repeats=7)
        floor = empty_figure_time(explorer)
        worst = max(worst, update)
        print(f"{info.name:28s} {update * 1e3:11.1f} ms {update / BUDGET_S:12.2f}x {update / floor:12.1f}x")
    print(f"slowest explorer: {worst * 1e3:.1f} ms ({'within' if worst <= BUDGET_S else 'OVER'} the 200 ms budget)")


if __name__ == "__main__":
    main()
