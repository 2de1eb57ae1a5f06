"""Tests of lecode.experiments: the reduced runs against the stored full results.

Each reduced run is a prefix of the stored full run (same data, same seeds,
trials 0..T_r-1, steps up to ``steps_r``), so it is checked two ways:

* prefix: its records equal the stored ones of the same trials and steps up to
  float32 storage and summation-order differences (atol 0.02 on logits of
  size 1-10; accuracies within 2 samples of 300);
* statistics: the key facts the chapters rely on hold both in the reduced run
  and in the stored results (tolerances in each test).

Total: about 20 s of CPU for the three reduced runs (more wall time on a loaded machine).
"""

import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lecode import experiments as E


@pytest.fixture(scope="module")
def reduced():
    cache = {}

    def get(name):
        if name not in cache:
            if name == "digits":          # exercise the executor path
                with concurrent.futures.ThreadPoolExecutor(2) as ex:
                    cache[name] = E.run(name, reduced=True, executor=ex)
            else:
                cache[name] = E.run(name, reduced=True)
        return cache[name]
    return get


def _stored(name):
    try:
        return E.load(name)
    except FileNotFoundError:
        pytest.skip(f"stored results for {name} not present (run python -m lecode.experiments {name})")


# ---------------------------------------------------------------- config & io

def test_config_reduced_is_prefix_of_full():
    for name in E.EXPERIMENTS:
        full, red = E.config(name), E.config(name, reduced=True)
        assert red["trials"] < full["trials"] and red["steps"] < full["steps"]
        assert red["full_steps"] == full["steps"]
        assert set(red["record_steps"]) == {s for s in full["record_steps"] if s <= red["steps"]}
        assert red["seed"] == full["seed"] and red["settings"] == full["settings"]
    # the critical point 2/3 is appended last, so the other settings keep their index (and seeds)
    assert E.config("label_noise")["settings"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 2 / 3]
    assert E.config("digits")["settings"] == [2, 3, 4, 5]


def test_experiment_data():
    Xt, yt, Xv, yv = E.experiment_data("geomnist")
    assert Xt.shape == (3000, 1024) and Xv.shape == (300, 1024)
    assert np.allclose(Xt.mean(axis=0), 0, atol=1e-12)          # centred by the training mean
    assert E.experiment_data("label_noise")[0] is Xt                # same (cached) data
    Xd, yd, _, _ = E.experiment_data("digits", K=4)
    assert Xd.shape[1] == 64 and set(np.unique(yd)) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="K"):
        E.experiment_data("digits")
    with pytest.raises(ValueError, match="K"):
        E.experiment_data("digits", K=7)


def test_validation(tmp_path):
    with pytest.raises(ValueError, match="name"):
        E.config("cifar")
    with pytest.raises(TypeError, match="reduced"):
        E.config("digits", reduced="yes")
    with pytest.raises(ValueError, match="name"):
        E.run("mnist")
    with pytest.raises(TypeError, match="executor"):
        E.run("digits", reduced=True, executor=map)
    with pytest.raises(FileNotFoundError, match="lecode.experiments"):
        E.load("digits", path=tmp_path / "none.npz")
    with pytest.raises(ValueError, match="workers"):
        E.main(["digits", "--workers", "0"])


def test_save_load_main(tmp_path, reduced, monkeypatch, capsys):
    res = reduced("geomnist")
    p = E.save(res, tmp_path / "g.npz")
    back = E.load("geomnist", path=p)
    assert set(back) == set(res)
    assert np.array_equal(back["class_means"], res["class_means"])
    assert int(back["cfg_seed"]) == 2021 and bool(back["cfg_reduced"])
    monkeypatch.setattr(E, "run", lambda name, **kw: res)
    assert E.main(["geomnist", "--reduced", "--out", str(tmp_path / "m.npz"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "val_acc" in out and (tmp_path / "m.npz").is_file()


# ---------------------------------------------------------------- shared checks

def _check_prefix(name, res, stored):
    T = res["class_means"].shape[1]
    R = len(res["record_steps"])
    C = len(res["impact_steps"])
    assert np.array_equal(stored["record_steps"][:R], res["record_steps"])
    assert np.array_equal(stored["impact_steps"][:C], res["impact_steps"])
    np.testing.assert_allclose(res["class_means"], stored["class_means"][:, :T, :R], atol=0.02)
    np.testing.assert_allclose(res["val_acc"], stored["val_acc"][:, :T, :R], atol=2 / 300 + 1e-6)
    np.testing.assert_allclose(res["alpha"], stored["alpha"][:, :T, :C], rtol=1e-2)
    np.testing.assert_allclose(res["beta"], stored["beta"][:, :T, :C], rtol=1e-2)


def _check_record_shapes(res):
    S, T, R = res["val_acc"].shape
    assert res["class_means"].shape[:3] == (S, T, R) and res["class_means"].dtype == np.float32
    assert res["alpha"].shape == (S, T, len(res["impact_steps"]))
    assert np.all(np.isfinite(res["train_loss"])) and np.all(np.isfinite(res["alpha"]))


# ---------------------------------------------------------------- GeoMNIST (chapters 1, 6)

def test_geomnist(reduced):
    res, st = reduced("geomnist"), _stored("geomnist")
    _check_record_shapes(res)
    _check_prefix("geomnist", res, st)
    # local elasticity: same-class NTK impact above cross-class at every checkpoint
    assert np.all(res["alpha"] > res["beta"]) and np.all(st["alpha"] > st["beta"])
    # training works: the stored full runs end with validation accuracy >= 0.95 on average
    assert E.summary(st)["val_acc"][0] >= 0.95
    # the reduced trials' mean accuracy at their last step is within 4 standard errors
    # (trial-to-trial spread of the stored runs at that step, T_r trials) of the stored mean
    r = len(res["record_steps"]) - 1
    acc_st = st["val_acc"][0, :, r].astype(float)
    tol = max(4 * acc_st.std() / np.sqrt(res["val_acc"].shape[1]), 0.02)
    assert abs(res["val_acc"][0, :, r].mean() - acc_st.mean()) <= tol
    # the class means separate: positive projection on the simplex directions
    assert E.summary(res)["separation"][0] > 0.5
    # one trial's detailed logits are stored for the R^3 pictures of chapter 6
    assert st["probe_logits"].shape[0] == len(st["record_steps"])
    assert st["sampled_logits"].shape == (int(st["cfg_steps"]), 3)


# ---------------------------------------------------------------- label noise (chapter 7)

def _zero_crossing(p, sep):
    """First p where the piecewise-linear interpolation of sep(p) crosses zero."""
    for i in range(len(p) - 1):
        if sep[i] > 0 >= sep[i + 1]:
            return p[i] + (p[i + 1] - p[i]) * sep[i] / (sep[i] - sep[i + 1])
    return np.nan


def test_label_noise(reduced):
    res, st = reduced("label_noise"), _stored("label_noise")
    _check_record_shapes(res)
    _check_prefix("label_noise", res, st)
    assert np.allclose(res["settings"], list(np.round(np.arange(9) * 0.1, 1)) + [2 / 3])
    assert np.array_equal(st["settings"], res["settings"]) and st["class_means"].shape[0] == 10
    # the fraction of corrupted labels is round(p n_k)/n_k exactly (n_k ~ 1000: within 1e-3)
    assert np.allclose(res["noise_fraction"][:, 0], res["settings"], atol=1e-3)
    res, st = E.by_setting(res), E.by_setting(st)
    p = res["settings"]
    assert np.all(np.diff(p) > 0) and p[7] == 2 / 3
    for r in (res, st):
        sm = E.summary(r)
        # separation of the true classes along u_k changes sign between p = 0.5
        # and p = 0.8, near the model's p = (K-1)/K = 2/3 (the force factor
        # 1 - 3p/2 is -0.05 at p = 0.7, so the crossing is located to +-0.1)
        assert np.all(sm["separation"][p <= 0.5] > 0) and sm["separation"][-1] < 0
        assert 0.55 <= _zero_crossing(p, sm["separation"]) <= 0.75
        # validation accuracy (true labels) falls from near 1 to below chance
        assert sm["val_acc"][0] > 0.85 and sm["val_acc"][-1] < 1 / 3
        assert np.corrcoef(p, sm["val_loss"])[0, 1] > 0.9
        # the NTK stays locally elastic by true class: alpha-hat > beta-hat for every p
        assert np.all(sm["alpha_minus_beta"] > 0)


# ---------------------------------------------------------------- digits (chapter 6)

def test_digits(reduced):
    res, st = reduced("digits"), _stored("digits")
    _check_record_shapes(res)
    _check_prefix("digits", res, st)
    assert np.array_equal(res["settings"], [2, 3, 4, 5])
    sm_st = E.summary(st)
    assert np.all(sm_st["val_acc"] > 0.9) and np.all(sm_st["alpha_minus_beta"] > 0)
    sm = E.summary(res)
    assert np.all(sm["val_acc"] > 0.85) and np.all(sm["separation"] > 0)
    # K classes: class_means padded with NaN beyond K
    assert np.isnan(st["class_means"][0, 0, 0, 2:, :]).all()
    assert not np.isnan(st["class_means"][3, 0, 0]).any()
    for K in (2, 3, 4, 5):
        assert st[f"sampled_logits_K{K}"].shape == (int(st["cfg_steps"]), K)


# ---------------------------------------------------------------- files: where, and atomically

def test_command_writes_to_the_current_folder_by_default(tmp_path, reduced, monkeypatch, capsys):
    res = reduced("geomnist")
    monkeypatch.setattr(E, "run", lambda name, **kw: res)
    monkeypatch.chdir(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in E.DATA_DIR.glob("*.npz")}
    assert E.main(["geomnist", "--quiet"]) == 0                 # full run: ./geomnist.npz
    assert (tmp_path / "geomnist.npz").is_file()
    assert {p: p.stat().st_mtime_ns for p in E.DATA_DIR.glob("*.npz")} == before
    (tmp_path / "sub").mkdir()
    assert E.main(["geomnist", "--quiet", "--out", "sub"]) == 0   # an existing folder
    assert (tmp_path / "sub" / "geomnist.npz").is_file()
    assert E.main(["geomnist", "--reduced", "--quiet", "--out", "sub"]) == 0
    assert (tmp_path / "sub" / "geomnist_reduced.npz").is_file()
    assert E.main(["geomnist", "--quiet", "--out", "new/dir/x.npz"]) == 0
    assert E.load("geomnist", path="new/dir/x.npz")["class_means"].shape == res["class_means"].shape
    capsys.readouterr()


def test_by_setting_sorts_per_setting_arrays_only():
    res = dict(settings=np.array([0.0, 0.8, 2 / 3]), val_acc=np.arange(3.0)[:, None],
               record_steps=np.array([0, 5, 9]))
    s = E.by_setting(res)
    assert np.array_equal(s["settings"], [0.0, 2 / 3, 0.8])
    assert np.array_equal(s["val_acc"][:, 0], [0.0, 2.0, 1.0])
    assert s["record_steps"] is res["record_steps"]


def _fake_run(cfg_name="label_noise"):
    """A tiny stand-in for run(): one row per requested setting, value = the setting's index."""
    def run(name, reduced=False, executor=None, progress=False, settings=None):
        cfg = E.config(name)
        idx = list(range(len(cfg["settings"]))) if settings is None else list(settings)
        out = {k: np.array([[float(i)] for i in idx]) for k in E._PER_SETTING if k != "settings"}
        out.update(settings=np.array([cfg["settings"][i] for i in idx]), record_steps=np.arange(3),
                   impact_steps=np.arange(2), wall_time=np.array(1.0), probe_logits=np.full(2, len(idx)))
        out.update({"cfg_" + k: np.array("none" if v is None else v) for k, v in cfg.items()})
        return out
    return run


def test_add_missing_runs_only_new_settings_and_merges(tmp_path, monkeypatch, capsys):
    calls = []
    fake = _fake_run()

    def run(name, **kw):
        calls.append(kw.get("settings"))
        return fake(name, **kw)
    old = fake("label_noise", settings=range(9))
    old["cfg_settings"] = np.array(old["settings"])          # a file written before 2/3 was added
    path = tmp_path / "label_noise.npz"
    E.save(old, path)
    monkeypatch.setattr(E, "run", run)
    monkeypatch.setattr(E, "summary", lambda res: dict(step=0, settings=[]))
    assert E.main(["label_noise", "--add-missing", "--out", str(path), "--quiet"]) == 0
    assert calls == [[9]]                                    # only the appended setting ran
    got = E.load("label_noise", path)
    assert np.allclose(got["settings"], E.config("label_noise")["settings"])
    assert np.array_equal(got["val_acc"][:, 0], np.arange(10.0))   # old rows unchanged, new appended
    assert np.array_equal(got["probe_logits"], old["probe_logits"]) and float(got["wall_time"]) == 2.0
    assert np.allclose(got["cfg_settings"], E.config("label_noise")["settings"])
    assert E.main(["label_noise", "--add-missing", "--out", str(path), "--quiet"]) == 0
    assert calls == [[9]]                                    # complete: nothing runs
    with pytest.raises(ValueError, match="--add-missing"):
        E.main(["label_noise", "--add-missing", "--quiet"])
    bad = dict(old, settings=np.array(old["settings"])[::-1].copy())
    with pytest.raises(ValueError, match="grid"):
        E.merge(bad, fake("label_noise", settings=[9]), "label_noise")
    capsys.readouterr()


def test_command_refuses_unwritable_out_before_running(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(E, "run", lambda name, **kw: called.append(name))
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="--out"):
        E.main(["digits", "--out", str(tmp_path / "a_file" / "x.npz")])
    assert called == []


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(E.DATA_DIR_ENV, raising=False)
    assert E.data_dir() == E.DATA_DIR                       # a checkout: chapters/data
    monkeypatch.setenv(E.DATA_DIR_ENV, str(tmp_path))
    assert E.data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=E.DATA_DIR_ENV):
        E.load("digits")
    monkeypatch.setenv(E.DATA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        E.data_dir()
    monkeypatch.delenv(E.DATA_DIR_ENV)
    monkeypatch.setattr(E, "DATA_DIR", tmp_path / "no_checkout")   # an installed wheel
    assert E.data_dir() == E.PACKAGE_DATA_DIR
    with pytest.raises(TypeError, match="path"):
        E.load("digits", path=3)
    with pytest.raises(TypeError, match="results"):
        E.save([1], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="progress"):
        E.run("digits", reduced=True, progress="yes")


_SAVER = textwrap.dedent(r"""
    import sys
    import numpy as np
    from lecode import experiments as E
    res = dict(E.load("geomnist"))
    print("ready", flush=True)
    v = 0
    while True:
        v += 1
        res["wall_time"] = np.array(float(v))
        E.save(res, sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL needs POSIX")
def test_save_killed_at_random_moments_leaves_a_loadable_file(tmp_path):
    """The stored geomnist result (0.5 MB) saved in a loop, the saver killed 6 times."""
    target = tmp_path / "geomnist.npz"
    stored = E.load("geomnist")
    E.save(dict(stored, wall_time=np.array(-1.0)), target)
    rng = np.random.default_rng(0)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(target)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.05, 0.5)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        back = E.load("geomnist", path=target)               # old or new, never broken
        assert set(back) == set(stored)
        np.testing.assert_array_equal(back["class_means"], stored["class_means"])


def test_installed_wheel_finds_its_stored_results(tmp_path):
    """A plain (non-editable) install: the results ship as package data lecode/stored."""
    root = Path(E.__file__).resolve().parents[1]
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    # with build isolation, as a plain `pip install .` builds (setuptools from the index)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "-w", str(wheel_dir), str(root)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(wheel_dir.glob("lecode-*.whl"))
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    for name in E.EXPERIMENTS:
        assert (target / "lecode" / "stored" / f"{name}.npz").is_file()
    # run it without the editable install (-S: no .pth files), from an empty folder
    import sysconfig
    site = sysconfig.get_paths()["purelib"]
    code = textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(target)!r}, {site!r}]
        import lecode, lecode.imitation as I, lecode.experiments as E
        assert lecode.__file__.startswith({str(target)!r}), lecode.__file__
        rec = I.record("geomnist")
        print(E.data_dir().name, rec.n_classes)
    """)
    env = {k: v for k, v in os.environ.items() if k != E.DATA_DIR_ENV}
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["stored", "3"]
