"""SGD training of :class:`lecode.nets.MLP` with logit records (chapters 1, 6, 7).

Public names are re-exported by :mod:`lecode.nets`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ._validate import as_generator, check_int, check_real

__all__ = ["train", "TrainingRecord"]


def _one_blas_thread():
    """Limit BLAS to one thread while training, if threadpoolctl is installed.

    The SGD loop multiplies small matrices, for which a multithreaded BLAS
    spends more time synchronising than computing (5x slower measured on two
    shared cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


@dataclass
class TrainingRecord:
    """What :func:`train` recorded.

    ``R`` record times, ``M`` probe samples, ``K`` classes, ``C`` impact
    checkpoints, ``S`` SGD steps, ``B`` batch size.
    """
    steps: np.ndarray
    """(R,) SGD step counts at which the records were taken (0 = before training)."""
    probe_index: np.ndarray
    """(M,) indices into the training set of the fixed probe samples."""
    probe_classes: np.ndarray
    """(M,) classes of the probes (``true_labels`` if given, else the training labels)."""
    probe_logits: np.ndarray
    """(R, M, K) logits of the probes at each record time."""
    sampled_index: np.ndarray
    """(S, B) indices of the samples drawn at each SGD step."""
    sampled_logits: np.ndarray
    """(S, B, K) logits of the drawn samples just before their step."""
    train_loss: np.ndarray
    """(R,) mean cross-entropy on the training set (its labels as trained)."""
    train_acc: np.ndarray
    """(R,) training accuracy (against the labels as trained)."""
    val_loss: np.ndarray
    """(R,) validation loss (NaN without a validation set)."""
    val_acc: np.ndarray
    """(R,) validation accuracy (NaN without a validation set)."""
    impact_steps: np.ndarray
    """(C,) steps at which the NTK impacts were measured."""
    alpha: np.ndarray
    """(C,) alpha-hat on the probes (see :func:`lecode.nets.class_impacts`)."""
    beta: np.ndarray
    """(C,) beta-hat on the probes."""
    lr: float = 0.0
    batch_size: int = 1
    params: dict = field(default_factory=dict)
    """Other settings of the run (seed, sizes, ...)."""

    @property
    def times(self) -> np.ndarray:
        """Record times in the model's time ``t = lr * steps`` (DESIGN.md section 3)."""
        return self.lr * self.steps

    def class_mean_logits(self) -> np.ndarray:
        """(R, K, K) mean probe logits of each class: ``out[r, k] = mean_{i in k} f(x_i)``."""
        K = self.probe_logits.shape[2]
        return np.stack([self.probe_logits[:, self.probe_classes == k].mean(axis=1)
                         for k in range(K)], axis=1)


def _steps_array(name, value, steps):
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D array of integer step counts")
    if arr.size and (arr.min() < 0 or arr.max() > steps):
        raise ValueError(f"{name} must hold steps in 0..{steps} (= steps)")
    return np.unique(arr.astype(np.int64))


def train(net, X, y, *, lr: float, steps: int, batch_size: int = 1, X_val=None, y_val=None,
          record_at=None, probe_per_class: int = 10, impact_at=None, impact_per_class=None,
          true_labels=None, n_eval: int | None = None, seed=None,
          progress: bool = False) -> TrainingRecord:
    r"""Train ``net`` in place by SGD on the cross-entropy, recording logits (chapters 1, 6, 7).

    At each step ``m`` a batch of ``batch_size`` indices is drawn uniformly
    with replacement and ``theta <- theta - lr * (1/B) sum_i J_i^T
    (softmax(f(x_i)) - e_{y_i})`` (paper scale: batch size 1). Records:

    * at every step, the logits of the drawn samples just before their step;
    * at the steps ``record_at``, the logits of a fixed probe set of
      ``probe_per_class`` training samples per class, and the loss and
      accuracy on the training set (or a fixed subset of ``n_eval`` samples)
      and on the validation set;
    * at the steps ``impact_at``, alpha-hat and beta-hat of
      :func:`lecode.nets.class_impacts` on the probes (or on
      ``impact_per_class`` samples per class).

    Time in the LE model is ``t = lr * m`` (:attr:`TrainingRecord.times`).

    Parameters
    ----------
    net : lecode.nets.MLP
        Trained in place.
    X, y : training inputs (N, d) (or images) and integer labels (N,)
        The labels trained on (possibly corrupted, chapter 7).
    lr : float > 0
    steps : int >= 0
    batch_size : int >= 1, default 1
    X_val, y_val : optional validation set (both or neither)
    record_at : array of int in 0..steps, optional
        Default: 51 evenly spaced steps from 0 to ``steps``.
    probe_per_class : int >= 1, default 10
    impact_at : array of int in 0..steps, optional
        Default: none.
    impact_per_class : int >= 2, optional
        Samples per class for the impacts (default: the probes).
    true_labels : array of int (N,), optional
        Classes used to choose the probes and to group impact pairs; defaults
        to ``y`` (for label noise pass the uncorrupted labels: impacts follow
        the true class, gradients the label).
    n_eval : int >= 1, optional
        Evaluate the training loss on a fixed random subset of this size.
    seed : None, int or numpy.random.Generator
        Randomness of the probes and of the sampling (not of the
        initialisation, which belongs to the network).
    progress : bool, default False
        Print a progress line to stderr.

    Returns
    -------
    TrainingRecord
    """
    from .nets import MLP, class_impacts, cross_entropy

    if not isinstance(net, MLP):
        raise TypeError(f"net must be a lecode.nets.MLP, got {type(net).__name__}")
    X = net._inputs(X)
    y = net._labels(y, len(X))
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    steps = check_int("steps", steps, minimum=0)
    B = check_int("batch_size", batch_size, minimum=1)
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if X_val is not None:
        X_val = net._inputs(X_val, "X_val")
        y_val = net._labels(y_val, len(X_val), "y_val")
    record_at = (np.unique(np.linspace(0, steps, 51).round().astype(np.int64))
                 if record_at is None else _steps_array("record_at", record_at, steps))
    impact_at = (np.zeros(0, np.int64) if impact_at is None
                 else _steps_array("impact_at", impact_at, steps))
    m_probe = check_int("probe_per_class", probe_per_class, minimum=1)
    if impact_per_class is not None:
        impact_per_class = check_int("impact_per_class", impact_per_class, minimum=2)
    classes = y if true_labels is None else net._labels(true_labels, len(X), "true_labels")
    if n_eval is not None:
        n_eval = check_int("n_eval", n_eval, minimum=1)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    rng = as_generator(seed)
    K = net.n_classes

    probe = np.concatenate([rng.permutation(np.flatnonzero(classes == k))[:m_probe]
                            for k in range(K)])
    if impact_per_class is None:
        imp_idx = probe
    else:
        imp_idx = np.concatenate([rng.permutation(np.flatnonzero(classes == k))[:impact_per_class]
                                  for k in range(K)])
    ev = (np.arange(len(X)) if n_eval is None or n_eval >= len(X)
          else np.sort(rng.choice(len(X), size=n_eval, replace=False)))
    Xe, ye = X[ev], y[ev]
    draws = rng.integers(0, len(X), size=(steps, B))

    R, C = len(record_at), len(impact_at)
    probe_logits = np.empty((R, len(probe), K))
    tr_loss, tr_acc = np.empty(R), np.empty(R)
    va_loss, va_acc = np.full(R, np.nan), np.full(R, np.nan)
    alpha, beta = np.empty(C), np.empty(C)
    sampled = np.empty((steps, B, K))
    rec_set = {int(s): r for r, s in enumerate(record_at)}
    imp_set = {int(s): c for c, s in enumerate(impact_at)}

    def observe(m):
        if m in rec_set:
            r = rec_set[m]
            probe_logits[r] = net.logits(X[probe])
            Z = net.logits(Xe)
            tr_loss[r] = cross_entropy(Z, ye).mean()
            tr_acc[r] = np.mean(Z.argmax(1) == ye)
            if X_val is not None:
                Zv = net.logits(X_val)
                va_loss[r] = cross_entropy(Zv, y_val).mean()
                va_acc[r] = np.mean(Zv.argmax(1) == y_val)
        if m in imp_set:
            c = imp_set[m]
            a, b, _ = class_impacts(net, X[imp_idx], classes[imp_idx])
            alpha[c], beta[c] = a, b

    t0 = time.perf_counter()
    every = max(1, steps // 20)
    with _one_blas_thread():
        observe(0)
        for m in range(steps):
            i = draws[m]
            sampled[m] = net._step(X[i], y[i], lr)
            observe(m + 1)
            if progress and ((m + 1) % every == 0 or m + 1 == steps):
                el = time.perf_counter() - t0
                print(f"\rtrain: step {m + 1}/{steps}  {el:.1f}s", end="", file=sys.stderr,
                      flush=True)
    if progress:
        print(file=sys.stderr, flush=True)

    return TrainingRecord(
        steps=record_at, probe_index=probe, probe_classes=classes[probe],
        probe_logits=probe_logits, sampled_index=draws, sampled_logits=sampled,
        train_loss=tr_loss, train_acc=tr_acc, val_loss=va_loss, val_acc=va_acc,
        impact_steps=impact_at, alpha=alpha, beta=beta, lr=lr, batch_size=B,
        params=dict(sizes=net.sizes, activation=net.activation, steps=steps,
                    probe_per_class=m_probe, n_eval=n_eval))
