"""Time a slider move in the real JupyterLab page: key press to the new figure on screen, per explorer.

Run with ``python benchmarks/bench_frontend.py`` (``make bench``), on an
otherwise idle machine; the load average is printed with the numbers.
JupyterLab is started from this environment on a temporary copy of
``chapters/`` and driven by headless Debian chromium (tools/lab_session.py,
shared with ``tests/test_frontend_lab.py``). Each chapter is opened and run
(Run All); then, for each of its explorers, the first slider is moved
``--presses`` times by real key presses (ArrowRight/ArrowLeft, one step at a
time, swinging around the default value), each press waiting for its figure.

For every press the page records, in its own clock, when the new image was
set, when the browser had decoded it, and the next frame after that; the
kernel records (``LiveFigure.timings``) how long the update took there. The
latency (key press to frame) is split into

* kernel: compute + draw + render + encode, as timed inside the kernel;
* transport: the rest until the image is set (the slider's message to the
  kernel, the figure's message back through the Jupyter server, the widget
  manager);
* decode: until the browser has decoded the image, and frame: until the next
  paint.

A baseline explorer measured in the same run (one marker, nothing
computed: ``_baseline.ipynb``, written into the temporary copy) gives the
floor of any update through the page; each explorer's median is also given
as a ratio to it. Budget (issue 12): median <= 200 ms and 90th percentile
<= 300 ms at default settings, with live figures at 2 image px per CSS px.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))            # tools/lab_session.py (shared with tests/test_frontend_lab.py)

from tools import lab_session  # noqa: E402
from tools.run_notebooks import KERNEL, normalise, toc_notebooks  # noqa: E402

MEDIAN_BUDGET_MS, P90_BUDGET_MS = 200.0, 300.0

BASELINE_CODE = """\
from lecode.widgets import Control, Explorer

# one marker that moves with the slider: an image that changes (identical bytes send no update)
baseline = Explorer("baseline: nothing computed, one marker",
                    [Control("a", "a", 0.5, 0.0, 1.0, 0.01)], lambda a: a,
                    lambda result, axes, params: axes[0].plot([result], [0.5], "o") and axes[0].set_xlim(0, 1))
baseline.widget()"""

TIMINGS_CODE = """\
import gc as _gc, json as _json
from lecode.widgets import LiveFigure as _LF
_lives = [o for o in _gc.get_objects() if isinstance(o, _LF) and o.timings]
_last = max(_lives, key=lambda o: o.timings[-1]["end"])
print(_json.dumps(list(_last.timings)[-{n}:]))"""

_EXECUTE_JS = """
const panel = window.jupyterapp.shell.currentWidget;
const future = panel.sessionContext.session.kernel.requestExecute(
    {code: arguments_code, silent: false, store_history: false});
let text = '';
future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
return future.done.then(() => text);
"""


def write_baseline(folder: Path) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(BASELINE_CODE)]
    nb.metadata["kernelspec"] = {"name": KERNEL}
    normalise(nb)
    nbformat.write(nb, folder / "_baseline.ipynb")
    return "_baseline.ipynb"


def kernel_timings(page, n: int) -> list[dict]:
    out = page.js(_EXECUTE_JS, code=TIMINGS_CODE.format(n=n))
    return json.loads(out)


def measure(page, index: int, presses: int) -> list[dict]:
    """``presses`` key presses on explorer ``index``, swinging five steps either side of the default."""
    page.watch_image(index)
    handle = page.slider_handle(index)
    samples, direction, offset = [], "ArrowRight", 0
    for _ in range(presses):
        now, low, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemin",
                                                                  "aria-valuemax"))
        if offset >= 5 or now >= top:
            direction = "ArrowLeft"
        elif offset <= -5 or now <= low:
            direction = "ArrowRight"
        samples.append(page.press(index, direction))
        offset += 1 if direction == "ArrowRight" else -1
    kernel = kernel_timings(page, presses)
    if len(kernel) != presses:
        raise RuntimeError(f"{page.notebook}: {presses} presses but {len(kernel)} kernel updates")
    for sample, k in zip(samples, kernel):
        sample["kernel"] = 1e3 * (k["compute"] + k["draw"] + k["render"] + k["encode"])
        sample["kernel_parts"] = {name: 1e3 * k[name] for name in ("compute", "draw", "render", "encode")}
        sample["bytes"] = k["bytes"]
        sample["relayout"] = k["relayout"]
    return samples


def summary(name: str, samples: list[dict], floor: float | None) -> dict:
    total = np.array([s["frame"] for s in samples])
    kernel = np.array([s["kernel"] for s in samples])
    transport = np.array([s["set"] for s in samples]) - kernel
    decode = np.array([s["decoded"] - s["set"] for s in samples])
    frame = np.array([s["frame"] - s["decoded"] for s in samples])
    row = dict(name=name, n=len(samples), median=float(np.median(total)), p90=float(np.percentile(total, 90)),
               kernel=float(np.median(kernel)), transport=float(np.median(transport)),
               decode=float(np.median(decode)), frame=float(np.median(frame)),
               kB=float(np.median([s["bytes"] for s in samples]) / 1e3),
               relayouts=int(sum(s["relayout"] for s in samples)),
               parts={k: float(np.median([s["kernel_parts"][k] for s in samples]))
                      for k in ("compute", "draw", "render", "encode")})
    row["ratio"] = row["median"] / floor if floor else 1.0
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=40, help="key presses per explorer (default 40)")
    parser.add_argument("--chapters", nargs="*", help="chapter notebooks to measure (default: all)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)
    path = lab_session.chromium()
    if path is None:
        print("skipped: no chromium binary (apt-get install chromium); nothing to measure")
        return 0
    from playwright.sync_api import sync_playwright

    chapters = args.chapters or [p.name for p in toc_notebooks() if p.parent.name == "chapters"]
    rows, raw, loads = [], {}, [os.getloadavg()]
    with lab_session.LabServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=lab_session.CHROMIUM_FLAGS)
        floor = None
        for notebook in [write_baseline(server.tmp / "chapters")] + chapters:
            page = lab_session.ChapterPage(browser, server, notebook)
            try:
                run_s = page.run_all()
                for index in page.explorer_cells():
                    name = "baseline" if notebook.startswith("_") else f"{notebook[:2]} cell {index}"
                    samples = measure(page, index, args.presses)
                    raw[name] = samples
                    row = summary(name, samples, floor)
                    if floor is None:
                        floor = row["median"]
                    rows.append(row)
                    loads.append(os.getloadavg())
                    print(f"  {name}: median {row['median']:.0f} ms, p90 {row['p90']:.0f} ms "
                          f"(chapter ran in {run_s:.0f} s)", flush=True)
            finally:
                page.close()
        browser.close()

    load = np.array(loads)
    print(f"\nfront-end latency, key press to new figure on screen, {args.presses} presses per explorer; "
          f"load average (1 min) {load[:, 0].min():.2f}-{load[:, 0].max():.2f} on {os.cpu_count()} cores")
    print(f"{'explorer':14s} {'median':>8s} {'p90':>8s} {'/ base':>7s} | {'kernel':>7s} "
          f"({'comp':>5s} {'draw':>5s} {'rend':>5s} {'enc':>5s}) {'transp':>7s} {'decode':>7s} {'frame':>6s}"
          f" {'image':>7s} {'relaid':>6s}")
    worst_median = worst_p90 = 0.0
    for r in rows:
        p = r["parts"]
        if r["name"] != "baseline":
            worst_median, worst_p90 = max(worst_median, r["median"]), max(worst_p90, r["p90"])
        print(f"{r['name']:14s} {r['median']:6.0f}ms {r['p90']:6.0f}ms {r['ratio']:6.1f}x | {r['kernel']:5.0f}ms "
              f"({p['compute']:5.0f} {p['draw']:5.0f} {p['render']:5.0f} {p['encode']:5.0f}) "
              f"{r['transport']:5.0f}ms {r['decode']:5.0f}ms {r['frame']:4.0f}ms {r['kB']:5.0f}kB"
              f" {r['relayouts']:3d}/{r['n']}")
    ok = worst_median <= MEDIAN_BUDGET_MS and worst_p90 <= P90_BUDGET_MS
    print(f"worst explorer: median {worst_median:.0f} ms (budget {MEDIAN_BUDGET_MS:.0f}), "
          f"p90 {worst_p90:.0f} ms (budget {P90_BUDGET_MS:.0f}): {'within' if ok else 'OVER'} the budget")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": rows, "samples": raw, "loadavg": loads}, indent=1))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
