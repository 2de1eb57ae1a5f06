"""The built site in headless Chromium: every page loads and its math renders offline.

Reads ``_build/html`` (``make test`` builds it first). Needs a Chromium binary
(``chromium`` from Debian's packages; ``.ci/run`` installs it when it can).
Without one the tests skip with a reason, unless ``LECODE_REQUIRE_BROWSER=1``.
Links and images are checked statically in ``tests/test_book.py``.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=10000"]


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("LECODE_REQUIRE_BROWSER"):
        pytest.fail("no Chromium binary found (apt-get install chromium)")
    pytest.skip("no Chromium binary found (apt-get install chromium); the static link checks still ran")


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        if os.environ.get("LECODE_REQUIRE_SITE"):
            pytest.fail("the book is not built: run `make book` first")
        pytest.skip("the book is not built (run `make book`)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def _pages() -> list[str]:
    if not SITE.exists():
        return []
    pages = (p.relative_to(SITE) for p in SITE.rglob("*.html"))
    return sorted(str(p) for p in pages if not p.parts[0].startswith("_")
                  and p.name not in ("genindex.html", "search.html", "py-modindex.html"))


def _dump_dom(browser: str, url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"Chromium failed on {url}: {result.stderr[-500:]}"
    return result.stdout


@pytest.mark.parametrize("page", _pages())
def test_page_loads_and_math_renders(server, page):
    browser = _browser()
    dom = _dump_dom(browser, f"{server}/{page}")
    assert "<main" in dom and "bd-article" in dom, f"{page}: the page did not render its article"
    source = (SITE / page).read_text(encoding="utf-8")
    if 'class="math' in source:
        assert "mjx-container" in dom, f"{page}: MathJax did not typeset (offline MathJax missing?)"
