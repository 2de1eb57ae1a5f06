"""Scrubbable explorers on the website.

In a chapter, ``explorer.widget()`` displays the live widget and, alongside
it, the data ``application/vnd.lecode.explorer+json`` naming the explorer's
factory (:meth:`lecode.widgets.Explorer.display_bundle`). On the website:

1. ``_config.yml`` takes the widget view out of the HTML builders' mime
   priority and puts the explorer data first, so that myst-nb hands that data
   to :class:`ExplorerMimeRenderer` (a myst-nb mime renderer, registered as
   an entry point in ``pyproject.toml``), which puts one line ("This explorer
   is live in JupyterLab ...") and a :class:`player` node in the page.
2. The frames of every explorer (its site grid, :mod:`lecode.widgets._site`)
   are rendered by the explorer's own ``compute``/``draw`` in two worker
   processes, started as soon as the build starts (the explorers are found
   in the chapters' stored outputs), so they are drawn while the notebooks
   execute. They are cached under ``_build/.lecode_frames`` by a hash of
   everything they depend on (the lecode sources, the stored results in
   ``chapters/data``, the matplotlib and Pillow versions, the grid, the
   resolution): a rebuild without changes renders nothing.
3. Each page's player is plain HTML (labelled range inputs or radio buttons,
   the values shown next to them, an ``<img>`` with alt text and its size)
   driven by ``static/lecode-player.js``; the frames are copied to
   ``_static/lecode-explorers/`` at the end of the build.
"""

from __future__ import annotations

import hashlib
import html
import json
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes

from ..widgets._explorer import EXPLORER_MIME

__all__ = ["EXPLORER_MIME", "LIVE_NOTE", "ExplorerMimeRenderer", "player", "frames_key",
           "render_to_cache", "setup"]

#: The line that replaces the live widget on the website.
LIVE_NOTE = "This explorer is live in JupyterLab (launch button above)."
STATIC = Path(__file__).parent / "static"
#: Folder of the frames in the built site (under ``_static``).
SITE_FOLDER = "lecode-explorers"
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2


class player(nodes.General, nodes.Element):
    """Placeholder for an explorer's player; ``factory`` names the explorer."""


class ExplorerMimeRenderer:
    """myst-nb mime renderer: the explorer data becomes the live-in-JupyterLab line and a player."""

    mime_priority_overrides = ()      # set in _config.yml (nb_mime_priority_overrides)

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != EXPLORER_MIME:
            return None
        content = data.content if isinstance(data.content, dict) else json.loads(data.string)
        factory = f"{content['module']}:{content['factory']}"
        note = nodes.paragraph(text=LIVE_NOTE, classes=["lecode-live-note"])
        box = nodes.container(classes=["lecode-explorer"])
        box += note
        box += player(factory=factory, title=content.get("title", ""))
        return [box]


# -- frames: hashing, rendering, caching ----------------------------------------------

def _hash_tree(digest, root: Path, patterns) -> None:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())


def frames_key(factory: str, grid: tuple, dpi: int, root: Path = ROOT) -> str:
    """Content hash of everything an explorer's frames depend on (hex, 16 characters)."""
    import matplotlib
    import PIL

    digest = hashlib.sha256()
    digest.update(repr((factory, grid, dpi, matplotlib.__version__, PIL.__version__)).encode())
    _hash_tree(digest, root / "lecode", ["**/*.py"])
    _hash_tree(digest, root / "chapters" / "data", ["**/*"])
    return digest.hexdigest()[:16]


def _folder_name(factory: str, key: str) -> str:
    module, name = factory.split(":")
    return f"{module.rsplit('.', 1)[-1]}-{name}-{key}".replace("_", "-")


def _write_atomic(path: Path, data: bytes) -> None:
    # A small local helper (the project's shared atomic-write helper may replace it).
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _cache_folder(factory: str, cache: str):
    from ..widgets._site import SITE_DPI, explorer_from_factory

    explorer = explorer_from_factory(factory)
    key = frames_key(factory, explorer.site.values, SITE_DPI)
    return explorer, key, Path(cache) / _folder_name(factory, key)


def cached_manifest(factory: str, cache: str) -> dict | None:
    """The manifest of ``factory``'s frames if the cache holds them for the current sources."""
    manifest = _cache_folder(factory, cache)[2] / "manifest.json"
    return json.loads(manifest.read_text()) if manifest.exists() else None


def render_to_cache(factory: str, cache: str) -> dict:
    """Render (or find) the frames of ``factory`` under ``cache``; return the manifest.

    Runs in a worker process. The frames of one explorer are written into a
    temporary folder that is renamed into place when complete, so an
    interrupted build never leaves a partial set behind.
    """
    from PIL import Image

    from ..widgets._site import SITE_DPI, frame_alt, frame_name, render_frames, site_spec

    explorer, key, folder = _cache_folder(factory, cache)
    manifest = folder / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        size = None
        alts = {}
        for index, webp in render_frames(explorer, dpi=SITE_DPI):
            (tmp / frame_name(index)).write_bytes(webp)
            alts[frame_name(index)] = frame_alt(explorer, index)
            if size is None:
                with Image.open(tmp / frame_name(index)) as im:
                    size = im.size
        info = {**site_spec(explorer), "folder": folder.name, "key": key, "dpi": SITE_DPI,
                "width": size[0], "height": size[1], "alt": alts}
        _write_atomic(tmp / "manifest.json", json.dumps(info, indent=1).encode())
        try:
            os.replace(tmp, folder)
        except OSError:              # another build put the same frames there first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return json.loads(manifest.read_text())


def _cache_dir(app) -> Path:
    return Path(app.outdir).parent / ".lecode_frames"


def _stored_factories(srcdir: Path) -> list[str]:
    """Factories named by explorer outputs in the stored chapter notebooks (for an early start)."""
    found = []
    for path in sorted(srcdir.glob("chapters/*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            for out in cell.get("outputs", []) or []:
                data = (out.get("data") or {}).get(EXPLORER_MIME)
                if isinstance(data, dict) and "module" in data and "factory" in data:
                    factory = f"{data['module']}:{data['factory']}"
                    if factory not in found:
                        found.append(factory)
    return found


class _Frames:
    """The build's frame renders: a pool of worker processes and one future per explorer."""

    def __init__(self):
        self.pool = None
        self.futures = {}
        self.manifests = {}

    def submit(self, app, factory: str) -> None:
        if factory in self.futures or factory in self.manifests:
            return
        cached = cached_manifest(factory, str(_cache_dir(app)))
        if cached is not None:
            self.manifests[factory] = cached
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=WORKERS,
                                            mp_context=multiprocessing.get_context("spawn"))
        self.futures[factory] = self.pool.submit(render_to_cache, factory, str(_cache_dir(app)))

    def manifest(self, app, factory: str) -> dict:
        if factory not in self.manifests:
            self.submit(app, factory)
            self.manifests[factory] = self.futures.pop(factory).result()
        return self.manifests[factory]

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


_FRAMES = _Frames()


def _builder_inited(app) -> None:
    if app.builder.format != "html":
        return
    for factory in _stored_factories(Path(app.srcdir)):
        _FRAMES.submit(app, factory)


def _doctree_read(app, doctree) -> None:
    factories = sorted({node["factory"] for node in doctree.findall(player)})
    if not hasattr(app.env, "lecode_players"):
        app.env.lecode_players = {}
    if factories:
        app.env.lecode_players[app.env.docname] = factories
    else:
        app.env.lecode_players.pop(app.env.docname, None)


def _purge_doc(app, env, docname) -> None:
    getattr(env, "lecode_players", {}).pop(docname, None)


def _merge_info(app, env, docnames, other) -> None:
    if not hasattr(env, "lecode_players"):
        env.lecode_players = {}
    env.lecode_players.update({d: f for d, f in getattr(other, "lecode_players", {}).items()
                               if d in docnames})


def _env_updated(app, env) -> None:
    """Every player's frames are ready before the pages are written."""
    if app.builder.format != "html":
        return
    wanted = sorted({f for fs in getattr(env, "lecode_players", {}).values() for f in fs})
    for factory in wanted:
        _FRAMES.submit(app, factory)
    for factory in wanted:
        _FRAMES.manifest(app, factory)


def _build_finished(app, exception) -> None:
    _FRAMES.shutdown()
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / SITE_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    wanted = {f for fs in getattr(app.env, "lecode_players", {}).values() for f in fs}
    keep = set()
    for factory in sorted(wanted):
        info = _FRAMES.manifest(app, factory)
        keep.add(info["folder"])
        dest = target / info["folder"]
        if not (dest / "manifest.json").exists():
            tmp = target / f".{info['folder']}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(_cache_dir(app) / info["folder"], tmp)
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(tmp, dest)
    for old in target.iterdir():            # frames of explorers that changed or left the book
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    _FRAMES.shutdown()


# -- HTML ----------------------------------------------------------------------------

def _attr(value) -> str:
    return html.escape(str(value), quote=True)


def player_html(info: dict, base: str, uid: str) -> str:
    """The player's HTML: controls with their current values, and the default frame (lazy)."""
    default = [c["default"] for c in info["controls"]]
    name = "-".join(str(i) for i in default) + ".webp"
    data = {"base": base, "title": info["title"], "alt": info["alt"],
            "controls": [{"label": c["label"], "values": c["values"], "default": c["default"]}
                         for c in info["controls"]]}
    parts = [f'<figure class="lecode-player" id="{uid}" data-frame="{name}" '
             f'data-lecode-player="{_attr(json.dumps(data))}">',
             '<div class="lecode-player-controls">']
    for j, c in enumerate(info["controls"]):
        cid = f"{uid}-c{j}"
        value = c["values"][c["default"]]
        if c["kind"] == "choice":
            parts.append(f'<fieldset class="lecode-control" data-control="{j}">'
                         f'<legend>{_attr(c["label"])}</legend>')
            for i, v in enumerate(c["values"]):
                checked = " checked" if i == c["default"] else ""
                parts.append(f'<label><input type="radio" name="{cid}" value="{i}"{checked}> '
                             f'{_attr(v)}</label>')
            parts.append("</fieldset>")
        else:
            parts.append(f'<div class="lecode-control" data-control="{j}">'
                         f'<label for="{cid}">{_attr(c["label"])}</label> '
                         f'<input type="range" id="{cid}" min="0" max="{len(c["values"]) - 1}" '
                         f'step="1" value="{c["default"]}" aria-valuetext="{_attr(value)}"> '
                         f'<output for="{cid}">{_attr(value)}</output></div>')
    parts.append("</div>")
    from ..widgets._explorer import CSS_PX_PER_INCH

    # shown at the live figure's CSS size (CSS_PX_PER_INCH per inch of figure)
    width = info["width"] * CSS_PX_PER_INCH // info["dpi"]
    height = info["height"] * CSS_PX_PER_INCH // info["dpi"]
    parts.append(f'<img class="lecode-player-frame" src="{_attr(base + name)}" '
                 f'alt="{_attr(info["alt"][name])}" width="{width}" height="{height}" '
                 f'loading="lazy" decoding="async">')
    # the link follows the frame shown (lecode-player.js): on a phone the figure is
    # scaled to the screen, and this opens the frame at its full resolution
    parts.append(f'<figcaption>{_attr(info["title"])}: precomputed frames of the explorer '
                 '(arrow keys move the focused control; '
                 f'<a class="lecode-player-full" href="{_attr(base + name)}" target="_blank">'
                 'open this frame full size</a>)</figcaption></figure>')
    return "".join(parts)


def visit_player_html(self, node):
    from sphinx.util.osutil import relative_uri

    app = self.builder.app
    info = _FRAMES.manifest(app, node["factory"])
    page = self.builder.get_target_uri(self.builder.current_docname)
    base = relative_uri(page, f"_static/{SITE_FOLDER}/{info['folder']}/")
    count = getattr(self, "_lecode_players", 0)
    self._lecode_players = count + 1
    self.body.append(player_html(info, base, f"lecode-player-{count}"))
    raise nodes.SkipNode


def skip_player(self, node):
    raise nodes.SkipNode


def _add_static_path(app, config) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app):
    app.add_node(player, html=(visit_player_html, None), latex=(skip_player, None),
                 text=(skip_player, None), man=(skip_player, None), texinfo=(skip_player, None))
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("env-updated", _env_updated)
    app.connect("build-finished", _build_finished)
    app.add_js_file("lecode-player.js", loading_method="defer")
    app.add_css_file("lecode.css")
