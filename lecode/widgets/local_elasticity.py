"""Explorer of chapter 1, *Local elasticity*: impacts measured on a small network.

A one-hidden-layer perceptron (:class:`lecode.nets.MLP`) is trained by SGD with
batch size 1 on GeoMNIST (:func:`lecode.data.geomnist`). At a few checkpoints
of the training we measure the scalar impact between every pair of a fixed,
class-balanced subsample of training images,

    E(x, x') = tr Theta(x, x') / K,

the normalised trace of the K x K block of the neural tangent kernel, and the
class averages alpha-hat (same class, self-pairs excluded) and beta-hat (two
different classes).

:func:`training_run` does the training and the measurements once per
``(width, activation)`` and keeps the result in a cache; the explorer's
``compute`` only slices it, so an update costs a few milliseconds once the
run exists. The runs are deterministic: the data, the initialisation and the
SGD draws are all seeded.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import data as _data
from .. import nets as _nets
from .._validate import check_choice, check_int
from ._explorer import Control, Explorer
from ._site import site_grid

__all__ = [
    "WIDTHS",
    "ACTIVATIONS",
    "CLASS_PAIRS",
    "CHECKPOINTS",
    "TrainingRun",
    "dataset",
    "training_run",
    "pair_impacts",
    "make_explorer",
]

#: Hidden-layer widths offered by the explorer.
WIDTHS = (16, 64, 256)
#: Activations offered by the explorer (``"linear"`` is a two-layer linear network).
ACTIVATIONS = ("relu", "tanh", "linear")
#: Class pairs offered by the explorer, as strings "a-b" of GeoMNIST class indices.
CLASS_PAIRS = ("0-1", "0-2", "1-2")
#: SGD steps at which the impacts are measured (learning rate 0.005, batch size 1).
CHECKPOINTS = tuple(range(0, 6001, 500))

_LR = 0.005
_N_TRAIN = 300          # training images per class
_N_VAL = 100            # validation images per class
_N_SUB = 30             # images per class in the impact subsample


@dataclass(frozen=True)
class TrainingRun:
    """A seeded training run of an MLP on GeoMNIST with impacts at checkpoints.

    Attributes
    ----------
    width, activation : int, str
        The hidden layer.
    lr : float
        SGD learning rate (batch size 1); the LE model's time is ``t = lr * step``.
    steps : ndarray (C,)
        Checkpoint steps.
    X, y : ndarray (N, 1024), (N,)
        Training images (flattened) and labels.
    X_val, y_val : ndarray
        Validation images and labels.
    sub : ndarray (M,)
        Indices into ``X`` of the impact subsample, sorted by class and,
        within a class, by orientation (a spectral ordering of the inputs).
    impacts : ndarray (C, M, M)
        ``tr Theta(x_i, x_j) / K`` between the subsample images at each checkpoint.
    alpha, beta : ndarray (C,)
        alpha-hat and beta-hat over all three classes at each checkpoint.
    train_loss, train_acc, val_loss, val_acc : ndarray (C,)
    params : tuple of tuple of ndarray
        The network's parameters at each checkpoint (copies).
    """

    width: int
    activation: str
    lr: float
    steps: np.ndarray
    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    sub: np.ndarray
    impacts: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    params: tuple

    @property
    def sub_classes(self) -> np.ndarray:
        """Classes of the impact subsample, shape (M,)."""
        return self.y[self.sub]

    @property
    def times(self) -> np.ndarray:
        """Checkpoints in the model's time ``t = lr * step``."""
        return self.lr * self.steps

    def checkpoint(self, step: int) -> int:
        """Index of the checkpoint nearest to ``step``."""
        step = check_int("step", step, minimum=0, maximum=int(self.steps[-1]))
        return int(np.argmin(np.abs(self.steps - step)))

    def network(self, step: int) -> "_nets.MLP":
        """A fresh :class:`lecode.nets.MLP` holding the parameters at the checkpoint nearest ``step``."""
        c = self.checkpoint(step)
        net = _nets.MLP((self.X.shape[1], self.width, 3), activation=self.activation, seed=0)
        for p, q in zip(net.params, self.params[c]):
            p[...] = q
        return net


def _orientation_order(X: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``idx`` reordered along a circle fitted to the images' inner products.

    The images of one GeoMNIST class differ mostly by their rotation, a
    circular parameter. The two leading eigenvectors of the double-centred
    Gram matrix ``x_i . x_j`` place the images on (roughly) a circle; sorting
    by the polar angle orders them by orientation, which makes the
    within-class structure of the impact heatmaps visible.
    """
    idx = np.sort(idx)
    G = X[idx] @ X[idx].T
    G = G - G.mean(axis=0) - G.mean(axis=1)[:, None] + G.mean()
    _, v = np.linalg.eigh(G)
    angle = np.arctan2(v[:, -2], v[:, -1])
    return idx[np.argsort(angle, kind="stable")]


def _class_means(E: np.ndarray, classes: np.ndarray) -> tuple[float, float]:
    """Mean of ``E`` over same-class pairs (self-pairs excluded) and over cross-class pairs."""
    same = classes[:, None] == classes[None, :]
    off = ~np.eye(len(classes), dtype=bool)
    return float(E[same & off].mean()), float(E[~same].mean())


@lru_cache(maxsize=4)
def _cached_dataset(seed: int):
    X, y = _data.geomnist(_N_TRAIN, seed=seed, flatten=True)
    X_val, y_val = _data.geomnist(_N_VAL, seed=seed + 1000, flatten=True)
    rng = np.random.default_rng(seed + 2000)
    sub = np.concatenate([_orientation_order(X, rng.choice(np.flatnonzero(y == k), size=_N_SUB,
                                                            replace=False))
                          for k in range(3)])
    for arr in (X, y, X_val, y_val, sub):
        arr.setflags(write=False)
    return X, y, X_val, y_val, sub


def dataset(seed: int = 0):
    """The GeoMNIST data of :func:`training_run` (cached; read-only arrays).

    Returns
    -------
    X, y : ndarray (900, 1024), (900,)
        300 training images per class, flattened, and their labels.
    X_val, y_val : ndarray (300, 1024), (300,)
        100 validation images per class.
    sub : ndarray (90,)
        Indices into ``X`` of the impact subsample: 30 images per class,
        sorted by class and, within a class, by orientation.
    """
    seed = check_int("seed", seed, minimum=0)
    return _cached_dataset(seed)


def _single_blas_thread():
    """One BLAS thread (if threadpoolctl is available): the run multiplies small
    matrices, for which a multithreaded BLAS on shared cores mostly waits."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


@lru_cache(maxsize=12)
def _cached_run(width: int, activation: str, seed: int) -> TrainingRun:
    with _single_blas_thread():
        return _train_and_measure(width, activation, seed)


def _train_and_measure(width: int, activation: str, seed: int) -> TrainingRun:
    X, y, X_val, y_val, sub = _cached_dataset(seed)
    net = _nets.MLP((X.shape[1], width, 3), activation=activation, seed=seed + 3000)
    steps = np.array(CHECKPOINTS)
    C, M = len(steps), len(sub)
    impacts = np.empty((C, M, M))
    alpha, beta = np.empty(C), np.empty(C)
    tl, ta, vl, va = (np.empty(C) for _ in range(4))
    params = []
    for c, step in enumerate(steps):
        if c > 0:
            _nets.train(net, X, y, lr=_LR, steps=int(step - steps[c - 1]), record_at=np.array([0]),
                        probe_per_class=1, seed=seed + 4000 + c)
        impacts[c] = _nets.impact_matrix(net, X[sub])
        alpha[c], beta[c] = _class_means(impacts[c], y[sub])
        Z, Zv = net.logits(X), net.logits(X_val)
        tl[c] = _nets.cross_entropy(Z, y).mean()
        ta[c] = np.mean(Z.argmax(1) == y)
        vl[c] = _nets.cross_entropy(Zv, y_val).mean()
        va[c] = np.mean(Zv.argmax(1) == y_val)
        params.append(tuple(p.copy() for p in net.params))
    for arr in (steps, impacts, alpha, beta, tl, ta, vl, va):
        arr.setflags(write=False)
    return TrainingRun(width, activation, _LR, steps, X, y, X_val, y_val, sub, impacts, alpha, beta,
                       tl, ta, vl, va, tuple(params))


def training_run(width: int = 64, activation: str = "relu", *, seed: int = 0) -> TrainingRun:
    """Train (once; cached) an MLP ``1024 -> width -> 3`` on GeoMNIST and measure impacts (chapter 1).

    SGD with batch size 1 and learning rate 0.005 on 300 images per class,
    6,000 steps, checkpoints every 500 steps (:data:`CHECKPOINTS`). At each
    checkpoint: the impact matrix ``E = tr Theta / K`` on 30 images per class,
    alpha-hat and beta-hat (:func:`lecode.nets.class_impacts`), training and
    validation loss and accuracy.

    Parameters
    ----------
    width : int
        Hidden width, one of :data:`WIDTHS`.
    activation : {"relu", "tanh", "linear"}
    seed : int, default 0
        Seeds the data, the initialisation and the SGD draws.

    Returns
    -------
    TrainingRun
        Read-only arrays; the same object is returned on later calls.
    """
    width = check_choice("width", width, WIDTHS)
    activation = check_choice("activation", activation, ACTIVATIONS)
    seed = check_int("seed", seed, minimum=0)
    return _cached_run(int(width), activation, seed)


def _pair(pair: str) -> tuple[int, int]:
    pair = check_choice("pair", pair, CLASS_PAIRS)
    a, b = pair.split("-")
    return int(a), int(b)


def pair_impacts(run: TrainingRun, pair: str, step: int) -> dict:
    """Impacts between the images of two classes at the checkpoint nearest ``step``.

    Returns a dict with ``E`` (2m, 2m) the impact matrix of the two classes
    (sorted by class), ``classes`` (2m,), ``same`` and ``cross`` (the impacts
    of the same-class pairs, self-pairs excluded, and of the cross-class
    pairs), ``alpha``, ``beta`` (their means) and ``ratio = alpha / beta``.
    """
    a, b = _pair(pair)
    c = run.checkpoint(step)
    cls = run.sub_classes
    keep = np.flatnonzero((cls == a) | (cls == b))
    E = run.impacts[c][np.ix_(keep, keep)]
    k = cls[keep]
    same_mask = (k[:, None] == k[None, :]) & ~np.eye(len(k), dtype=bool)
    cross_mask = k[:, None] != k[None, :]
    same, cross = E[same_mask], E[cross_mask]
    alpha, beta = float(same.mean()), float(cross.mean())
    return {"E": E, "classes": k, "same": same, "cross": cross, "alpha": alpha, "beta": beta,
            "ratio": alpha / beta, "checkpoint": c, "step": int(run.steps[c])}


def _ratio_curve(run: TrainingRun, pair: str) -> np.ndarray:
    a, b = _pair(pair)
    return np.array([pair_impacts(run, pair, int(s))["ratio"] for s in run.steps])


def _compute(width, activation, pair, step):
    run = training_run(width, activation)
    out = pair_impacts(run, pair, step)
    out["steps"] = run.steps
    out["ratios"] = _ratio_curve(run, pair)
    out["ratios_all"] = run.alpha / run.beta
    out["val_acc"] = float(run.val_acc[out["checkpoint"]])
    out["pair"] = _pair(pair)
    return out


def _draw(result, axes, params):
    from .. import plots

    names = _data.GEOMNIST_CLASSES
    a, b = result["pair"]
    colors = plots.class_colors(3)
    # Colour-coded text labels instead of legends, and few ticks: text layout is
    # most of the cost of an update.
    # panel 1: the impact matrix, normalised by its mean so that all settings share a colour scale
    ax = axes[0]
    E = result["E"]
    ax.imshow(E / E.mean(), cmap="viridis", vmin=0.6, vmax=1.4, interpolation="nearest")
    m = int(np.sum(result["classes"] == a))
    ax.axhline(m - 0.5, color="w", lw=1)
    ax.axvline(m - 0.5, color="w", lw=1)
    ax.set_xticks([m / 2, m + (len(E) - m) / 2], [names[a], names[b]])
    ax.set_yticks([m / 2, m + (len(E) - m) / 2], [names[a], names[b]], rotation=90, va="center")
    ax.grid(False)
    ax.set_title(f"impact / mean impact (0.6–1.4), step {result['step']}", fontsize=9)
    # panel 2: distribution of same-class and cross-class impacts
    ax = axes[1]
    scale = result["E"].mean()
    pooled = np.concatenate([result["same"], result["cross"]]) / scale
    bins = np.linspace(pooled.min(), pooled.max(), 41)
    labels = (f"same class: α̂ / mean = {result['alpha'] / scale:.2f}",
              f"cross class: β̂ / mean = {result['beta'] / scale:.2f}")
    for j, (vals, color, label) in enumerate(zip((result["same"], result["cross"]), colors[:2], labels)):
        dens, _ = np.histogram(vals / scale, bins=bins, density=True)
        ax.stairs(dens, bins, fill=True, alpha=0.45, color=color, label=label)
        ax.text(0.98, 0.95 - 0.09 * j, label, color=color, fontsize=8, ha="right", va="top",
                transform=ax.transAxes)
    ax.locator_params(nbins=4)
    ax.set_xlabel("impact / mean impact")
    ax.set_ylabel("density")
    ax.set_title(f"{names[a]} vs {names[b]}", fontsize=9)
    # panel 3: alpha-hat / beta-hat over training
    ax = axes[2]
    ax.plot(result["steps"], result["ratios"], "-o", ms=3, color=colors[2], label=f"{names[a]}–{names[b]}")
    ax.plot(result["steps"], result["ratios_all"], "--", color="0.4", label="all 3 classes")
    ax.plot([result["step"]], [result["ratio"]], "o", ms=8, mfc="none", color="k")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.text(0.98, 0.95, f"{names[a]}–{names[b]}", color=colors[2], fontsize=8, ha="right", va="top",
            transform=ax.transAxes)
    ax.text(0.98, 0.86, "all 3 classes (dashed)", color="0.4", fontsize=8, ha="right", va="top",
            transform=ax.transAxes)
    ax.locator_params(nbins=4)
    ax.set_xlabel("SGD step")
    ax.set_ylabel("α̂ / β̂")
    ax.set_title(f"{params['activation']}, width {params['width']}, val. acc. {result['val_acc']:.2f}",
                 fontsize=9)


@site_grid(step=(0, 500, 1000, 2000, 3000, 4500, 6000), width=WIDTHS)
def make_explorer() -> Explorer:
    """The chapter-1 explorer: width, activation, class pair and training step.

    Panels: the impact matrix of the two chosen classes (sorted by class,
    divided by its mean), the histograms of same-class and cross-class
    impacts, and alpha-hat / beta-hat over training with the chosen step
    marked. The first update at a new ``(width, activation)`` trains the
    network (a few seconds, once); later updates only read the cache.
    """
    controls = [
        Control("width", "hidden width", 64, kind="choice", options=WIDTHS),
        Control("activation", "activation", "relu", kind="choice", options=ACTIVATIONS),
        Control("pair", "class pair", "0-2", kind="choice", options=CLASS_PAIRS),
        Control("step", "SGD step", CHECKPOINTS[-1], CHECKPOINTS[0], CHECKPOINTS[-1],
                CHECKPOINTS[1] - CHECKPOINTS[0], kind="int"),
    ]
    return Explorer("Local elasticity of a small network trained on GeoMNIST", controls, _compute, _draw,
                    panels=[{}, {}, {}], panel_size=(3.6, 3.0))
