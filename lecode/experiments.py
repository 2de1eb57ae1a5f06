"""Network experiments behind chapters 1, 6 and 7, with stored results.

Run::

    python -m lecode.experiments geomnist      [--reduced] [--workers N] [--out PATH]
    python -m lecode.experiments label_noise   [--reduced] [--workers N] [--out PATH]
    python -m lecode.experiments digits        [--reduced] [--workers N] [--out PATH]
    python -m lecode.experiments NAME --add-missing --out PATH   [--workers N]

A full run writes ``<name>.npz`` in the current folder, or where ``--out``
says (a file name, or an existing folder); the book's stored copies are
refreshed from the repository root with ``--out chapters/data``.
``--add-missing`` runs only the settings of :func:`config` that the file at
``--out`` does not hold yet (settings are only ever appended to a grid, so a
setting's index, hence its seeds, never changes) and writes the merged file,
atomically; the stored settings are copied unchanged.
``--reduced`` runs the same experiment with fewer trials and the first part of
the training only, prints a summary and saves only with ``--out``; notebooks
can call ``run(name, reduced=True)``. Files are written atomically (a
temporary file in the same folder, then renamed): an interrupted run leaves
the previous file intact.

Stored results are found by :func:`load` in this order: the folder named by
the environment variable ``LECODE_DATA_DIR``; ``chapters/data`` of the
repository this package runs from (a checkout or an editable install); the
copy shipped inside the installed package (``lecode/stored``, package data
of a plain ``pip install .``). ``data_dir()`` says which.

Every trial is one SGD training of an :class:`lecode.nets.MLP` by
:func:`lecode.nets.train` (batch size 1, cross-entropy, inputs centred by the
training mean), recording at the steps ``record_steps`` the mean logits of a
fixed probe set of each (true) class and the training/validation loss and
accuracy, and at ``impact_steps`` the NTK impacts alpha-hat and beta-hat
(:func:`lecode.nets.class_impacts`). A reduced run is a *prefix* of the full
one: the same data, seeds and records, trials ``0..T_r-1`` and steps up to
``steps_r``, so its numbers can be compared with the stored ones.

Seeds: trial ``j`` of setting ``s`` (a corruption level or a class count)
draws its initialisation, SGD sampling and label corruption from
``numpy.random.SeedSequence([seed, s, j])``; the data sets from ``seed``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import data as _data
from . import nets as _nets
from ._io import atomic_savez
from ._progress import Progress
from ._validate import check_choice, check_int

__all__ = ["EXPERIMENTS", "DATA_DIR", "PACKAGE_DATA_DIR", "data_dir", "config",
           "experiment_data", "run", "merge", "by_setting", "save", "load", "summary", "main"]

#: ``chapters/data`` of the repository next to this package (exists in a checkout).
DATA_DIR = Path(__file__).resolve().parents[1] / "chapters" / "data"
#: The stored results shipped as package data in a wheel (``pip install .``).
PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "stored"
#: Environment variable naming a folder of stored results (checked first).
DATA_DIR_ENV = "LECODE_DATA_DIR"


def data_dir() -> Path:
    """The folder :func:`load` reads stored results from.

    ``$LECODE_DATA_DIR`` if set (it must be an existing folder), else the
    repository's ``chapters/data`` if it exists, else the package data
    ``lecode/stored`` of an installed wheel.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise FileNotFoundError(f"{DATA_DIR_ENV} = {env!r} is not a folder")
        return p
    if DATA_DIR.is_dir():
        return DATA_DIR
    return PACKAGE_DATA_DIR

#: Names of the experiments.
EXPERIMENTS = ("geomnist", "label_noise", "digits")

_TEN_K_IMPACTS = [0, 10, 30, 100, 300, 1000, 2000, 3000, 5000, 7500, 10000]


def _record_steps(steps: int) -> np.ndarray:
    """101 evenly spaced steps plus a geometric grid for the early phase."""
    lin = np.linspace(0, steps, 101)
    geo = np.geomspace(1, steps, 25)
    return np.unique(np.concatenate([lin, geo]).round().astype(np.int64))


def config(name: str, reduced: bool = False) -> dict:
    """Parameters of an experiment (stored in its result file).

    Parameters
    ----------
    name : {"geomnist", "label_noise", "digits"}
    reduced : bool
        The reduced version: fewer trials (``trials``) and only the first
        ``steps`` SGD steps of the full schedule (``full_steps``).

    Returns
    -------
    dict
        ``dataset``, ``settings`` (corruption levels ``p`` or class counts
        ``K``), ``trials``, ``steps``, ``full_steps``, ``lr``, ``hidden``,
        ``activation``, ``n_train_per_class``, ``n_val_per_class``,
        ``probe_per_class``, ``impact_per_class``, ``n_eval``,
        ``record_steps``, ``impact_steps``, ``seed``.
    """
    check_choice("name", name, EXPERIMENTS)
    if not isinstance(reduced, (bool, np.bool_)):
        raise TypeError(f"reduced must be True or False, got {reduced!r}")
    base = dict(hidden=128, activation="relu", probe_per_class=30, impact_per_class=30,
                n_eval=300, seed=2021, center=True)
    if name == "geomnist":
        cfg = dict(base, dataset="geomnist", settings=[0.0], setting_name="p", K=3,
                   trials=60, full_steps=10_000, lr=0.005,
                   n_train_per_class=1000, n_val_per_class=100,
                   impact_steps=_TEN_K_IMPACTS)
        red = dict(trials=2, steps=2000)
    elif name == "label_noise":
        # p = 0, 0.1, ..., 0.8, then the critical point p = (K-1)/K = 2/3 appended LAST:
        # seeds follow the setting's index, so the first nine keep their runs.
        cfg = dict(base, dataset="geomnist",
                   settings=[round(0.1 * i, 1) for i in range(9)] + [2 / 3],
                   setting_name="p", K=3, trials=8, full_steps=10_000, lr=0.005,
                   n_train_per_class=1000, n_val_per_class=100,
                   impact_steps=_TEN_K_IMPACTS)
        red = dict(trials=1, steps=2000)
    else:
        cfg = dict(base, dataset="digits", settings=[2, 3, 4, 5], setting_name="K",
                   trials=25, full_steps=5_000, lr=0.005, n_train_per_class=None,
                   n_val_per_class=40, probe_per_class=20, impact_per_class=20,
                   impact_steps=[0, 10, 30, 100, 300, 1000, 2000, 3000, 5000])
        red = dict(trials=1, steps=2000)
    cfg["steps"] = cfg["full_steps"]
    if reduced:
        cfg.update(red)
    rec = _record_steps(cfg["full_steps"])
    cfg["record_steps"] = rec[rec <= cfg["steps"]].tolist()
    cfg["impact_steps"] = [s for s in cfg["impact_steps"] if s <= cfg["steps"]]
    cfg["name"], cfg["reduced"] = name, bool(reduced)
    return cfg


@functools.lru_cache(maxsize=8)
def _dataset(dataset: str, n_train, n_val: int, classes: tuple, seed: int, center: bool):
    """Training and validation sets (cached per process)."""
    if dataset == "geomnist":
        X, y = _data.geomnist(n_train + n_val, seed=seed, flatten=True)
    else:
        X, y = _data.digits(classes, seed=seed, flatten=True)
    Xt, yt, Xv, yv = _data.train_val_split(X, y, n_val, seed=seed + 1)
    if center:
        mu = Xt.mean(axis=0)
        Xt, Xv = Xt - mu, Xv - mu
    for a in (Xt, yt, Xv, yv):
        a.setflags(write=False)
    return Xt, yt, Xv, yv


def experiment_data(name: str, K: int | None = None):
    """The (centred) training and validation sets an experiment trains on.

    Parameters
    ----------
    name : {"geomnist", "label_noise", "digits"}
    K : int, optional
        For ``digits``: the number of classes (digits ``0..K-1``), one of the
        experiment's settings (2 to 5). Ignored otherwise.

    Returns
    -------
    X_train, y_train, X_val, y_val
        Flattened inputs minus the training mean (read-only arrays, cached),
        clean labels.
    """
    cfg = config(name)
    if cfg["dataset"] == "digits":
        if K is None:
            raise ValueError("K must be given for the digits experiment (2, 3, 4 or 5)")
        K = check_int("K", K, minimum=2, maximum=5)
        classes = tuple(range(K))
    else:
        classes = ()
    return _dataset(cfg["dataset"], cfg["n_train_per_class"], cfg["n_val_per_class"],
                    classes, cfg["seed"], cfg["center"])


def _trial(task: tuple) -> dict:
    """One training run; ``task = (cfg, setting_index, trial)``. Top level for pickling."""
    cfg, s, j = task
    setting = cfg["settings"][s]
    if cfg["dataset"] == "geomnist":
        K, p, classes = cfg["K"], float(setting), ()
    else:
        K, p, classes = int(setting), 0.0, tuple(range(int(setting)))
    Xt, yt, Xv, yv = _dataset(cfg["dataset"], cfg["n_train_per_class"], cfg["n_val_per_class"],
                              classes, cfg["seed"], cfg["center"])
    ss_init, ss_sgd, ss_noise = np.random.SeedSequence([cfg["seed"], s, j]).spawn(3)
    labels = _data.corrupt_labels(yt, p, seed=np.random.default_rng(ss_noise)) if p > 0 else yt
    net = _nets.MLP((Xt.shape[1], cfg["hidden"], K), activation=cfg["activation"],
                    seed=np.random.default_rng(ss_init))
    rec = _nets.train(net, Xt, labels, lr=cfg["lr"], steps=cfg["steps"], X_val=Xv, y_val=yv,
                      record_at=np.array(cfg["record_steps"]),
                      probe_per_class=cfg["probe_per_class"],
                      impact_at=np.array(cfg["impact_steps"], dtype=np.int64),
                      impact_per_class=cfg["impact_per_class"], true_labels=yt,
                      n_eval=cfg["n_eval"], seed=np.random.default_rng(ss_sgd))
    probe_labels = labels[rec.probe_index]
    by_label = np.stack([rec.probe_logits[:, probe_labels == k].mean(axis=1)
                         if np.any(probe_labels == k) else np.full(rec.probe_logits.shape[::2], np.nan)
                         for k in range(K)], axis=1)
    return dict(class_means=rec.class_mean_logits(), class_means_by_label=by_label,
                train_loss=rec.train_loss, train_acc=rec.train_acc,
                val_loss=rec.val_loss, val_acc=rec.val_acc, alpha=rec.alpha, beta=rec.beta,
                noise_fraction=float(np.mean(labels != yt)),
                probe_logits=rec.probe_logits, probe_classes=rec.probe_classes,
                probe_labels=probe_labels,
                sampled_logits=rec.sampled_logits[:, 0],
                sampled_labels=labels[rec.sampled_index[:, 0]],
                sampled_classes=yt[rec.sampled_index[:, 0]])


def run(name: str, *, reduced: bool = False, executor: concurrent.futures.Executor | None = None,
        progress: bool = False, settings=None) -> dict:
    """Run an experiment and return its results as a dict of arrays (chapters 1, 6, 7).

    Parameters
    ----------
    name : {"geomnist", "label_noise", "digits"}
    reduced : bool, default False
        The reduced version (well under a minute): see :func:`config`.
    executor : concurrent.futures.Executor, optional
        Runs the trials (e.g. a ``ProcessPoolExecutor`` or a dask client's
        executor); serial by default.
    progress : bool, default False
        Show a progress bar on standard error (a widget in JupyterLab) once
        the run has taken 2 seconds.
    settings : sequence of int, optional
        Indices into ``config(name)["settings"]`` to run (default: all). The
        seeds of a setting depend on its index only, so a subset gives
        exactly the arrays of those settings in a full run (see
        :func:`merge`). The per-trial examples (``probe_logits`` ...) come
        from the first setting run.

    Returns
    -------
    dict
        Arrays, with ``S`` settings, ``T`` trials, ``R`` record steps, ``C``
        impact steps, ``K`` classes (for ``digits`` K varies; arrays are
        padded with NaN to ``K = 5``):

        ``record_steps (R,)``, ``impact_steps (C,)``, ``settings (S,)``;
        ``class_means (S, T, R, K, K)`` -- mean probe logits of each true
        class, float32; ``class_means_by_label (S, T, R, K, K)`` -- the same
        grouped by the (corrupted) training label, **only** for
        ``label_noise`` (``geomnist`` and ``digits`` train on clean labels,
        where it would equal ``class_means``; :func:`lecode.imitation.record`
        falls back to ``class_means`` then); ``train_loss, train_acc,
        val_loss, val_acc (S, T, R)``; ``alpha, beta (S, T, C)``;
        ``noise_fraction (S, T)``; for setting 0 (``digits``: every
        setting), trial 0: ``probe_logits (R, M, K)``, ``probe_classes``,
        ``probe_labels (M,)``, ``sampled_logits (steps, K)``,
        ``sampled_labels``, ``sampled_classes (steps,)``; the parameters of
        :func:`config` as 0-d or 1-d arrays (``cfg_<key>``); ``wall_time``.
    """
    cfg = config(name, reduced)
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise TypeError(f"executor must be None (serial) or a concurrent.futures.Executor, got "
                        f"{type(executor).__name__} {executor!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    nset = len(cfg["settings"])
    if settings is None:
        idx = list(range(nset))
    else:
        idx = [check_int("settings index", i, minimum=0, maximum=nset - 1) for i in settings]
        if not idx or len(set(idx)) != len(idx):
            raise ValueError(f"settings must be distinct indices into {cfg['settings']}, got {settings!r}")
    S, T = len(idx), cfg["trials"]
    tasks = [(cfg, s, j) for s in idx for j in range(T)]
    t0 = time.perf_counter()
    mapper = map if executor is None else executor.map
    results = []
    with Progress(len(tasks), name, unit="trials", enabled=bool(progress)) as bar:
        for r in mapper(_trial, tasks):
            results.append(r)
            bar.update()
    wall = time.perf_counter() - t0

    Kmax = max(r["class_means"].shape[-1] for r in results)

    def stack(key, dtype=np.float32):
        arrs = []
        for r in results:
            a = np.asarray(r[key], dtype=float)
            if a.ndim >= 2 and key.startswith("class_means"):
                pad = [(0, 0)] * (a.ndim - 2) + [(0, Kmax - a.shape[-2]), (0, Kmax - a.shape[-1])]
                a = np.pad(a, pad, constant_values=np.nan)
            arrs.append(a)
        out = np.stack(arrs).astype(dtype)
        return out.reshape((S, T) + out.shape[1:])

    out = dict(record_steps=np.array(cfg["record_steps"], dtype=np.int64),
               impact_steps=np.array(cfg["impact_steps"], dtype=np.int64),
               settings=np.array([cfg["settings"][i] for i in idx], dtype=float),
               class_means=stack("class_means"),
               train_loss=stack("train_loss"), train_acc=stack("train_acc"),
               val_loss=stack("val_loss"), val_acc=stack("val_acc"),
               alpha=stack("alpha"), beta=stack("beta"),
               noise_fraction=stack("noise_fraction"),
               wall_time=np.array(wall))
    if cfg["name"] == "label_noise":       # identical to class_means without corruption
        out["class_means_by_label"] = stack("class_means_by_label")
    examples = range(S) if cfg["dataset"] == "digits" else [0]
    for s in examples:
        r = results[s * T]
        sfx = f"_K{int(cfg['settings'][idx[s]])}" if cfg["dataset"] == "digits" else ""
        out["probe_logits" + sfx] = r["probe_logits"].astype(np.float32)
        out["sampled_logits" + sfx] = r["sampled_logits"].astype(np.float32)
        for key in ("probe_classes", "probe_labels", "sampled_labels", "sampled_classes"):
            out[key + sfx] = np.asarray(r[key], dtype=np.int8)
    for key, val in cfg.items():
        out["cfg_" + key] = np.array("none" if val is None else val)
    return out


#: Arrays of a result dict with one row per setting (axis 0), merged by :func:`merge`.
_PER_SETTING = ("settings", "class_means", "class_means_by_label", "train_loss", "train_acc",
                "val_loss", "val_acc", "alpha", "beta", "noise_fraction")


def by_setting(res: dict) -> dict:
    """A copy of ``res`` with the per-setting arrays in increasing order of the setting.

    The stored grid is in run order (``label_noise``: ``p = 0, 0.1, ..., 0.8``,
    then ``2/3`` appended); sweeps plotted or interpolated against ``p`` want
    it sorted. Other arrays are shared, not copied.
    """
    order = np.argsort(np.asarray(res["settings"], float), kind="stable")
    return {k: (v[order] if k in _PER_SETTING else v) for k, v in res.items()}


def merge(old: dict, new: dict, name: str) -> dict:
    """Append the settings of ``new`` (a :func:`run` of missing settings) to ``old``.

    ``old`` must hold the first settings of ``config(name)["settings"]`` in
    order, and ``new`` the following ones, run with the same parameters; the
    result is what a full run would return (per-setting arrays stacked,
    examples and ``record_steps`` from ``old``, ``cfg_*`` of the full
    configuration, ``wall_time`` summed). ``old``'s arrays are not changed.
    """
    cfg = config(name)
    grid = [float(v) for v in cfg["settings"]]
    got = [float(v) for v in old["settings"]] + [float(v) for v in new["settings"]]
    if got != grid[:len(got)]:
        raise ValueError(f"cannot merge settings {got} into the grid {grid}: the stored ones must be "
                         f"the first settings of the grid, the new ones the next")
    for key in ("record_steps", "impact_steps"):
        if not np.array_equal(old[key], new[key]):
            raise ValueError(f"cannot merge: {key} differ (the stored file was run with other steps)")
    for key in ("trials", "steps", "lr", "hidden", "seed"):
        if not np.array_equal(old["cfg_" + key], new["cfg_" + key]):
            raise ValueError(f"cannot merge: cfg_{key} differ ({old['cfg_' + key]} vs {new['cfg_' + key]})")
    out = dict(old)
    for key in _PER_SETTING:
        if key in old:
            out[key] = np.concatenate([old[key], new[key]], axis=0)
    for key, val in new.items():
        if key.startswith("cfg_"):
            out[key] = val
    out["wall_time"] = np.array(float(old["wall_time"]) + float(new["wall_time"]))
    return out


def save(results: dict, path) -> Path:
    """Write ``results`` (from :func:`run`) to a compressed npz file; returns the path.

    The file is written atomically (``lecode._io.atomic_savez``): killed
    midway, the previous file at ``path`` is left intact. The folder is
    created if needed.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be the dict returned by run(), got {type(results).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savez(path, **results)
    return path


def load(name: str, path=None) -> dict:
    """Load stored results: ``<data_dir()>/<name>.npz`` by default (or ``path``).

    Returns a dict of arrays with the keys that :func:`run` returns for the
    same experiment: in particular ``class_means_by_label`` is present for
    ``label_noise`` only, not for ``geomnist`` or ``digits``. Object arrays
    are refused (nothing is unpickled).
    """
    check_choice("name", name, EXPERIMENTS)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = data_dir() / f"{name}.npz" if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no stored results at {str(path)!r}; create them with "
                                f"'python -m lecode.experiments {name}', or set "
                                f"{DATA_DIR_ENV} to the folder holding {name}.npz")
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _output_path(name: str, out, reduced: bool):
    """Where the command writes: ``--out`` (a file, or an existing folder), else ./NAME.npz."""
    if out is None:
        return None if reduced else Path.cwd() / f"{name}.npz"
    p = Path(out).expanduser()
    if p.is_dir() or str(out).endswith(os.sep):
        return p / (f"{name}_reduced.npz" if reduced else f"{name}.npz")
    return p


def _final_index(res: dict, step: int | None = None) -> int:
    steps = res["record_steps"]
    return len(steps) - 1 if step is None else int(np.flatnonzero(steps == step)[0])


def summary(res: dict, step: int | None = None) -> dict:
    """Key statistics of a result dict, per setting (means over trials).

    ``val_acc``, ``val_loss``, ``train_loss`` at record step ``step`` (the
    last by default); ``alpha_minus_beta`` at the last impact step not after
    ``step``; ``separation``: the mean over true classes k of
    ``u_k . mu_k`` (the class-mean logits projected on the simplex vertex
    ``u_k = e_k - 1/K``), positive when the true classes move apart in the
    readout's directions (the quantity whose sign the label-noise force
    ``(alpha - beta)(1 - pK/(K-1))`` decides, chapter 7).
    """
    r = _final_index(res, step)
    at = int(res["record_steps"][r])
    c = int(np.flatnonzero(res["impact_steps"] <= at)[-1])
    out = dict(step=at, settings=res["settings"])
    for key in ("val_acc", "val_loss", "train_loss", "train_acc"):
        out[key] = res[key][:, :, r].astype(float).mean(axis=1)
    out["alpha"] = res["alpha"][:, :, c].astype(float).mean(axis=1)
    out["beta"] = res["beta"][:, :, c].astype(float).mean(axis=1)
    out["alpha_minus_beta"] = out["alpha"] - out["beta"]
    sep = []
    for s in range(len(res["settings"])):
        M = res["class_means"][s, :, r].astype(float)          # (T, Kmax, Kmax)
        K = int(np.sum(~np.isnan(M[0, :, 0])))
        M = M[:, :K, :K]
        U = np.eye(K) - 1.0 / K
        sep.append(np.mean(np.einsum("tkj,kj->tk", M, U)))
    out["separation"] = np.array(sep)
    return out


def main(argv=None) -> int:
    """Command line entry point (``python -m lecode.experiments NAME``)."""
    ap = argparse.ArgumentParser(prog="python -m lecode.experiments", description=__doc__.split("\n")[0])
    ap.add_argument("name", choices=EXPERIMENTS)
    ap.add_argument("--reduced", action="store_true", help="fewer trials and steps (< 1 min)")
    ap.add_argument("--workers", type=int, default=1, help="processes (default 1: serial)")
    ap.add_argument("--out", default=None, help="output npz file or folder (default: NAME.npz "
                    "in the current folder; from the repository root, --out chapters/data "
                    "refreshes the book's copy; reduced runs are saved only with --out)")
    ap.add_argument("--add-missing", action="store_true",
                    help="run only the settings the file at --out lacks and write the merged file")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.add_missing and (args.out is None or args.reduced):
        raise ValueError("--add-missing needs --out (the stored file to extend) and no --reduced")
    workers = check_int("workers", args.workers, minimum=1)
    path = _output_path(args.name, args.out, args.reduced)
    if path is not None:            # refuse an unwritable destination before hours of work
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"--out: cannot create the folder {str(folder)!r} ({exc})") from None
        if not os.access(folder, os.W_OK):
            raise ValueError(f"--out: the folder {str(folder)!r} is not writable")
        if path.is_dir():
            raise ValueError(f"--out: {str(path)!r} is a folder")
    old, todo = None, None
    if args.add_missing:
        old = load(args.name, path)
        todo = list(range(len(old["settings"]), len(config(args.name)["settings"])))
        if not todo:
            print(f"{path} already holds every setting of {args.name}; nothing to run")
            return 0
    if workers > 1:
        with concurrent.futures.ProcessPoolExecutor(workers) as ex:
            res = run(args.name, reduced=args.reduced, executor=ex, progress=not args.quiet,
                      settings=todo)
    else:
        res = run(args.name, reduced=args.reduced, progress=not args.quiet, settings=todo)
    if old is not None:
        res = merge(old, res, args.name)
    if path is not None:
        p = save(res, path)
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.2f} MB)")
    sm = summary(res)
    print(f"{args.name}: wall time {float(res['wall_time']):.1f}s, final step {sm['step']}")
    for i, s in enumerate(sm["settings"]):
        print(f"  setting {s:g}: val_acc {sm['val_acc'][i]:.3f} val_loss {sm['val_loss'][i]:.3f} "
              f"train_loss {sm['train_loss'][i]:.3f} alpha {sm['alpha'][i]:.2f} "
              f"beta {sm['beta'][i]:.2f} separation {sm['separation'][i]:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
