"""Atomic file writes: a file the project writes is either the old one or the new one.

Every file ``lecode`` (and the book's tools) produces — stored results
(``.npz``), precomputed frames, grades, CSV tables — is written through
:func:`atomic_write`: the content goes to a temporary file in the *same folder*
as the target, is flushed and ``fsync``-ed, and only then renamed over the
target with :func:`os.replace`, which is atomic on POSIX and on Windows when
both names are on one file system. A process killed at any moment therefore
leaves the target either untouched (old content) or complete (new content);
at worst a stray temporary file ``.<name>.<random>.tmp`` remains beside it.

Use::

    from lecode._io import atomic_write, atomic_savez

    with atomic_write("table.csv", "w") as fh:     # text or binary ("wb")
        fh.write("a,b\\n1,2\\n")
    atomic_savez("results.npz", x=np.arange(3))    # np.savez_compressed, atomically
    atomic_write_bytes("frame.png", png_bytes)
    atomic_write_text("grades.json", json.dumps(grades))
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_savez"]


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, encoding: str | None = None,
                 newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success, rename it over ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The target file. Its folder must exist (it is not created, so that a
        typo in a folder name is an error, not a new folder).
    mode : {"wb", "w"}
        Binary or text. Text mode uses ``encoding`` (default UTF-8) and
        ``newline``.

    Notes
    -----
    The sequence is: write into ``.<name>.<random>.tmp`` in the target's
    folder, ``flush``, ``os.fsync``, :func:`os.replace` onto the target,
    ``fsync`` the folder. If the body of the ``with`` block raises, the
    temporary file is removed and the target is left as it was. The new file
    gets the permissions a freshly created file would get (umask applied),
    or keeps the old file's permissions if the target already existed.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be one of 'w', 'wb'; got {mode!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"path: folder {str(folder)!r} does not exist (for {str(target)!r})")
    if target.is_dir():
        raise IsADirectoryError(f"path {str(target)!r} is a directory")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates the file 0600; give it the mode the target has or
        # a new file would have.
        try:
            perm = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            perm = 0o666 & ~umask
        with contextlib.suppress(OSError):
            os.chmod(tmp, perm)
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)


def atomic_savez(path, compressed: bool = True, **arrays) -> None:
    """``numpy.savez_compressed(path, **arrays)`` (or ``savez``), written atomically.

    ``path`` is used exactly as given (numpy's habit of appending ``.npz`` to a
    name without it does not apply to an open file).
    """
    import numpy as np

    save = np.savez_compressed if compressed else np.savez
    with atomic_write(path, "wb") as fh:
        save(fh, **arrays)
