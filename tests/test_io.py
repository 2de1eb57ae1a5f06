"""Tests of lecode._io: atomic writes survive a writer killed mid-save."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from lecode._io import atomic_savez, atomic_write, atomic_write_bytes, atomic_write_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL tests need POSIX")


def _tmp_leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_text_and_bytes_round_trip(tmp_path):
    target = tmp_path / "a.csv"
    atomic_write_text(target, "a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _tmp_leftovers(tmp_path) == []


def test_savez_round_trip_exact_name(tmp_path):
    target = tmp_path / "results.data"           # no .npz: name is kept as given
    atomic_savez(target, x=np.arange(5), y=np.eye(2))
    with np.load(target) as z:
        assert z["x"].tolist() == [0, 1, 2, 3, 4]
        assert z["y"].shape == (2, 2)
    assert not (tmp_path / "results.data.npz").exists()


def test_error_inside_block_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target, "w") as fh:
            fh.write("half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert _tmp_leftovers(tmp_path) == []


def test_permissions_of_existing_file_are_kept(tmp_path):
    target = tmp_path / "p.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert (target.stat().st_mode & 0o777) == 0o640


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "x", "a"):
            pass
    with pytest.raises(TypeError, match="path"):
        with atomic_write(3, "w"):
            pass
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "no_such_folder" / "x.txt", "x")
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")


# A writer that announces "mid" after writing part of the new content and then
# waits to be killed. With the atomic helper the target must be untouched; with
# a plain open() the same kill destroys it (the control that shows the test
# can fail).
_MID_WRITER = textwrap.dedent(r"""
    import sys, time
    from lecode._io import atomic_write
    target, how = sys.argv[1], sys.argv[2]
    if how == "atomic":
        ctx = atomic_write(target, "wb")        # kept referenced: the write stays open
        fh = ctx.__enter__()
    else:
        fh = open(target, "wb")
    fh.write(b"N" * 100_000)
    fh.flush()
    print("mid", flush=True)
    time.sleep(60)
""")


def _kill_at_mid(target, how):
    proc = subprocess.Popen([sys.executable, "-c", _MID_WRITER, str(target), how],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "mid"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_killed_mid_save_leaves_old_file_intact(tmp_path):
    target = tmp_path / "result.bin"
    old = b"O" * 250_000
    target.write_bytes(old)
    _kill_at_mid(target, "atomic")
    assert target.read_bytes() == old


def test_control_plain_write_is_destroyed_by_the_same_kill(tmp_path):
    target = tmp_path / "result.bin"
    target.write_bytes(b"O" * 250_000)
    _kill_at_mid(target, "plain")
    assert target.read_bytes() != b"O" * 250_000     # truncated / half new


# A writer that saves ever newer versions of a ~2 MB npz in a loop; it is
# killed at random moments and the target must always load as one complete
# version (each version is a constant array, so a mix would be detected).
_LOOP_WRITER = textwrap.dedent(r"""
    import sys
    import numpy as np
    from lecode._io import atomic_savez
    target, start = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(start)
    noise = rng.integers(0, 2**31, size=250_000)          # incompressible part
    print("ready", flush=True)
    v = start
    while True:
        v += 1
        atomic_savez(target, version=np.int64(v), data=noise + v, check=np.int64(int((noise + v).sum() % 1_000_003)))
""")


def _load_version(target):
    with np.load(target) as z:
        v = int(z["version"])
        data = z["data"]
        assert int(data.sum() % 1_000_003) == int(z["check"])
        return v


def test_repeated_random_kills_always_leave_a_complete_version(tmp_path):
    target = tmp_path / "results.npz"
    atomic_savez(target, version=np.int64(0), data=np.zeros(3, dtype=np.int64), check=np.int64(0))
    rng = np.random.default_rng(2024)
    last = 0
    versions = []
    for round_ in range(8):
        start = 1000 * (round_ + 1)
        proc = subprocess.Popen([sys.executable, "-c", _LOOP_WRITER, str(target), str(start)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.05, 0.6)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        v = _load_version(target)                     # never a broken file
        assert v == last or start < v, (v, last, start)   # old, or one of this writer's versions
        last = v
        versions.append(v)
    # The temporary files of killed writers may remain, but never under the target's name.
    for name in _tmp_leftovers(tmp_path):
        assert name.startswith(".results.npz.")
    assert len(versions) == 8
