"""The website's scrubbable explorers, offline, in headless Chromium (Playwright).

Reads ``_build/html`` (``make test`` builds it first). Every request that does
not go to the local test server is blocked and recorded. For every chapter
page: each player is found, each of its controls is moved with the keyboard,
and the displayed frame must change, be the file of the new control values
and be pixel-identical to the frame the explorer's own code renders for those
values. On every page of the book, the main column must not overflow at 1280 px and
text must stay inside a 390 px phone screen (equations and code may scroll in their boxes).

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright``
package (no browser download); without them the tests skip, unless
``LECODE_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chapter_pages() -> list[str]:
    return sorted(f"chapters/{p.stem}.html" for p in (ROOT / "chapters").glob("*.ipynb"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        if os.environ.get("LECODE_REQUIRE_SITE"):
            pytest.fail("the book is not built: run `make book` first")
        pytest.skip("the book is not built (run `make book`)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("LECODE_REQUIRE_BROWSER"):
            pytest.fail("playwright is not installed (pip install -e '.[test]')")
        pytest.skip("playwright is not installed")
    if not Path(chromium).exists():
        if os.environ.get("LECODE_REQUIRE_BROWSER"):
            pytest.fail("no Chromium binary (apt-get install chromium)")
        pytest.skip("no Chromium binary (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, server, page_path, width=1280):
    """A page with every non-local request blocked; returns (page, list of blocked URLs)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    blocked = []

    def route(r):
        url = r.request.url
        if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{server}/{page_path}", wait_until="load")
    return page, blocked


def _pixels(webp: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(webp)) as im:
        return np.asarray(im.convert("RGBA"))


_explorers = {}


_RENDER_GRID = """
import sys
from pathlib import Path
from lecode.widgets._site import explorer_from_factory, frame_name, render_frames
out = Path(sys.argv[2])
for index, webp in render_frames(explorer_from_factory(sys.argv[1])):
    (out / frame_name(index)).write_bytes(webp)
"""


def _expected_frame(factory: str, index) -> np.ndarray:
    """The explorer's own render at ``index``, as the build draws it.

    The build renders an explorer's whole grid with one live figure in a fresh
    worker process, in row-major order (the live figure lays itself out again
    when labels stop fitting and keeps that layout for later frames). The
    expected frames are drawn the same way, in a fresh process, so that no
    matplotlib state left by other tests in this process can change a pixel.
    """
    import subprocess
    import sys
    import tempfile

    from lecode.widgets._site import frame_name

    if factory not in _explorers:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-c", _RENDER_GRID, factory, tmp], check=True,
                           env={**os.environ, "MPLBACKEND": "Agg"}, timeout=600)
            _explorers[factory] = {p.name: _pixels(p.read_bytes()) for p in Path(tmp).iterdir()}
    return _explorers[factory][frame_name(index)]


@pytest.mark.parametrize("page_path", _chapter_pages())
def test_every_player_moves_with_the_keyboard_offline(browser, server, page_path):
    page, blocked = _open(browser, server, page_path)
    source = (SITE / page_path).read_text(encoding="utf-8")
    players = page.locator("figure.lecode-player")
    count = players.count()
    assert count == source.count('class="lecode-player"')
    assert 'type="application/vnd.jupyter.widget-view+json"' not in source, "a dead widget is on the page"
    if "explorer.widget()" in source or "lazy_explorer.widget()" in source:
        assert count >= 1, f"{page_path}: an explorer cell without a player"
        assert "This explorer is live in JupyterLab" in source
    for k in range(count):
        root = players.nth(k)
        root.scroll_into_view_if_needed()
        spec = json.loads(root.get_attribute("data-lecode-player"))
        factory = json.loads((SITE / "_static" / "lecode-explorers").joinpath(
            spec["base"].rstrip("/").rsplit("/", 1)[-1], "manifest.json").read_text())["factory"]
        index = [c["default"] for c in spec["controls"]]
        assert root.get_attribute("data-frame") == "-".join(map(str, index)) + ".webp"
        for j, control in enumerate(spec["controls"]):
            box = root.locator(f'[data-control="{j}"]')
            target = box.locator('input[type="range"]')
            if target.count() == 0:
                target = box.locator("input[type=radio]:checked")
            target.focus()
            forward = index[j] < len(control["values"]) - 1
            before = root.locator("img").screenshot()
            page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
            index[j] += 1 if forward else -1
            name = "-".join(map(str, index)) + ".webp"
            page.wait_for_function(
                "([el, n]) => el.getAttribute('data-frame') === n && el.querySelector('img').complete"
                " && el.querySelector('img').naturalWidth > 0", arg=[root.element_handle(), name])
            img = root.locator("img")
            assert img.get_attribute("src").endswith("/" + name)
            assert root.locator("a.lecode-player-full").get_attribute("href") == img.get_attribute("src")
            assert control["values"][index[j]] in img.get_attribute("alt")
            after = img.screenshot()
            assert before != after, f"{page_path}: the frame did not change on screen"
            shown = (SITE / page_path).parent.joinpath(img.get_attribute("src")).resolve().read_bytes()
            np.testing.assert_array_equal(_pixels(shown), _expected_frame(factory, index),
                                          err_msg=f"{page_path}: frame {name} is not the explorer's")
    page.close()
    assert blocked == [], f"{page_path} asked the network for {blocked}"


_OVERFLOW = """() => {
  const main = document.querySelector('main .bd-article');
  const right = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
  const bad = [];
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const inScroller = el.closest('div.highlight, .cell_input, mjx-container, .table-wrapper, pre');
    if (r.right > right + 1 && !(inScroller && inScroller !== el)) {
      bad.push(el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60));
    }
  }
  for (const el of main.querySelectorAll('mjx-container[display="true"], .cell_output pre')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      bad.push('scrolls ' + el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60));
    }
  }
  return bad;
}"""


def _content_pages() -> list[str]:
    """Every page written from a source of the book (chapters, appendix, problem sets, guides)."""
    sources = [*ROOT.glob("*.ipynb"), *ROOT.glob("*.md"), *(ROOT / "chapters").glob("*.ipynb"),
               *(ROOT / "problem_sets").glob("*.ipynb")]
    pages = {str(p.relative_to(ROOT).with_suffix(".html")) for p in sources}
    return sorted(p for p in pages if (SITE / p).exists() or not SITE.exists()) or ["index.html"]


def _settle(page):
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup.promise")


@pytest.mark.parametrize("page_path", _content_pages())
def test_no_equation_or_output_overflows_the_column_at_1280px(browser, server, page_path):
    """Display equations and printed output fit; code cells may scroll inside their box."""
    page, blocked = _open(browser, server, page_path)
    _settle(page)
    bad = page.evaluate(_OVERFLOW)
    page.close()
    assert bad == [], f"{page_path}: overflowing the main column at 1280 px:\n" + "\n".join(bad[:20])
    assert blocked == []


# At phone width, equations, code and tables may scroll inside their own box; text may not.
_PHONE = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  if (document.documentElement.scrollWidth > width + 1) bad.push('the page scrolls sideways: ' +
      document.documentElement.scrollWidth + ' px');
  const main = document.querySelector('main .bd-article');
  for (const el of main.querySelectorAll('p, li, dt, dd, h1, h2, h3, h4, figcaption, caption, img, .lecode-player, .admonition, .proof, blockquote')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest('div.highlight, .cell_input, mjx-container, .table-wrapper, .pst-scrollable-table-container, pre, .cell_output')) continue;
    if (r.right > width + 1 || r.left < -1) bad.push(el.tagName + ' ' + Math.round(r.left) + '..' + Math.round(r.right) +
        ': ' + (el.textContent || el.getAttribute('alt') || '').trim().slice(0, 60));
  }
  return bad;
}"""


@pytest.mark.parametrize("page_path", _content_pages())
def test_text_stays_inside_a_390px_phone_screen(browser, server, page_path):
    page, blocked = _open(browser, server, page_path, width=390)
    _settle(page)
    bad = page.evaluate(_PHONE)
    page.close()
    assert bad == [], f"{page_path}: past the edge of a 390 px screen:\n" + "\n".join(bad[:20])
    assert blocked == []
