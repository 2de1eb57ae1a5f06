"""Drive the book in a real JupyterLab page: headless Debian chromium through Playwright.

Shared by ``tests/test_frontend_lab.py`` (what a reader of ``make lab`` sees)
and ``benchmarks/bench_frontend.py`` (how long a slider move takes in the
page). :class:`LabServer` starts JupyterLab from the running Python
environment (the project's) on a free local port, without token or browser,
on a temporary copy of ``chapters/`` (running a chapter never touches the
committed notebooks) and with its own settings: every cell kept in the page
(no windowing, so that every cell can be inspected), no autosave, no news.
:class:`ChapterPage` opens one chapter in its own browser tab and reads what
it shows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: Settings of the JupyterLab under test (a fresh user-settings directory).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


def chromium() -> str | None:
    """Path of a Chromium binary (Debian's ``/usr/bin/chromium`` first), or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on ``127.0.0.1:<free port>`` serving a temporary copy of ``chapters``.

    Use as a context manager; :attr:`base_url` is the server's address.
    """

    def __init__(self, chapters: Path = ROOT / "chapters", *, startup_timeout: float = 120.0):
        self.chapters = Path(chapters)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.tmp: Path | None = None
        self.base_url = ""

    def __enter__(self) -> "LabServer":
        self.tmp = Path(tempfile.mkdtemp(prefix="lecode-lab-"))
        root = self.tmp / "chapters"
        shutil.copytree(self.chapters, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = self.tmp / "user-settings"
        for name, value in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        port = _free_port()
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
                   OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
        env.pop("MPLBACKEND", None)          # the kernel must keep its inline figures
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
                   "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
                   "--ServerApp.token=", "--ServerApp.password=",
                   f"--ServerApp.root_dir={root}",
                   f"--LabApp.user_settings_dir={settings}",
                   f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
                   "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self.log = open(self.tmp / "server.log", "w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/status", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"JupyterLab did not answer within {self.startup_timeout:.0f} s")
                time.sleep(0.3)
        return self

    def log_tail(self, n: int = 3000) -> str:
        self.log.flush()
        return (self.tmp / "server.log").read_text()[-n:]

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)        # the server and the kernels it started
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self.tmp is not None:
            self.log.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def url(self, notebook: str) -> str:
        return f"{self.base_url}/lab/tree/{notebook}?reset"


# -- in-page helpers (JavaScript run by Playwright) ----------------------------------------

_PANEL = "const panel = window.jupyterapp.shell.currentWidget;"

_STATE_JS = _PANEL + """
const kernel = panel.sessionContext.session?.kernel;
return {kernel: kernel ? kernel.status : 'none', dirty: panel.model.dirty,
        cells: panel.content.widgets.length};
"""

_CELLS_JS = _PANEL + """
return panel.content.widgets.map((cell, i) => {
  const m = cell.model;
  const out = {index: i, type: m.type, id: m.id, source: m.sharedModel.getSource()};
  if (m.type === 'code') {
    out.count = m.executionCount;
    out.outputs = m.outputs.toJSON().map(o => ({output_type: o.output_type, name: o.name || null,
        text: o.output_type === 'stream' ? String(o.text).slice(0, 2000)
             : o.output_type === 'error' ? (o.ename + ': ' + o.evalue)
             : JSON.stringify(o.data || {}).slice(0, 300)}));
    const area = cell.node.querySelector('.jp-OutputArea');
    out.shown = area ? area.innerText.slice(0, 2000) : '';
  } else if (m.type === 'markdown') {
    const myst = cell.node.querySelector('.myst');
    out.myst = !!myst;
    if (myst) {
      const clone = myst.cloneNode(true);
      clone.querySelectorAll('code, pre, .katex, svg, mjx-container').forEach(e => e.remove());
      out.text = clone.textContent;
      out.flags = [...myst.querySelectorAll('[title]')]
        .filter(e => e.tagName === 'PRE' || e.querySelector('svg'))
        .map(e => ({tag: e.tagName, title: e.getAttribute('title'), text: e.textContent.trim()}));
      out.unknown_directive = myst.textContent.includes('Unknown Directive');
    } else {
      out.text = (cell.node.querySelector('.jp-RenderedMarkdown') || cell.node).textContent;
      out.flags = [];
    }
  }
  return out;
});
"""

_RUN_ALL_WATCH_JS = _PANEL + """
window.__lecodeRun = {done: new Set(), codes: 0};
for (const cell of panel.content.widgets) {
  if (cell.model.type !== 'code') continue;
  window.__lecodeRun.codes += 1;
  cell.model.stateChanged.connect((model, change) => {
    if (change.name === 'executionCount' && change.newValue !== null) window.__lecodeRun.done.add(model.id);
  });
}
return window.__lecodeRun.codes;
"""

_RUN_DONE_JS = _PANEL + """
const kernel = panel.sessionContext.session?.kernel;
const running = panel.content.widgets.some(c => c.model.type === 'code' && c.model.executionState === 'running');
return {done: window.__lecodeRun.done.size, codes: window.__lecodeRun.codes,
        idle: !!kernel && kernel.status === 'idle', running: running};
"""

#: Watch the explorer image of output ``index`` (a code cell): every new ``src`` is timed
#: when it is set, when the browser has decoded it, and at the next frame after that.
_WATCH_IMAGE_JS = _PANEL + """
const img = panel.content.widgets[arguments_index].node.querySelector('.jp-OutputArea img');
window.__lecodeImg = window.__lecodeImg || {};
const log = window.__lecodeImg[arguments_index] = {events: [], keys: []};
new MutationObserver(() => {
  const set = performance.now();
  const event = {set: set, decoded: null, frame: null, width: 0};
  log.events.push(event);
  img.decode().then(() => {
    event.decoded = performance.now();
    event.width = img.naturalWidth;
    requestAnimationFrame(() => { event.frame = performance.now(); });
  }).catch(() => { event.decoded = -1; });
}).observe(img, {attributes: true, attributeFilter: ['src']});
document.addEventListener('keydown', e => log.keys.push(e.timeStamp), true);
return {natural: img.naturalWidth, shown: img.getBoundingClientRect().width};
"""


class ChapterPage:
    """One chapter open in its own tab of ``browser`` (a Playwright Browser)."""

    def __init__(self, browser, server: LabServer, notebook: str, *, viewport=(1400, 1000),
                 timeout: float = 120.0):
        self.notebook = notebook
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.goto(server.url(notebook))
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.content"
            " && window.jupyterapp.shell.currentWidget.context.isReady",
            timeout=timeout * 1000)
        self.wait_for(lambda s: s["kernel"] == "idle", timeout, "the kernel to start")
        # markdown is rendered asynchronously (jupyterlab-myst parses the whole notebook)
        self.page.wait_for_function(
            "() => document.querySelectorAll('.jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown')"
            ".length >= document.querySelectorAll('.jp-MarkdownCell').length", timeout=timeout * 1000)
        self.page.wait_for_timeout(1500)

    def js(self, body: str, **args):
        """Evaluate a function body; ``arguments_<name>`` in it are replaced by ``args``."""
        for name, value in args.items():
            body = body.replace(f"arguments_{name}", json.dumps(value))
        return self.page.evaluate(f"() => {{ {body} }}")

    def state(self) -> dict:
        return self.js(_STATE_JS)

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.notebook}: waited {timeout:.0f} s for {what} ({state})")
            time.sleep(0.2)

    def cells(self) -> list[dict]:
        return self.js(_CELLS_JS)

    def mathjax_errors(self) -> int:
        return self.page.evaluate("() => document.querySelectorAll('mjx-merror, .MathJax_Error').length")

    def run_all(self, timeout: float = 600.0) -> float:
        """Run every cell from the Run menu (real clicks); seconds until the last one finished."""
        codes = self.js(_RUN_ALL_WATCH_JS)
        start = time.monotonic()
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        deadline = start + timeout
        while True:
            s = self.js(_RUN_DONE_JS)
            if s["done"] >= codes and s["idle"] and not s["running"]:
                return time.monotonic() - start
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.notebook}: cells still running after {timeout:.0f} s ({s})")
            time.sleep(0.25)

    def explorer_cells(self) -> list[int]:
        """Indices of the code cells that show an explorer (``.widget()``)."""
        return [c["index"] for c in self.cells() if c["type"] == "code" and ".widget()" in c["source"]]

    def watch_image(self, index: int) -> dict:
        """Start timing the explorer image of cell ``index``; its natural and shown widths."""
        self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea img").first.wait_for(
            timeout=60_000)
        return self.js(_WATCH_IMAGE_JS, index=index)

    def slider_handle(self, index: int):
        """The handle of the explorer's first slider (a Playwright locator)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".noUi-handle").first

    def press(self, index: int, key: str, timeout: float = 20.0) -> dict:
        """Press ``key`` on the first slider of explorer ``index``; timings of the figure it brings.

        Returns the key press time and, in ms after it, when the new image was
        set, decoded and shown at the next frame (all in the page's clock).
        """
        handle = self.slider_handle(index)
        handle.focus()
        before = self.js(f"return window.__lecodeImg[{index}].events.length;")
        self.page.keyboard.press(key)
        deadline = time.monotonic() + timeout
        while True:
            log = self.js(f"return window.__lecodeImg[{index}];")
            fresh = log["events"][before:]
            if fresh and fresh[-1]["frame"] is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.notebook}: no new figure {timeout:.0f} s after {key}")
            time.sleep(0.02)
        key_time = log["keys"][-1]
        first = fresh[0]
        return {"key": key_time, "set": first["set"] - key_time,
                "decoded": first["decoded"] - key_time, "frame": first["frame"] - key_time,
                "width": first["width"], "images": len(fresh)}

    def slider_value(self, index: int) -> str:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(
            ".widget-readout").first.inner_text()

    def close(self) -> None:
        try:
            self.js(_PANEL + "return panel.sessionContext.shutdown();")
        finally:
            self.page.close(run_before_unload=False)
