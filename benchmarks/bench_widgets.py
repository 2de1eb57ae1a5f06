"""Time every explorer's update (compute + draw + render + encode), as a slider move costs in the kernel.

Run with ``python benchmarks/bench_widgets.py`` (``make bench``). Every
``make_*explorer`` of every module in ``lecode.widgets`` is built once and
kept as a live figure (:class:`lecode.widgets.LiveFigure`, what the widget
uses). Then, in each of ``--rounds`` rounds, every explorer is updated once
at its default settings, once without the PNG render (compute + draw: the
part the explorer's own code controls), and once with its first slider moved
to the next of five values spread over its range (updates rarely repeat the
same settings). Interleaving the explorers in rounds gives each the same mix
of the machine's fast and slow moments.

Reported per explorer: the median update at default settings (the book's
budget is 200 ms), its ratio to the budget and to a baseline measured in the
same run (rendering the explorer's panels empty, the floor any update of it
pays), the median compute + draw, the median update while a slider moves,
the size of the image sent, and how many of the moving updates had to be
laid out again (labels that no longer fit). Live figures render at two image
pixels per CSS pixel and are sent as JPEG; ``--format png`` times the
lossless encoding instead, ``--pixel-ratio 1`` the old resolution.

This is the kernel's share of a slider move. What the reader waits for in
the page (messages through the Jupyter server, the browser decoding the
image) is measured by ``benchmarks/bench_frontend.py``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import lecode.widgets as widgets  # noqa: E402

BUDGET_S = 0.200


def explorers():
    """(name, explorer) for every explorer factory of the book."""
    found = []
    for info in pkgutil.iter_modules(widgets.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"lecode.widgets.{info.name}")
        for factory in sorted(n for n in dir(module) if n.startswith("make_") and n.endswith("explorer")):
            name = info.name if factory == "make_explorer" else f"{info.name}.{factory[5:]}"
            found.append((name, getattr(module, factory)()))
    return found


def slider_values(explorer, n=5):
    """Five values of the explorer's first slider, spread over its range (None if it has none)."""
    for c in explorer.controls:
        if c.kind == "choice":
            continue
        if c.kind == "log":
            values = np.geomspace(c.minimum, c.maximum, n + 2)[1:-1]
        else:
            values = np.linspace(c.minimum, c.maximum, n + 2)[1:-1]
        if c.kind == "int":
            values = np.unique(np.round(values).astype(int))
        return c.name, [c.validate(v.item()) for v in values]
    return None


def empty_render(live):
    """Render the live figure's panels with nothing in them (a copy: same size, panels, layout, dpi, format)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lecode.widgets._explorer import _encode_canvas

    fig, rows = live.explorer._new_figure(1)
    fig.set_dpi(live.dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()                           # lay out once, then freeze the layout
    fig.set_layout_engine("none")

    def render():
        canvas.draw()
        _encode_canvas(canvas, live.image_format)
    return render


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds over all explorers (default 11)")
    parser.add_argument("--format", choices=("jpeg", "png"), default="jpeg", help="image encoding (default jpeg)")
    parser.add_argument("--pixel-ratio", type=float, default=2.0, help="image pixels per CSS pixel (default 2)")
    args = parser.parse_args(argv)

    entries = []
    for name, explorer in explorers():
        live = explorer.live(image_format=args.format, pixel_ratio=args.pixel_ratio)
        live.update()                       # lays the figure out; warms caches and stored data
        size = len(live.update())
        entries.append(dict(name=name, live=live, sweep=slider_values(explorer), size=size,
                            empty=empty_render(live), default=[], draw=[], moving=[], floor=[]))

    for r in range(args.rounds):
        for e in entries:
            live = e["live"]
            e["default"].append(timed(live.update))
            e["draw"].append(timed(lambda: live.update(render=False)))
            e["floor"].append(timed(e["empty"]))
            if e["sweep"] is not None:
                control, values = e["sweep"]
                value = values[r % len(values)]
                e["moving"].append(timed(lambda: live.update(**{control: value})))
                live.update()               # back to the defaults for the next round

    relayouts = {e["name"]: e["live"].relayouts for e in entries}
    print(f"matplotlib {matplotlib.__version__}, numpy {np.__version__}, {args.rounds} rounds, "
          f"{args.format} at {args.pixel_ratio:g} image px per CSS px, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'explorer':26s} {'at defaults':>12s} {'/ budget':>9s} {'/ empty':>8s} {'compute+draw':>13s}"
          f" {'slider moving':>14s} {'image':>8s} {'re-laid':>8s}")
    worst = 0.0
    for e in entries:
        update = float(np.median(e["default"]))
        floor = float(np.median(e["floor"]))
        worst = max(worst, update)
        moving = f"{np.median(e['moving']) * 1e3:11.1f} ms" if e["moving"] else f"{'-':>14s}"
        width, height = e["live"].css_size
        print(f"{e['name']:26s} {update * 1e3:9.1f} ms {update / BUDGET_S:8.2f}x {update / floor:7.1f}x"
              f" {np.median(e['draw']) * 1e3:10.1f} ms {moving} {e['size'] / 1e3:5.0f} kB"
              f" {relayouts[e['name']]:4d}/{len(e['moving'])}")
    print(f"slowest explorer at defaults: {worst * 1e3:.1f} ms "
          f"({'within' if worst <= BUDGET_S else 'OVER'} the 200 ms budget)")


if __name__ == "__main__":
    main()
