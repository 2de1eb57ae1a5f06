"""Data sets for the network chapters (1, 6 and 7).

* :func:`geomnist` -- our own generator of *GeoMNIST*, three classes of small
  grey images (an ellipse, a rectangle, a triangle), after the description of
  the paper's public experiments (DESIGN.md section 7).
* :func:`digits` -- real handwritten digits bundled with scikit-learn (8x8
  images, no download).
* :func:`cifar10` -- CIFAR-10 read from the standard python-pickle batches in a
  local folder, when the user has them.
* :func:`corrupt_labels` -- the label corruption of chapter 7.
* :func:`train_val_split` -- a stratified, seeded split.

All images are returned as float64 arrays with values in [0, 1] and labels as
int64 arrays in ``{0, ..., K-1}``. Networks take flattened inputs:
``X.reshape(len(X), -1)`` (or :func:`lecode.nets.MLP.logits`, which flattens
for you).
"""

from __future__ import annotations

import os
import pickle
from typing import Sequence

import numpy as np

from ._validate import as_generator, check_array, check_int, check_real
from .limits import check_bytes

__all__ = [
    "GEOMNIST_CLASSES",
    "CIFAR10_CLASSES",
    "geomnist",
    "digits",
    "cifar10",
    "corrupt_labels",
    "train_val_split",
]

#: Class names of :func:`geomnist`, in label order.
GEOMNIST_CLASSES = ("ellipse", "rectangle", "triangle")

#: Class names of CIFAR-10, in label order (as in ``batches.meta``).
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog",
                   "frog", "horse", "ship", "truck")

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


# --------------------------------------------------------------------------
# GeoMNIST
# --------------------------------------------------------------------------

def _blur_matrices(sigma: np.ndarray, size: int) -> np.ndarray:
    """Gaussian blur matrices, one per image.

    ``G[i] @ img @ G[i].T`` convolves ``img`` with a Gaussian of standard
    deviation ``sigma[i]`` pixels (zero padding outside the image; the kernel
    itself is normalised to unit sum so a large flat region keeps its value).
    """
    offs = np.arange(size)[:, None] - np.arange(size)[None, :]           # (S, S)
    half = int(np.ceil(4 * sigma.max()))
    taps = np.arange(-half, half + 1)
    norm = np.exp(-0.5 * (taps[None, :] / sigma[:, None]) ** 2).sum(axis=1)  # (N,)
    g = np.exp(-0.5 * (offs[None] / sigma[:, None, None]) ** 2)
    g[:, np.abs(offs) > half] = 0.0
    return g / norm[:, None, None]


def _shape_coverage(kind: np.ndarray, u: np.ndarray, v: np.ndarray,
                    scale: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of each shape at rotated coordinates.

    Uses an approximate signed distance ``d`` to the boundary (negative
    inside) and the coverage ``clip(0.5 - d, 0, 1)`` of a unit pixel.
    ``u, v`` have shape (N, S, S); ``kind`` and ``scale`` shape (N,).
    """
    s = scale[:, None, None]
    d = np.empty_like(u)
    # ellipse, semi-axes 11 and 6.5 pixels (times the jitter)
    m = kind == 0
    if m.any():
        a, b = 11.0 * s[m], 6.5 * s[m]
        uu, vv = u[m], v[m]
        f = (uu / a) ** 2 + (vv / b) ** 2 - 1.0
        grad = 2.0 * np.sqrt((uu / a**2) ** 2 + (vv / b**2) ** 2) + 1e-9
        d[m] = f / grad
    # rectangle, half-sides 9.5 and 6 pixels
    m = kind == 1
    if m.any():
        a, b = 9.5 * s[m], 6.0 * s[m]
        d[m] = np.maximum(np.abs(u[m]) - a, np.abs(v[m]) - b)
    # equilateral triangle, circumradius 13 pixels (inradius half of it)
    m = kind == 2
    if m.any():
        r_in = 0.5 * 13.0 * s[m]
        uu, vv = u[m], v[m]
        dist = None
        for ang in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
            # outward normals of the three edges; the centroid is the origin
            h = uu * np.cos(ang) + vv * np.sin(ang) - r_in
            dist = h if dist is None else np.maximum(dist, h)
        d[m] = dist
    return np.clip(0.5 - d, 0.0, 1.0)


def geomnist(n_per_class: int, *, seed=None, size: int = 32,
             scale_jitter: float = 0.1, blur: tuple[float, float] = (0.9, 1.1),
             max_angle: float = 176.0, flatten: bool = False):
    """Generate GeoMNIST: ellipses, rectangles and triangles (chapters 1, 6, 7).

    Class 0 is an ellipse, 1 a rectangle, 2 an equilateral triangle (see
    :data:`GEOMNIST_CLASSES`). Each image is drawn at the centre of a
    ``size`` x ``size`` canvas with

    * a size factor ``1 + U(-scale_jitter, scale_jitter)``,
    * a rotation angle drawn uniformly from ``{0, 4, 8, ..., max_angle}``
      degrees (0-176 degrees by default, as in the paper's description),
    * a Gaussian blur of standard deviation ``sigma ~ U(blur[0], blur[1])``
      pixels (0.9-1.1 px by default), applied as the separable convolution
      ``G img G^T`` with ``G_{ij} = exp(-(i-j)^2 / 2 sigma^2) / Z``.

    Pixel values lie in [0, 1] (1 inside the shape, 0 outside, before blur).
    The same ``seed`` gives the same images; classes are balanced and the
    samples come in a random order.

    Parameters
    ----------
    n_per_class : int
        Number of images of each of the 3 classes (>= 1).
    seed : None, int or numpy.random.Generator
        Source of randomness.
    size : int, default 32
        Side of the square canvas in pixels (16 to 128). Shapes are scaled in
        proportion to ``size / 32``.
    scale_jitter : float, default 0.1
        Relative size jitter, in [0, 0.3].
    blur : (float, float), default (0.9, 1.1)
        Range of the blur width in pixels, ``0 < blur[0] <= blur[1] <= 3``.
    max_angle : float, default 176
        Largest rotation angle in degrees, in [0, 360); angles are multiples
        of 4 degrees.
    flatten : bool, default False
        Return ``X`` of shape ``(3 n, size**2)`` instead of images.

    Returns
    -------
    X : ndarray, shape (3 n, size, size) (or (3 n, size**2)), float64 in [0, 1]
    y : ndarray, shape (3 n,), int64 in {0, 1, 2}
    """
    n = check_int("n_per_class", n_per_class, minimum=1)
    size = check_int("size", size, minimum=16, maximum=128)
    flatten = _check_flag("flatten", flatten)
    jit = check_real("scale_jitter", scale_jitter, minimum=0.0, maximum=0.3)
    max_angle = check_real("max_angle", max_angle, minimum=0.0, maximum=360.0,
                           strict_max=True)
    try:
        lo, hi = (float(b) for b in blur)
    except (TypeError, ValueError):
        raise TypeError(f"blur must be a pair of numbers (low, high), got {blur!r}") from None
    if not (0.0 < lo <= hi <= 3.0):
        raise ValueError(f"blur must satisfy 0 < blur[0] <= blur[1] <= 3, got {blur!r}")
    # about ten (N, size, size) float arrays live at once (grid, coverage, blur, image)
    check_bytes(f"n_per_class={n}", 10 * 3 * n * size * size * 8,
                f"{3 * n} images of {size} x {size} pixels",
                "generate fewer images per call (e.g. in batches with different seeds)")
    rng = as_generator(seed)

    N = 3 * n
    y = rng.permutation(np.repeat(np.arange(3, dtype=np.int64), n))
    angles_deg = 4.0 * rng.integers(0, int(max_angle // 4) + 1, size=N)
    scale = (1.0 + rng.uniform(-jit, jit, size=N)) * (size / 32.0)
    sigma = rng.uniform(lo, hi, size=N)

    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(float) - c
    th = np.deg2rad(angles_deg)[:, None, None]
    u = np.cos(th) * xx + np.sin(th) * yy          # rotate the grid by -theta
    v = -np.sin(th) * xx + np.cos(th) * yy
    img = _shape_coverage(y, u, v, scale)
    G = _blur_matrices(sigma, size)
    X = G @ img @ np.transpose(G, (0, 2, 1))
    np.clip(X, 0.0, 1.0, out=X)
    if flatten:
        X = X.reshape(N, -1)
    return X, y


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


# --------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------

def _check_classes(classes, n_total: int, names: Sequence[str] | None = None) -> list[int]:
    """Validate a sequence of distinct class indices (or names)."""
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be a sequence of class indices, got {classes!r}")
    out = []
    for c in classes:
        if isinstance(c, str) and names is not None:
            if c not in names:
                raise ValueError(f"classes: unknown class name {c!r}; known: {', '.join(names)}")
            c = names.index(c)
        c = check_int("classes", c, minimum=0, maximum=n_total - 1)
        out.append(c)
    if len(out) < 2:
        raise ValueError(f"classes must name at least 2 classes, got {len(out)}")
    if len(set(out)) != len(out):
        raise ValueError(f"classes must be distinct, got {list(classes)!r}")
    return out


def _select(X: np.ndarray, labels: np.ndarray, classes: list[int], n_per_class,
            rng) -> tuple[np.ndarray, np.ndarray]:
    """Keep ``classes`` (relabelled 0..K-1), optionally ``n_per_class`` of each."""
    idx_all = []
    for k, c in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        if n_per_class is not None:
            if n_per_class > len(idx):
                raise ValueError(f"n_per_class must be <= {len(idx)} (the number of "
                                 f"images of class {c}), got {n_per_class}")
            idx = np.sort(rng.choice(idx, size=n_per_class, replace=False))
        idx_all.append(idx)
    idx = np.concatenate(idx_all)
    y = np.concatenate([np.full(len(i), k, dtype=np.int64) for k, i in enumerate(idx_all)])
    order = rng.permutation(len(idx))
    return X[idx[order]], y[order]


def digits(classes: Sequence[int] = (0, 1, 2), *, n_per_class: int | None = None,
           seed=None, flatten: bool = False):
    """scikit-learn's bundled handwritten digits, relabelled (chapters 1 and 6).

    The 1,797 8x8 images of ``sklearn.datasets.load_digits`` (real data,
    bundled with scikit-learn, no download), scaled from {0..16} to [0, 1].
    The digits in ``classes`` are kept and relabelled ``0, ..., K-1`` in the
    order given; the samples come in a seeded random order.

    Parameters
    ----------
    classes : sequence of int, default (0, 1, 2)
        At least 2 distinct digits in 0..9.
    n_per_class : int, optional
        Keep a random subset of this many images per class (each digit has
        at least 174 images); all of them by default.
    seed : None, int or numpy.random.Generator
        Randomness of the subset and of the order.
    flatten : bool, default False
        Return ``X`` of shape (N, 64) instead of (N, 8, 8).

    Returns
    -------
    X : ndarray (N, 8, 8) or (N, 64), float64 in [0, 1]
    y : ndarray (N,), int64 in {0, ..., K-1}
    """
    cls = _check_classes(classes, 10)
    if n_per_class is not None:
        n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    rng = as_generator(seed)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a book dependency
        raise ImportError("lecode.data.digits needs scikit-learn "
                          "(pip install scikit-learn)") from exc
    d = load_digits()
    X, y = _select(d.images.astype(np.float64) / 16.0, d.target, cls, n_per_class, rng)
    if flatten:
        X = X.reshape(len(X), -1)
    return X, y


def _cifar_folder(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike folder, got {type(path).__name__}")
    path = os.fspath(path)
    for cand in (path, os.path.join(path, "cifar-10-batches-py")):
        if os.path.isfile(os.path.join(cand, "data_batch_1")) or \
                os.path.isfile(os.path.join(cand, "test_batch")):
            return cand
    raise FileNotFoundError(
        f"CIFAR-10 not found in folder {path!r} (looked for 'data_batch_1' or 'test_batch' "
        f"there and in {os.path.join(path, 'cifar-10-batches-py')!r}). Download "
        f"'CIFAR-10 python version' (cifar-10-python.tar.gz) from {CIFAR10_URL} "
        f"and extract it into that folder.")


# A CIFAR-10 python batch is a pickled dict {b"batch_label": bytes,
# b"labels": list of int, b"data": uint8 ndarray (10000, 3072),
# b"filenames": list of bytes}. ``pickle.load`` would call whatever callable a
# crafted file names, so the batches are read by an unpickler that resolves
# only the globals an ndarray's pickle names, and resolves each of them to a
# stand-in of ours: the stand-ins record the array's dtype code, byte order,
# shape and raw bytes, check them, and build the array with np.frombuffer.
# Nothing of the file reaches numpy's own unpickling code (whose dtype state
# can carry flags and fields), and any other global is refused before
# anything is called.

#: Largest batch file read (a real batch is about 31 MB).
CIFAR10_MAX_BATCH_BYTES = 200 * 2**20
#: Images in one real batch; smaller batches (subsets) are accepted.
CIFAR10_BATCH_SIZE = 10_000
_CIFAR_DTYPES = ("u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8")


class _DtypeStub:
    """Stands in for ``numpy.dtype(code, align, copy)``; BUILD sets the byte order."""

    def __init__(self, code, align=False, copy=False):
        if isinstance(code, bytes):
            code = code.decode("latin1")
        if code not in _CIFAR_DTYPES:
            raise pickle.UnpicklingError(f"dtype {code!r} is not allowed in a CIFAR-10 batch "
                                         f"(only integer types)")
        self.code, self.order = code, "|"

    def __setstate__(self, state):
        # numpy's state: (version, byteorder, subarray, names, fields, itemsize, alignment, flags)
        if isinstance(state, tuple) and len(state) >= 2 and isinstance(state[1], bytes):
            state = (state[0], state[1].decode("latin1")) + state[2:]    # Python 2 str
        if not (isinstance(state, tuple) and len(state) >= 5
                and state[1] in ("|", "<", ">", "=") and state[2:5] == (None, None, None)):
            raise pickle.UnpicklingError("only plain integer dtypes (no fields, no "
                                         "sub-arrays) are allowed in a CIFAR-10 batch")
        self.order = state[1]

    def dtype(self) -> np.dtype:
        return np.dtype((self.order if self.order in "<>" else "") + self.code)


class _ArrayStub:
    """Stands in for the empty ndarray that BUILD fills (``ndarray.__setstate__``)."""

    array = None

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]                       # drop the version number
        if not (isinstance(state, tuple) and len(state) == 4):
            raise pickle.UnpicklingError("malformed array state")
        shape, dtype, fortran, raw = state
        if isinstance(raw, str):
            raw = raw.encode("latin1")
        if not isinstance(dtype, _DtypeStub) or not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("array state must hold an integer dtype and raw bytes "
                                         "(object arrays are not allowed)")
        self.array = _array_from_bytes(raw, dtype, shape, "F" if fortran else "C")


def _array_from_bytes(raw, dtype: _DtypeStub, shape, order) -> np.ndarray:
    if not (isinstance(shape, tuple) and len(shape) <= 4 and all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 2**31 for n in shape)):
        raise pickle.UnpicklingError(f"bad array shape {shape!r}")
    dt = dtype.dtype()
    if int(np.prod(shape, dtype=object)) * dt.itemsize != len(raw):
        raise pickle.UnpicklingError(f"array of shape {shape} and dtype {dt} needs "
                                     f"{int(np.prod(shape, dtype=object)) * dt.itemsize} bytes, "
                                     f"the file has {len(raw)}")
    return np.frombuffer(bytes(raw), dtype=dt).reshape(shape, order=order).copy()


def _cifar_reconstruct(subtype, shape, typecode):
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b"b")``: the empty array BUILD fills."""
    if subtype is not _ArrayStub:
        raise pickle.UnpicklingError("only plain numpy arrays may be reconstructed")
    return _ArrayStub()


def _cifar_frombuffer(buf, dtype, shape, order):
    """``numpy.core.numeric._frombuffer`` (pickle protocol 5)."""
    if isinstance(buf, pickle.PickleBuffer):
        buf = bytes(buf)
    if not isinstance(dtype, _DtypeStub) or not isinstance(buf, (bytes, bytearray)):
        raise pickle.UnpicklingError("array data must be raw bytes with an integer dtype")
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"bad array order {order!r}")
    stub = _ArrayStub()
    stub.array = _array_from_bytes(buf, dtype, shape, order)
    return stub


def _cifar_latin1(text, encoding="latin1"):
    """``_codecs.encode`` as protocol-2 pickles written by Python 3 use it for bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("only the latin-1 encoding of a str is allowed")
    return text.encode("latin1")


_CIFAR_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _cifar_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _cifar_reconstruct,
    ("numpy", "ndarray"): _ArrayStub,
    ("numpy", "dtype"): _DtypeStub,
    ("numpy.core.numeric", "_frombuffer"): _cifar_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _cifar_frombuffer,
    ("_codecs", "encode"): _cifar_latin1,
}


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that admits only the globals a CIFAR-10 batch needs."""

    def find_class(self, module, name):
        try:
            return _CIFAR_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: a CIFAR-10 batch holds only "
                f"a dict of bytes, lists of ints and a uint8 array") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not allowed in a CIFAR-10 batch")


def _batch_error(fname, what):
    return ValueError(f"{fname!r} is not a valid CIFAR-10 python batch: {what}. Get the "
                      f"'CIFAR-10 python version' from {CIFAR10_URL}")


def _load_batch(fname: str):
    """Read and validate one CIFAR-10 python batch without executing anything in it."""
    if not os.path.isfile(fname):
        raise FileNotFoundError(f"CIFAR-10 batch file missing: {fname!r}; download the "
                                f"python version from {CIFAR10_URL}")
    size = os.path.getsize(fname)
    if size > CIFAR10_MAX_BATCH_BYTES:
        raise _batch_error(fname, f"the file has {size} bytes, more than the "
                                  f"{CIFAR10_MAX_BATCH_BYTES} a batch may have")
    with open(fname, "rb") as fh:
        try:
            d = _CifarUnpickler(fh, encoding="bytes").load()
        except pickle.UnpicklingError as exc:
            raise _batch_error(fname, str(exc)) from None
        except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
                OverflowError, UnicodeError, MemoryError, RecursionError) as exc:
            raise _batch_error(fname, f"the pickle cannot be read ({type(exc).__name__}: "
                                      f"{exc})") from None
    if not isinstance(d, dict):
        raise _batch_error(fname, f"it holds a {type(d).__name__}, not a dict")
    if any(isinstance(v, _ArrayStub) and v.array is None for v in d.values()):
        raise _batch_error(fname, "an array has no data (its pickle is truncated or malformed)")
    d = {k: (v.array if isinstance(v, _ArrayStub) else v) for k, v in d.items()}
    data = d.get(b"data", d.get("data"))
    labels = d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise _batch_error(fname, "no 'data'/'labels' keys")
    if not isinstance(data, np.ndarray):
        raise _batch_error(fname, f"'data' is a {type(data).__name__}, not a numpy array")
    if data.dtype != np.uint8:
        raise _batch_error(fname, f"'data' must have dtype uint8, got {data.dtype}")
    if data.ndim != 2 or data.shape[1] != 3072 or not 1 <= data.shape[0] <= CIFAR10_BATCH_SIZE:
        raise _batch_error(fname, f"'data' must have shape (N, 3072) with 1 <= N <= "
                                  f"{CIFAR10_BATCH_SIZE} (a real batch is "
                                  f"({CIFAR10_BATCH_SIZE}, 3072)), got {data.shape}")
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise _batch_error(fname, f"'labels' must be a 1-D integer array or a list of "
                                      f"ints, got array {labels.dtype} {labels.shape}")
        labels = labels.tolist()
    if not isinstance(labels, list):
        raise _batch_error(fname, f"'labels' must be a list of ints, got {type(labels).__name__}")
    bad = [v for v in labels if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 9]
    if bad:
        raise _batch_error(fname, f"'labels' must be integers 0..9, found {bad[0]!r}")
    if len(labels) != data.shape[0]:
        raise _batch_error(fname, f"'labels' has {len(labels)} entries but 'data' has "
                                  f"{data.shape[0]} rows")
    return data, np.asarray(labels, dtype=np.int64)


def cifar10(path, classes: Sequence = (0, 1, 2), *, n_per_class: int | None = None,
            split: str = "train", grayscale: bool = False, seed=None,
            flatten: bool = False):
    """CIFAR-10 from the standard python-pickle batches in a local folder (chapter 6).

    Reads ``data_batch_1`` ... ``data_batch_5`` (``split="train"``) or
    ``test_batch`` (``split="test"``) from ``path`` or from
    ``path/cifar-10-batches-py``. The pickled batches are read by a
    restricted unpickler that resolves only the globals a numpy ``uint8``
    array needs, so a crafted file cannot run code; each batch is checked
    (``data`` uint8 of shape (N, 3072) with N <= 10000, ``labels`` integers
    0..9, one per row) and a malformed one raises a ``ValueError`` naming the
    file and what is wrong. Nothing is downloaded: without the files a
    ``FileNotFoundError`` names the folder and where to get the data
    (https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 python version").
    The classes kept are relabelled ``0, ..., K-1`` in the order given.

    Parameters
    ----------
    path : str or os.PathLike
        Folder holding the batches (or their parent).
    classes : sequence of int or str, default (0, 1, 2)
        At least 2 distinct classes, as indices 0..9 or names from
        :data:`CIFAR10_CLASSES`.
    n_per_class : int, optional
        A seeded random subset of this many images per class (the paper uses
        2,000); all by default.
    split : {"train", "test"}
    grayscale : bool, default False
        Average the three colour channels (ITU-R 601 luma weights).
    seed : None, int or numpy.random.Generator
    flatten : bool, default False
        Return ``X`` of shape (N, 3072) (or (N, 1024) in grey).

    Returns
    -------
    X : ndarray (N, 32, 32, 3) (or (N, 32, 32) in grey), float64 in [0, 1]
    y : ndarray (N,), int64 in {0, ..., K-1}
    """
    cls = _check_classes(classes, 10, CIFAR10_CLASSES)
    if not isinstance(split, str) or split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    grayscale = _check_flag("grayscale", grayscale)
    flatten = _check_flag("flatten", flatten)
    if n_per_class is not None:
        n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    rng = as_generator(seed)
    folder = _cifar_folder(path)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    parts = [_load_batch(os.path.join(folder, nm)) for nm in names]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    keep = np.isin(labels, cls)
    data, labels = data[keep], labels[keep]
    X = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64) / 255.0
    if grayscale:
        X = X @ np.array([0.299, 0.587, 0.114])
    X, y = _select(X, labels, cls, n_per_class, rng)
    if flatten:
        X = X.reshape(len(X), -1)
    return X, y


# --------------------------------------------------------------------------
# Label corruption and splitting
# --------------------------------------------------------------------------

def _check_labels(y, n_classes):
    y = check_array("y", y, ndim=1, dtype=None)
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"y must hold labels >= 0, got minimum {y.min()}")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
        if n_classes < 2:
            raise ValueError(f"y must contain labels of at least 2 classes "
                             f"(or pass n_classes >= 2), got max label {n_classes - 1}")
    else:
        n_classes = check_int("n_classes", n_classes, minimum=2)
        if y.size and y.max() >= n_classes:
            raise ValueError(f"y must hold labels < n_classes = {n_classes}, got {y.max()}")
    return y, n_classes


def corrupt_labels(y, p: float, *, seed=None, n_classes: int | None = None) -> np.ndarray:
    """Relabel a fraction ``p`` of each class to the other classes (chapter 7).

    In each class k with ``n_k`` samples, ``round(p n_k)`` samples chosen at
    random get a new label; the new labels are spread as evenly as possible
    over the other ``K - 1`` classes (each receives ``floor`` or ``ceil`` of
    ``round(p n_k)/(K-1)``, the remainder going to randomly chosen classes)
    and are never the sample's own class. With this corruption the
    separating force of the LE model is multiplied by ``1 - pK/(K-1)``
    (DESIGN.md section 3, item 7), which vanishes at ``p = (K-1)/K``.

    Parameters
    ----------
    y : array_like of int, shape (N,)
        True labels in ``{0, ..., K-1}``.
    p : float
        Corruption fraction in [0, 1].
    seed : None, int or numpy.random.Generator
    n_classes : int, optional
        K; ``max(y) + 1`` by default.

    Returns
    -------
    ndarray, shape (N,), int64
        The corrupted labels (a new array; ``y`` is not modified). The mask
        of corrupted samples is ``result != y``.
    """
    y, K = _check_labels(y, n_classes)
    p = check_real("p", p, minimum=0.0, maximum=1.0)
    check_bytes(f"n_classes={K}", 16 * K, "the list of other classes of each class",
                "n_classes should be the number of classes, not more")
    rng = as_generator(seed)
    out = y.copy()
    present = set(np.unique(y).tolist())
    for k in range(K):
        if k not in present:        # no samples: no corruption, no random numbers drawn
            continue
        idx = np.flatnonzero(y == k)
        m = int(round(p * len(idx)))
        if m == 0:
            continue
        chosen = rng.choice(idx, size=m, replace=False)
        others = np.array([c for c in range(K) if c != k], dtype=np.int64)
        # a random cyclic order of the other classes, repeated: counts differ by <= 1
        targets = np.resize(rng.permutation(others), m)
        out[chosen] = rng.permutation(targets)
    return out


def train_val_split(X, y, n_val_per_class: int, *, seed=None):
    """A stratified, seeded split into training and validation sets.

    Parameters
    ----------
    X : array_like, shape (N, ...)
    y : array_like of int, shape (N,)
    n_val_per_class : int
        Validation samples per class (each class must keep at least one
        training sample).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    X_train, y_train, X_val, y_val
    """
    X = check_array("X", X)
    if X.ndim < 1:
        raise ValueError(f"X must have at least 1 dimension, got shape {X.shape}")
    y, K = _check_labels(y, None)
    if len(y) != len(X):
        raise ValueError(f"y must have one label per row of X: len(y) = {len(y)}, "
                         f"len(X) = {len(X)}")
    m = check_int("n_val_per_class", n_val_per_class, minimum=1)
    rng = as_generator(seed)
    val = []
    for k in range(K):
        idx = np.flatnonzero(y == k)
        if len(idx) <= m:
            raise ValueError(f"n_val_per_class must be < {len(idx)} (the size of class {k}), "
                             f"got {m}")
        val.append(rng.choice(idx, size=m, replace=False))
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(y)), val)
    return X[train], y[train], X[val], y[val]
