"""Budgets of the website (issue 11), measured on the built ``_build/html``.

    python benchmarks/bench_site.py               # site size, page loads, swap latency
    python benchmarks/bench_site.py --make-book   # also: `make book` on a fresh clone (minutes)

* site size (budget 80 MB) and the frames' share of it;
* each page's initial load in headless Chromium, network blocked, lazy
  images left alone: the bytes fetched up to the load event (budget 5 MB);
* swap latency of every player: after its frames are preloaded, a control
  is moved and the animation frames are counted until the new frame is
  decoded and shown (budget: within one animation frame, i.e. 1); the
  baseline in the same run is a swap between two tiny data-URL images;
* with ``--make-book``: wall time of ``make book`` on a fresh ``git clone``
  of this checkout's HEAD (budget 5 minutes on the 2-core machine).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SWAP = """async (root) => {
  root.lecodePlayer.preload();
  const imgs = [...Array(0)];
  const spec = JSON.parse(root.getAttribute('data-lecode-player'));
  await Promise.all(Object.keys(spec.alt).map(n => { const im = new Image(); im.src = spec.base + n; return im.decode().catch(() => {}); }));
  const box = root.querySelector('[data-control="0"]');
  const input = box.querySelector('input[type="range"]') || box.querySelectorAll('input[type="radio"]')[1];
  const img = root.querySelector('img');
  const frames = async (move) => {
    await new Promise(r => requestAnimationFrame(r));
    move();
    let n = 0;
    const decoded = img.decode().then(() => true, () => true);
    let done = false; decoded.then(() => { done = true; });
    while (true) { await new Promise(r => requestAnimationFrame(r)); n += 1; if (done || n > 60) break; }
    return n;
  };
  const move = () => {
    if (input.type === 'range') { input.value = (Number(input.value) + 1) % (Number(input.max) + 1); }
    else { input.checked = true; }
    input.dispatchEvent(new Event(input.type === 'range' ? 'input' : 'change', {bubbles: true}));
  };
  return await frames(move);
}"""

BASELINE = """async () => {
  const a = document.createElement('img'); a.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
  const b = 'data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=';
  document.body.appendChild(a); await a.decode().catch(() => {});
  const pre = new Image(); pre.src = b; await pre.decode().catch(() => {});
  await new Promise(r => requestAnimationFrame(r));
  a.src = b; let done = false; a.decode().then(() => { done = true; }, () => { done = true; });
  let n = 0; while (true) { await new Promise(r => requestAnimationFrame(r)); n += 1; if (done || n > 60) break; }
  return n;
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def browser_budgets() -> None:
    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    pages = sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                   if not p.relative_to(SITE).parts[0].startswith("_"))
    loads, swaps, external = {}, [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        baseline = page.evaluate(BASELINE)
        for path in pages:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            fetched = []

            def route(r):                 # (one parameter: playwright passes the request to a second)
                url = r.request.url
                if url.startswith(base):
                    fetched.append(url)
                    r.continue_()
                elif url.startswith("data:"):
                    r.continue_()
                else:
                    external.append(url)
                    r.abort()

            page.route("**/*", route)
            page.goto(f"{base}/{path}", wait_until="load", timeout=120_000)
            files = {SITE / unquote(urlparse(u).path).lstrip("/") for u in fetched}
            loads[path] = sum(f.stat().st_size for f in files if f.is_file())
            players = page.locator("figure.lecode-player")
            for k in range(players.count()):
                players.nth(k).scroll_into_view_if_needed()
                swaps.append((path, k, page.evaluate(SWAP, players.nth(k).element_handle())))
            page.close()
        browser.close()
    httpd.shutdown()
    worst = max(loads, key=loads.get)
    print(f"page initial load: max {loads[worst] / 1e6:.2f} MB ({worst}; budget 5 MB); "
          f"median {sorted(loads.values())[len(loads) // 2] / 1e6:.2f} MB over {len(loads)} pages")
    print(f"swap latency: baseline (tiny image) {baseline} animation frame(s); players: "
          + ", ".join(f"{Path(p).stem[:2]}#{k}:{n}" for p, k, n in swaps))
    if swaps:
        print(f"swap latency: max {max(n for *_, n in swaps)} frame(s), "
              f"ratio to baseline {max(n for *_, n in swaps) / max(baseline, 1):.2f} (budget: 1 frame)")
    print(f"non-local requests: {len(external)} {sorted(set(external))[:5]}")


def make_book_time() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        result = subprocess.run(["make", "book"], cwd=clone, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode:
            print(result.stdout[-3000:], result.stderr[-3000:])
            raise SystemExit("make book failed on the fresh clone")
        print(f"make book on a fresh clone: {elapsed:.0f} s (budget 300 s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-book", action="store_true", help="also time `make book` on a fresh clone")
    args = parser.parse_args(argv)
    if not (SITE / "index.html").exists():
        raise SystemExit("build the book first (make book)")
    total = _size(SITE)
    frames = _size(SITE / "_static" / "lecode-explorers") if (SITE / "_static" / "lecode-explorers").exists() else 0
    print(f"site size: {total / 1e6:.1f} MB (budget 80 MB), of which explorer frames {frames / 1e6:.1f} MB")
    browser_budgets()
    if args.make_book:
        make_book_time()
    return 0


if __name__ == "__main__":
    sys.exit(main())
