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


# ---------------------------------------------------------------- CIFAR-10: safety

import struct  # noqa: E402


def _py2_batch_bytes(arr, labels, extra_keys=True):
    """A batch pickled as the published CIFAR-10 files are (Python 2 cPickle, protocol 2).

    Written opcode by opcode: GLOBAL numpy.core.multiarray._reconstruct, numpy
    ndarray/dtype, the dtype state (3, '|', None, None, None, -1, -1, 0) and the
    array state (1, shape, dtype, False, raw str) -- the structure pickletools
    shows for the real ``data_batch_1``.
    """
    def binstring(b):
        return b"T" + struct.pack("<i", len(b)) + b if len(b) > 255 else b"U" + bytes([len(b)]) + b

    def binint(i):
        return b"J" + struct.pack("<i", i)

    out = [b"\x80\x02", b"}q\x01", b"("]
    if extra_keys:
        out += [binstring(b"batch_label"), binstring(b"training batch 1 of 5")]
    out += [binstring(b"labels"), b"]", b"("] + [binint(int(v)) for v in labels] + [b"e"]
    out += [binstring(b"data"),
            b"cnumpy.core.multiarray\n_reconstruct\n",
            b"cnumpy\nndarray\n", binint(0), b"\x85", binstring(b"b"), b"\x87", b"R",
            # state: (1, shape, dtype, False, raw)
            b"(", binint(1), binint(arr.shape[0]), binint(arr.shape[1]), b"\x86",
            b"cnumpy\ndtype\n", binstring(b"u1"), binint(0), binint(1), b"\x87", b"R",
            b"(", binint(3), binstring(b"|"), b"N", b"N", b"N", binint(-1), binint(-1),
            binint(0), b"t", b"b",
            b"\x89", binstring(np.ascontiguousarray(arr, dtype=np.uint8).tobytes()), b"t", b"b"]
    if extra_keys:
        out += [binstring(b"filenames"), b"]", b"("]
        out += [binstring(f"img_{i}.png".encode()) for i in range(len(labels))] + [b"e"]
    out += [b"u", b"."]
    return b"".join(out)


def test_py2_format_batch_is_read(tmp_path):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 10, size=40)
    arr = rng.integers(0, 256, size=(40, 3072), dtype=np.uint8)
    (tmp_path / "test_batch").write_bytes(_py2_batch_bytes(arr, labels))
    raw = pickle.loads((tmp_path / "test_batch").read_bytes(), encoding="bytes")
    assert np.array_equal(raw[b"data"], arr)      # the hand-written pickle is a real one
    X, y = data.cifar10(tmp_path, classes=tuple(range(10)), split="test", flatten=True)
    # cifar10 shuffles; compare as multisets of (label, row)
    got = sorted(zip(y.tolist(), map(bytes, np.round(X * 255).astype(np.uint8))))
    hwc = arr.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(arr), -1)
    want = sorted(zip(labels.tolist(), map(bytes, hwc)))
    assert got == want


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_python3_pickles_of_every_protocol_are_read(tmp_path, protocol):
    rng = np.random.default_rng(protocol)
    arr = rng.integers(0, 256, size=(30, 3072), dtype=np.uint8)
    labels = np.arange(30) % 10
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": arr, b"labels": labels.tolist(), b"batch_label": b"x"}, fh,
                    protocol=protocol)
    X, y = data.cifar10(tmp_path, classes=(3, 4), split="test", flatten=True)
    assert np.bincount(y).tolist() == [3, 3]
    # labels stored as an int64 array (and pickled array in Fortran order) also work
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({"data": np.asfortranarray(arr), "labels": labels}, fh, protocol=protocol)
    X2, y2 = data.cifar10(tmp_path, classes=(3, 4), split="test", flatten=True)
    assert np.array_equal(np.sort(X2.sum(axis=1)), np.sort(X.sum(axis=1)))


def test_full_size_batch_is_read(tmp_path):
    # the real shape: 10,000 x 3072 uint8 (30 MB)
    arr = np.zeros((10_000, 3072), dtype=np.uint8)
    arr[:, 1] = np.arange(10_000) % 256
    labels = np.arange(10_000) % 10
    (tmp_path / "test_batch").write_bytes(_py2_batch_bytes(arr, labels, extra_keys=False))
    X, y = data.cifar10(tmp_path, classes=(0, 9), split="test", flatten=True)
    assert X.shape == (2000, 3072) and np.bincount(y).tolist() == [1000, 1000]


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import pathlib
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class _HostileSystem:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("hostile", [_Hostile, _HostileSystem])
def test_hostile_batch_is_refused_without_side_effect(tmp_path, hostile):
    marker = tmp_path / "pwned"
    good = np.zeros((10, 3072), dtype=np.uint8)
    payload = {b"data": good, b"labels": [0] * 10, b"batch_label": hostile(str(marker))}
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump(payload, fh)
    with pytest.raises(ValueError, match="refused to load the global") as info:
        data.cifar10(tmp_path, split="test")
    assert "test_batch" in str(info.value)
    assert not marker.exists()
    # control: an unrestricted pickle.load of the same file does run the payload
    with open(tmp_path / "test_batch", "rb") as fh:
        pickle.load(fh, encoding="bytes")
    assert marker.exists()


def _dump(tmp_path, obj, protocol=4):
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)


_GOOD = np.zeros((10, 3072), dtype=np.uint8)


@pytest.mark.parametrize("payload, match", [
    (b"not a pickle at all", "cannot be read|not a valid"),
    ([1, 2, 3], "not a dict"),
    ({b"data": _GOOD}, "no 'data'/'labels'"),
    ({b"data": _GOOD.tolist(), b"labels": [0] * 10}, "not a numpy array"),
    ({b"data": _GOOD.astype(np.float64), b"labels": [0] * 10}, "dtype"),
    ({b"data": _GOOD.astype(np.int64), b"labels": [0] * 10}, "dtype uint8"),
    ({b"data": _GOOD[:, :3000], b"labels": [0] * 10}, "shape"),
    ({b"data": _GOOD.ravel(), b"labels": [0] * 10}, "shape"),
    ({b"data": _GOOD[:0], b"labels": []}, "shape"),
    ({b"data": _GOOD, b"labels": [0] * 9}, "9 entries"),
    ({b"data": _GOOD, b"labels": [0] * 9 + [10]}, "0..9"),
    ({b"data": _GOOD, b"labels": [0] * 9 + [-1]}, "0..9"),
    ({b"data": _GOOD, b"labels": [0] * 9 + [2**70]}, "0..9"),
    ({b"data": _GOOD, b"labels": [0] * 9 + [1.0]}, "0..9"),
    ({b"data": _GOOD, b"labels": [0] * 9 + [True]}, "0..9"),
    ({b"data": _GOOD, b"labels": "0123456789"}, "list of ints"),
    ({b"data": _GOOD, b"labels": np.zeros((10, 1), dtype=int)}, "1-D integer"),
    ({b"data": _GOOD, b"labels": np.zeros(10)}, "dtype"),          # float array refused in the reader
    ({b"data": np.array([object()] * 10), b"labels": [0] * 10}, "not a valid"),
])
def test_malformed_batches_get_clear_errors(tmp_path, payload, match):
    if isinstance(payload, bytes):
        (tmp_path / "test_batch").write_bytes(payload)
    else:
        _dump(tmp_path, payload)
    with pytest.raises(ValueError, match=match) as info:
        data.cifar10(tmp_path, split="test")
    assert "test_batch" in str(info.value) and "CIFAR-10" in str(info.value)


def test_truncated_and_crafted_array_states(tmp_path):
    full = pickle.dumps({b"data": _GOOD, b"labels": [0] * 10}, protocol=2)
    for cut in (1, 10, len(full) // 2, len(full) - 1):
        (tmp_path / "test_batch").write_bytes(full[:cut])
        with pytest.raises(ValueError, match="not a valid CIFAR-10"):
            data.cifar10(tmp_path, split="test")
    # an array whose stated shape does not match its bytes
    arr = _py2_batch_bytes(_GOOD, [0] * 10, extra_keys=False)
    bad = arr.replace(struct.pack("<i", 3072), struct.pack("<i", 3073), 1)
    (tmp_path / "test_batch").write_bytes(bad)
    with pytest.raises(ValueError, match="needs .* bytes"):
        data.cifar10(tmp_path, split="test")
    # an object dtype named in the pickle
    bad = arr.replace(b"U\x02u1", b"U\x02O8", 1)
    (tmp_path / "test_batch").write_bytes(bad)
    with pytest.raises(ValueError, match="dtype 'O8' is not allowed"):
        data.cifar10(tmp_path, split="test")
    # a dtype state with fields
    bad = arr.replace(b"U\x01|NNN", b"U\x01|N(tN", 1)
    (tmp_path / "test_batch").write_bytes(bad)
    with pytest.raises(ValueError, match="plain integer dtypes"):
        data.cifar10(tmp_path, split="test")


def test_oversized_batch_file_is_refused(tmp_path, monkeypatch):
    _dump(tmp_path, {b"data": _GOOD, b"labels": [0] * 10})
    monkeypatch.setattr(data, "CIFAR10_MAX_BATCH_BYTES", 1000)
    with pytest.raises(ValueError, match="more than the 1000"):
        data.cifar10(tmp_path, split="test")
