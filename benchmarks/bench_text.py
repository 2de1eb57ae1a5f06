"""What drawing text costs in this matplotlib, and (optionally) against another release.

Text (tick labels, titles, legends) is most of what an explorer update
renders, which is why the book's environment holds matplotlib at 3.10
(``pyproject.toml``, extra ``book``). The measurement: render, with Agg at the
explorers' 72 dpi, a figure holding 40 short labels and the same figure with
none; the difference divided by 40 is the cost of one label. The empty figure
is the baseline, run in the same process.

    python benchmarks/bench_text.py                    # this environment only
    python benchmarks/bench_text.py --compare 3.11.2   # also in a temporary venv with that release

``--compare`` builds a virtual environment with ``pip install matplotlib==VERSION
numpy`` (package index only), runs the same measurement there and prints the
ratio of the two per-label costs (one command, both runs side by side).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

N_LABELS = 40
REPEATS = 31


def measure() -> dict:
    """Median render times (s) of an empty figure and of one with N_LABELS labels; per-label cost."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def render_time(n_labels):
        fig = Figure(figsize=(8.0, 3.0), dpi=72)
        for i in range(n_labels):
            fig.text((i % 8) / 8 + 0.01, (i // 8) / 5 + 0.05, f"{0.25 * i:.2f} label", fontsize=9)
        canvas = FigureCanvasAgg(fig)
        canvas.print_png(io.BytesIO())                       # warm-up: fonts, caches
        samples = []
        for _ in range(REPEATS):
            start = time.process_time()
            canvas.print_png(io.BytesIO())
            samples.append(time.process_time() - start)
        samples.sort()
        return samples[len(samples) // 2]

    empty, full = render_time(0), render_time(N_LABELS)
    return {"matplotlib": matplotlib.__version__, "empty_s": empty, "labels_s": full,
            "per_label_s": (full - empty) / N_LABELS}


def _report(result: dict) -> None:
    print(f"matplotlib {result['matplotlib']}: empty figure {result['empty_s'] * 1e3:.1f} ms, "
          f"with {N_LABELS} labels {result['labels_s'] * 1e3:.1f} ms "
          f"({result['labels_s'] / result['empty_s']:.1f}x the empty figure), "
          f"{result['per_label_s'] * 1e3:.2f} ms per label")


def _measure_elsewhere(version: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env_dir = Path(tmp) / "venv"
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"matplotlib=={version}", "numpy"],
                       check=True)
        out = subprocess.run([python, __file__, "--json"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare", metavar="VERSION",
                        help="also measure matplotlib==VERSION in a temporary virtual environment")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    here = measure()
    if args.json:
        print(json.dumps(here))
        return
    _report(here)
    if args.compare:
        there = _measure_elsewhere(args.compare)
        _report(there)
        print(f"per-label cost, {there['matplotlib']} / {here['matplotlib']}: "
              f"{there['per_label_s'] / here['per_label_s']:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
