"""Tests of lecode.data (GeoMNIST, digits, CIFAR-10 reader, label corruption)."""

import os
import pickle

import numpy as np
import pytest

from lecode import data


# ---------------------------------------------------------------- GeoMNIST

def test_geomnist_shape_range_balance():
    X, y = data.geomnist(20, seed=0)
    assert X.shape == (60, 32, 32) and X.dtype == np.float64
    assert y.shape == (60,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.array_equal(np.bincount(y), [20, 20, 20])
    # the shapes are filled (interior at 1) and the border is background
    assert X.max(axis=(1, 2)).min() > 0.95
    assert np.abs(X[:, 0, :]).max() < 0.05 and np.abs(X[:, :, -1]).max() < 0.05


def test_geomnist_deterministic_and_seed_dependent():
    X1, y1 = data.geomnist(5, seed=3)
    X2, y2 = data.geomnist(5, seed=3)
    X3, _ = data.geomnist(5, seed=4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    Xg, _ = data.geomnist(5, seed=np.random.default_rng(3))
    assert np.array_equal(Xg, X1)


def test_geomnist_classes_differ_and_flatten():
    X, y = data.geomnist(50, seed=1, flatten=True)
    assert X.shape == (150, 1024)
    means = np.array([X[y == k].mean(axis=0) for k in range(3)])
    # class-mean images are distinct (the shapes are distinguishable)
    d = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert d[np.triu_indices(3, 1)].min() > 1.0
    # areas comparable (no class identifiable by total ink alone)
    ink = np.array([X[y == k].sum(axis=1).mean() for k in range(3)])
    assert ink.max() / ink.min() < 1.2


def test_geomnist_rotation_and_blur_options():
    X0, _ = data.geomnist(3, seed=0, max_angle=0.0, scale_jitter=0.0, blur=(1.0, 1.0))
    # without rotation, jitter, or blur variation all images of a class coincide
    Xa, ya = data.geomnist(4, seed=5, max_angle=0.0, scale_jitter=0.0, blur=(1.0, 1.0))
    for k in range(3):
        imgs = Xa[ya == k]
        assert np.allclose(imgs, imgs[0])
    Xs, _ = data.geomnist(2, seed=0, size=20)
    assert Xs.shape == (6, 20, 20)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_per_class=0), ValueError, "n_per_class"),
    (dict(n_per_class=2.5), TypeError, "n_per_class"),
    (dict(n_per_class=2, size=8), ValueError, "size"),
    (dict(n_per_class=2, scale_jitter=0.9), ValueError, "scale_jitter"),
    (dict(n_per_class=2, blur=(1.2, 1.0)), ValueError, "blur"),
    (dict(n_per_class=2, blur=1.0), TypeError, "blur"),
    (dict(n_per_class=2, max_angle=400), ValueError, "max_angle"),
    (dict(n_per_class=2, seed=-1), ValueError, "seed"),
])
def test_geomnist_validation(kwargs, exc, match):
    n = kwargs.pop("n_per_class")
    with pytest.raises(exc, match=match):
        data.geomnist(n, **kwargs)


# ---------------------------------------------------------------- digits

def test_digits_relabel_and_range():
    X, y = data.digits((3, 7), seed=0)
    assert X.shape[1:] == (8, 8) and X.min() >= 0 and X.max() <= 1 and X.max() > 0.9
    assert set(np.unique(y)) == {0, 1}
    from sklearn.datasets import load_digits
    d = load_digits()
    assert np.bincount(y).tolist() == [np.sum(d.target == 3), np.sum(d.target == 7)]
    # relabelling follows the order given: label 0 is digit 3
    ref = {tuple(img.ravel()) for img in d.images[d.target == 3]}
    assert all(tuple((img * 16).ravel()) in ref for img in X[y == 0][:10])


def test_digits_subset_deterministic():
    X1, y1 = data.digits((0, 1, 2, 3), n_per_class=30, seed=2, flatten=True)
    X2, y2 = data.digits((0, 1, 2, 3), n_per_class=30, seed=2, flatten=True)
    assert X1.shape == (120, 64) and np.array_equal(np.bincount(y1), [30] * 4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(classes=(1,)), ValueError, "classes"),
    (dict(classes=(1, 1)), ValueError, "classes"),
    (dict(classes=(1, 10)), ValueError, "classes"),
    (dict(classes=3), TypeError, "classes"),
    (dict(n_per_class=0), ValueError, "n_per_class"),
    (dict(n_per_class=500), ValueError, "n_per_class"),
])
def test_digits_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data.digits(**kwargs)


# ---------------------------------------------------------------- CIFAR-10

def _write_fake_cifar(folder, n_per_batch=20, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    all_labels = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, size=n_per_batch).tolist()
        arr = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        # encode the label in the first red pixel so relabelling can be checked
        arr[:, 0] = np.array(labels, dtype=np.uint8) * 20
        with open(os.path.join(folder, name), "wb") as fh:
            pickle.dump({b"data": arr, b"labels": labels, b"batch_label": name.encode()}, fh)
        if name != "test_batch":
            all_labels += labels
    return np.array(all_labels)


def test_cifar10_reads_pickles(tmp_path):
    labels = _write_fake_cifar(tmp_path / "cifar-10-batches-py")
    X, y = data.cifar10(tmp_path, classes=(2, "cat"), seed=0)   # parent folder works
    assert X.shape[1:] == (32, 32, 3) and X.min() >= 0 and X.max() <= 1
    assert len(y) == np.sum(labels == 2) + np.sum(labels == 3)
    assert np.allclose(X[y == 0, 0, 0, 0], 2 * 20 / 255)
    assert np.allclose(X[y == 1, 0, 0, 0], 3 * 20 / 255)
    Xg, _ = data.cifar10(tmp_path / "cifar-10-batches-py", classes=(2, 3), seed=0,
                         grayscale=True, flatten=True)
    assert Xg.shape == (len(y), 1024)
    Xt, yt = data.cifar10(tmp_path, classes=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), split="test")
    assert len(yt) == 20
    n = min(np.sum(labels == 2), np.sum(labels == 3))
    Xs, ys = data.cifar10(tmp_path, classes=(2, 3), n_per_class=n, seed=1)
    assert np.array_equal(np.bincount(ys), [n, n])


def test_cifar10_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="cs.toronto.edu") as info:
        data.cifar10(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_cifar10_validation(tmp_path):
    _write_fake_cifar(tmp_path)
    with pytest.raises(ValueError, match="split"):
        data.cifar10(tmp_path, split="valid")
    with pytest.raises(ValueError, match="classes"):
        data.cifar10(tmp_path, classes=("cat", "unicorn"))
    with pytest.raises(TypeError, match="path"):
        data.cifar10(3)
    with pytest.raises(ValueError, match="n_per_class"):
        data.cifar10(tmp_path, n_per_class=10_000)


# ---------------------------------------------------------------- corruption

@pytest.mark.parametrize("p", [0.0, 0.1, 0.35, 2 / 3, 0.8, 1.0])
@pytest.mark.parametrize("K", [2, 3, 5])
def test_corrupt_labels_counts(p, K):
    y = np.repeat(np.arange(K), [30 + 7 * k for k in range(K)])
    yc = data.corrupt_labels(y, p, seed=0)
    assert yc.shape == y.shape and yc.dtype == np.int64
    for k in range(K):
        nk = np.sum(y == k)
        moved = yc[(y == k) & (yc != y)]
        assert len(moved) == round(p * nk)            # exactly round(p n_k) relabelled
        assert np.all(moved != k)                     # never to their own class
        counts = np.bincount(moved, minlength=K)
        others = np.delete(counts, k)
        assert others.max() - others.min() <= 1       # spread evenly


def test_corrupt_labels_deterministic_no_mutation():
    y = np.repeat(np.arange(3), 40)
    y0 = y.copy()
    a = data.corrupt_labels(y, 0.3, seed=7)
    b = data.corrupt_labels(y, 0.3, seed=7)
    c = data.corrupt_labels(y, 0.3, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(y, y0)
    assert data.corrupt_labels([0, 1, 0, 1], 0.5, seed=0, n_classes=4).max() <= 3


@pytest.mark.parametrize("args, kwargs, exc, match", [
    (([0, 1, 2], 1.5), {}, ValueError, "p"),
    (([0, 1, 2], -0.1), {}, ValueError, "p"),
    (([0, 1, 2], float("nan")), {}, ValueError, "p"),
    (([0, 0, 0], 0.1), {}, ValueError, "y"),
    (([0, 1, -1], 0.1), {}, ValueError, "y"),
    (([0.5, 1, 2], 0.1), {}, TypeError, "y"),
    (([[0, 1]], 0.1), {}, ValueError, "y"),
    (([0, 1, 2], 0.1), {"n_classes": 2}, ValueError, "n_classes"),
    (([0, 1, 2], 0.1), {"n_classes": 1}, ValueError, "n_classes"),
])
def test_corrupt_labels_validation(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data.corrupt_labels(*args, **kwargs)


# ---------------------------------------------------------------- split

def test_train_val_split():
    X, y = data.geomnist(10, seed=0)
    Xt, yt, Xv, yv = data.train_val_split(X, y, 3, seed=0)
    assert np.array_equal(np.bincount(yv), [3, 3, 3]) and np.array_equal(np.bincount(yt), [7, 7, 7])
    assert Xt.shape == (21, 32, 32) and Xv.shape == (9, 32, 32)
    # disjoint and complete
    rows = {x.tobytes() for x in Xt} | {x.tobytes() for x in Xv}
    assert len(rows) == 30
    again = data.train_val_split(X, y, 3, seed=0)
    assert np.array_equal(again[2], Xv)
    with pytest.raises(ValueError, match="n_val_per_class"):
        data.train_val_split(X, y, 10)
    with pytest.raises(ValueError, match="y"):
        data.train_val_split(X, y[:-1], 2)


# ---------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=2, max_size=6),
       p=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_corrupt_labels_property(sizes, p, seed):
    y = np.repeat(np.arange(len(sizes)), sizes)
    if len(y) == 0 or y.max() < 1:
        return
    yc = data.corrupt_labels(y, p, seed=seed, n_classes=len(sizes))
    for k, nk in enumerate(sizes):
        moved = yc[(y == k) & (yc != y)]
        assert len(moved) == round(p * nk) and np.all(moved != k)
        others = np.delete(np.bincount(moved, minlength=len(sizes)), k)
        assert others.max() - others.min() <= 1
