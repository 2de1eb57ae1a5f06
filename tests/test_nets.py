"""Tests of lecode.nets: MLP, closed-form NTK, SGD, impacts, training records."""

import numpy as np
import pytest

from lecode import nets
from lecode._validate import NonFiniteError


def _fd_jacobian(net, X, eps=1e-6):
    """Central finite differences of the logits in every parameter: (N, K, P)."""
    cols = []
    for p in net.params:
        flat = p.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = net.logits(X)
            flat[j] = old - eps
            down = net.logits(X)
            flat[j] = old
            cols.append((up - down) / (2 * eps))
    return np.stack(cols, axis=-1)


def _data(N=7, d=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)), rng.integers(0, K, size=N)


# ---------------------------------------------------------------- MLP basics

def test_mlp_structure_and_determinism():
    a = nets.MLP((6, 4, 3), seed=1)
    b = nets.MLP((6, 4, 3), seed=1)
    assert [p.shape for p in a.params] == [(4, 6), (4,), (3, 4), (3,)]
    assert a.n_params == 24 + 4 + 12 + 3 and a.n_classes == 3 and a.n_layers == 2
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert all(p.dtype == np.float64 for p in a.params)
    nb = nets.MLP((6, 4, 3), bias=False, seed=1)
    assert len(nb.params) == 2 and nb.biases == []
    assert "MLP" in repr(a)


def test_logits_flattens_images_and_matches_manual():
    net = nets.MLP((12, 5, 2), seed=0)
    X = np.random.default_rng(0).standard_normal((4, 3, 4))
    W1, b1, W2, b2 = net.params
    manual = np.maximum(X.reshape(4, -1) @ W1.T + b1, 0) @ W2.T + b2
    assert np.allclose(net.logits(X), manual)
    assert net.predict(X).shape == (4,)


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
@pytest.mark.parametrize("sizes", [(5, 3), (5, 4, 3), (5, 4, 6, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_ntk_matches_finite_difference_jacobian(activation, sizes, bias):
    net = nets.MLP(sizes, activation=activation, bias=bias, seed=2)
    for p in net.biases:        # non-zero biases so that they matter
        p[:] = np.random.default_rng(5).standard_normal(p.shape) * 0.3
    X, _ = _data(N=6, d=sizes[0])
    J = _fd_jacobian(net, X)
    fd = np.einsum("ikp,jmp->ijkm", J, J)
    assert np.allclose(net.param_jacobian(X), J, atol=1e-6)
    Th = net.ntk(X)
    assert Th.shape == (6, 6, sizes[-1], sizes[-1])
    assert np.allclose(Th, fd, rtol=1e-6, atol=1e-6)
    X2 = X[:2] + 0.1
    J2 = _fd_jacobian(net, X2)
    assert np.allclose(net.ntk(X, X2), np.einsum("ikp,jmp->ijkm", J, J2), atol=1e-6)
    assert np.allclose(net.ntk_trace(X, X2), np.trace(net.ntk(X, X2), axis1=2, axis2=3))


def test_ntk_one_hidden_layer_closed_form():
    """DESIGN.md section 8: (a.a' + 1) I + (x.x' + 1) W2 D D' W2^T."""
    net = nets.MLP((5, 7, 3), seed=3)
    net.params[1][:] = 0.2
    X, _ = _data(N=2, d=5)
    W1, b1, W2, _ = net.params
    h = X @ W1.T + b1
    a, D = np.maximum(h, 0), (h > 0).astype(float)
    want = ((a[0] @ a[1] + 1) * np.eye(3)
            + (X[0] @ X[1] + 1) * W2 @ np.diag(D[0] * D[1]) @ W2.T)
    assert np.allclose(net.ntk(X)[0, 1], want)


def test_gradients_match_finite_differences():
    net = nets.MLP((5, 4, 3), activation="tanh", seed=0)
    X, y = _data()
    grads = net.gradients(X, y)
    eps = 1e-6
    for p, g in zip(net.params, grads):
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for j in range(0, flat.size, 3):
            old = flat[j]
            flat[j] = old + eps
            up = net.loss(X, y)
            flat[j] = old - eps
            down = net.loss(X, y)
            flat[j] = old
            assert abs((up - down) / (2 * eps) - gflat[j]) < 1e-6


def test_sgd_step_in_place_and_minibatch():
    net = nets.MLP((5, 4, 3), seed=0)
    X, y = _data()
    ref = [p for p in net.params]
    before = [p.copy() for p in net.params]
    grads = net.gradients(X, y)
    Z = net.sgd_step(X, y, lr=0.1)
    assert np.allclose(Z, nets.MLP((5, 4, 3), seed=0).logits(X))
    assert all(r is p for r, p in zip(ref, net.params))          # updated in place
    for p0, p, g in zip(before, net.params, grads):
        assert np.allclose(p, p0 - 0.1 * g)
    # batch size 1
    net1 = nets.MLP((5, 4, 3), seed=0)
    l0 = net1.loss(X[:1], y[:1])
    for _ in range(20):
        net1.sgd_step(X[:1], y[:1], lr=0.1)
    assert net1.loss(X[:1], y[:1]) < l0


def test_copy_independent():
    net = nets.MLP((5, 4, 3), seed=0)
    c = net.copy()
    X, y = _data()
    c.sgd_step(X, y, lr=0.5)
    assert np.allclose(net.logits(X), nets.MLP((5, 4, 3), seed=0).logits(X))
    assert not np.allclose(c.logits(X), net.logits(X))


def test_overflow_reported():
    net = nets.MLP((5, 4, 3), seed=0, weight_scale=1e200)
    X, y = _data()
    with np.errstate(all="ignore"):
        with pytest.raises(NonFiniteError, match="lr"):
            for _ in range(5):
                net.sgd_step(X * 1e200, y, lr=1e100)


@pytest.mark.parametrize("args, kwargs, exc, match", [
    (((5,),), {}, ValueError, "sizes"),
    (((5, 1),), {}, ValueError, "sizes"),
    (((5, 0, 3),), {}, ValueError, "sizes"),
    ((5,), {}, TypeError, "sizes"),
    (((5, 2.5, 3),), {}, TypeError, "sizes"),
    (((5, 3),), {"activation": "sigmoid"}, ValueError, "activation"),
    (((5, 3),), {"bias": 1}, TypeError, "bias"),
    (((5, 3),), {"weight_scale": 0}, ValueError, "weight_scale"),
    (((5, 3),), {"seed": "x"}, TypeError, "seed"),
])
def test_mlp_constructor_validation(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        nets.MLP(*args, **kwargs)


def test_method_validation():
    net = nets.MLP((5, 4, 3), seed=0)
    X, y = _data()
    with pytest.raises(ValueError, match="X"):
        net.logits(np.ones((3, 4)))
    with pytest.raises(ValueError, match="X"):
        net.logits(np.ones(5))
    with pytest.raises(ValueError, match="X"):
        net.logits(np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match="y"):
        net.loss(X, y[:-1])
    with pytest.raises(ValueError, match="y"):
        net.accuracy(X, np.full(len(X), 3))
    with pytest.raises(TypeError, match="y"):
        net.gradients(X, y.astype(float))
    with pytest.raises(ValueError, match="lr"):
        net.sgd_step(X, y, lr=0.0)
    with pytest.raises(ValueError, match="X2"):
        net.ntk(X, np.ones((2, 3)))
    with pytest.raises(ValueError, match="X1"):
        net.ntk_trace(np.ones((2, 3)))


# ---------------------------------------------------------------- impacts

def test_class_impacts_against_brute_force():
    net = nets.MLP((5, 6, 3), seed=0)
    X, y = _data(N=12)
    imp = nets.class_impacts(net, X, y)
    E = np.trace(net.ntk(X), axis1=2, axis2=3) / 3
    same = (y[:, None] == y[None]) & ~np.eye(12, dtype=bool)
    cross = y[:, None] != y[None]
    assert np.isclose(imp.alpha, E[same].mean()) and np.isclose(imp.beta, E[cross].mean())
    for k in range(3):
        for j in range(3):
            m = (y[:, None] == k) & (y[None] == j) & ~np.eye(12, dtype=bool)
            if m.any():
                assert np.isclose(imp.matrix[k, j], E[m].mean())
    assert np.allclose(nets.impact_matrix(net, X), E)
    sub = nets.class_impacts(net, X, y, n_per_class=2, seed=0)
    assert sub == sub and np.isfinite(sub.alpha)
    again = nets.class_impacts(net, X, y, n_per_class=2, seed=0)
    assert again.alpha == sub.alpha and again.beta == sub.beta


def test_linear_model_impact_is_input_kernel():
    """A linear model f = W x + b has Theta = (x.x' + 1) I: no dependence on classes."""
    net = nets.MLP((5, 3), seed=0)
    X, y = _data(N=8)
    assert np.allclose(nets.impact_matrix(net, X), X @ X.T + 1)


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_one_step_impact_agrees_with_ntk_to_first_order(activation):
    net = nets.MLP((8, 16, 3), activation=activation, seed=4)
    X, y = _data(N=10, d=8, seed=1)
    S0 = nets.ntk_impact(net, X[0], int(y[0]), X)
    errs = []
    for lr in (1e-2, 1e-3, 1e-4):
        S, delta = nets.one_step_impact(net, X[0], int(y[0]), X, lr=lr, return_delta=True)
        assert delta.shape == (10, 3)
        errs.append(np.abs(S - S0).max())
    # error O(lr): shrinks ~10x per decade of lr
    assert errs[2] < 1e-3 * np.abs(S0).max()
    assert errs[1] / errs[0] < 0.2 and errs[2] / errs[1] < 0.2
    # the full vector: Delta f / (-lr) -> Theta(x', x) g
    g = nets.softmax(net.logits(X[:1]))[0] - np.eye(3)[y[0]]
    _, delta = nets.one_step_impact(net, X[0], int(y[0]), X, lr=1e-5, return_delta=True)
    want = np.einsum("nkm,m->nk", net.ntk(X, X[:1])[:, 0], g)
    assert np.allclose(-delta / 1e-5, want, rtol=1e-3, atol=1e-5)


def test_impact_validation():
    net = nets.MLP((5, 4, 3), seed=0)
    X, y = _data()
    with pytest.raises(TypeError, match="net"):
        nets.class_impacts("net", X, y)
    with pytest.raises(ValueError, match="n_per_class"):
        nets.class_impacts(net, X, y, n_per_class=1)
    with pytest.raises(ValueError, match="y"):
        nets.class_impacts(net, X, np.zeros(len(X), int))
    with pytest.raises(ValueError, match="x"):
        nets.one_step_impact(net, X[:2], 0, X, lr=0.1)
    with pytest.raises(ValueError, match="y"):
        nets.one_step_impact(net, X[0], 3, X, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        nets.one_step_impact(net, X[0], 0, X, lr=-1.0)
    with pytest.raises(ValueError, match="X_probe"):
        nets.ntk_impact(net, X[0], 0, np.ones((2, 2)))


def test_class_average_against_brute_force():
    rng = np.random.default_rng(3)
    y = np.array([0, 2, 2, 0, 2, 0, 0, 2])                  # class 1 absent
    E = rng.standard_normal((8, 8))
    E = E + E.T
    res = nets.class_average(E, y)
    same = (y[:, None] == y[None]) & ~np.eye(8, dtype=bool)
    assert res.alpha == pytest.approx(E[same].mean())
    assert res.beta == pytest.approx(E[y[:, None] != y[None]].mean())
    assert res.matrix.shape == (3, 3)
    assert np.all(np.isnan(res.matrix[1])) and np.all(np.isnan(res.matrix[:, 1]))
    for k in (0, 2):
        for j in (0, 2):
            m = (y[:, None] == k) & (y[None] == j) & ~np.eye(8, dtype=bool)
            assert res.matrix[k, j] == pytest.approx(E[m].mean())
    keep = nets.class_average(E, y, exclude_self=False)
    assert keep.alpha == pytest.approx(E[y[:, None] == y[None]].mean())
    assert keep.beta == pytest.approx(res.beta)
    wider = nets.class_average(E, y, n_classes=4)
    assert wider.matrix.shape == (4, 4) and wider.alpha == pytest.approx(res.alpha)


def test_class_impacts_is_class_average_of_impact_matrix():
    net = nets.MLP((5, 6, 3), seed=1)
    X, y = _data(N=12, seed=2)
    imp = nets.class_impacts(net, X, y)
    avg = nets.class_average(nets.impact_matrix(net, X), y, n_classes=3)
    assert imp.alpha == avg.alpha and imp.beta == avg.beta
    np.testing.assert_array_equal(imp.matrix, avg.matrix)


def test_class_average_validation():
    E = np.eye(4)
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="square"):
        nets.class_average(np.ones((4, 3)), y)
    with pytest.raises(ValueError, match="labels"):
        nets.class_average(E, y[:3])
    with pytest.raises(TypeError, match="labels"):
        nets.class_average(E, y + 0.5)
    with pytest.raises(ValueError, match="labels"):
        nets.class_average(E, y - 1)
    with pytest.raises(ValueError, match="n_classes"):
        nets.class_average(E, y, n_classes=1)
    with pytest.raises(ValueError, match="labels"):
        nets.class_average(E, np.array([0, 1, 2, 2]), n_classes=2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        nets.class_average(E, np.zeros(4, int))
    with pytest.raises(ValueError, match=">= 2 samples"):
        nets.class_average(np.eye(2), np.array([0, 1]))
    assert nets.class_average(np.eye(2), np.array([0, 1]), exclude_self=False).alpha == 1.0
    with pytest.raises(ValueError, match="matrix"):
        nets.class_average(np.full((4, 4), np.nan), y)
    with pytest.raises(TypeError, match="exclude_self"):
        nets.class_average(E, y, exclude_self=1)


# ---------------------------------------------------------------- training

def _toy(n=30, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 6) * 3
    y = np.repeat(np.arange(3), n)
    X = centres[y] + rng.standard_normal((3 * n, 6))
    return X, y


def test_train_records_and_learns():
    X, y = _toy()
    Xv, yv = _toy(10, seed=1)
    net = nets.MLP((6, 16, 3), seed=0)
    rec = nets.train(net, X, y, lr=0.05, steps=300, X_val=Xv, y_val=yv,
                     record_at=[0, 100, 300], probe_per_class=4, impact_at=[0, 300], seed=1)
    assert rec.steps.tolist() == [0, 100, 300]
    assert rec.probe_logits.shape == (3, 12, 3) and rec.probe_classes.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert rec.sampled_logits.shape == (300, 1, 3) and rec.sampled_index.shape == (300, 1)
    assert np.allclose(rec.probe_logits[-1], net.logits(X[rec.probe_index]))
    assert rec.train_loss[-1] < rec.train_loss[0] and rec.val_acc[-1] > 0.9
    assert rec.alpha.shape == (2,) and np.all(rec.alpha > rec.beta)
    assert np.allclose(rec.times, 0.05 * rec.steps)
    cm = rec.class_mean_logits()
    assert cm.shape == (3, 3, 3)
    assert np.allclose(cm[-1, 1], rec.probe_logits[-1, 4:8].mean(axis=0))
    # the logits recorded at step m are those before the m-th update of that sample
    net0 = nets.MLP((6, 16, 3), seed=0)
    assert np.allclose(rec.sampled_logits[0], net0.logits(X[rec.sampled_index[0]]))
    assert np.all(np.isnan(nets.train(nets.MLP((6, 3), seed=0), X, y, lr=0.1, steps=5).val_loss))


def test_train_deterministic_minibatch_and_eval_subset(capsys):
    X, y = _toy()
    runs = [nets.train(nets.MLP((6, 8, 3), seed=2), X, y, lr=0.05, steps=50, batch_size=4,
                       n_eval=20, seed=3) for _ in range(2)]
    assert np.array_equal(runs[0].probe_logits, runs[1].probe_logits)
    assert runs[0].sampled_index.shape == (50, 4)
    assert capsys.readouterr().err == ""                      # silent by default
    nets.train(nets.MLP((6, 8, 3), seed=2), X, y, lr=0.05, steps=40, seed=3, progress=True)
    assert "40/40" in capsys.readouterr().err


def test_train_true_labels_group_probes():
    X, y = _toy()
    noisy = np.roll(y, 1)
    rec = nets.train(nets.MLP((6, 8, 3), seed=0), X, noisy, lr=0.05, steps=10,
                     true_labels=y, probe_per_class=3, impact_at=[10], impact_per_class=5, seed=0)
    assert np.array_equal(rec.probe_classes, y[rec.probe_index])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(lr=0.0), ValueError, "lr"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(record_at=[0, 11]), ValueError, "record_at"),
    (dict(record_at=[0.5]), TypeError, "record_at"),
    (dict(impact_at=[-1]), ValueError, "impact_at"),
    (dict(probe_per_class=0), ValueError, "probe_per_class"),
    (dict(impact_per_class=1), ValueError, "impact_per_class"),
    (dict(n_eval=0), ValueError, "n_eval"),
    (dict(X_val=np.ones((2, 6))), ValueError, "y_val"),
    (dict(true_labels=[0, 1]), ValueError, "true_labels"),
    (dict(progress="yes"), TypeError, "progress"),
])
def test_train_validation(kwargs, exc, match):
    X, y = _toy(5)
    args = dict(lr=0.1, steps=10)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        nets.train(nets.MLP((6, 3), seed=0), X, y, **args)
    with pytest.raises(TypeError, match="net"):
        nets.train(None, X, y, lr=0.1, steps=1)


# ---------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2),
       K=st.integers(2, 4), N=st.integers(1, 5),
       activation=st.sampled_from(["relu", "tanh", "linear"]), seed=st.integers(0, 1000))
def test_ntk_is_symmetric_psd_gram(hidden, K, N, activation, seed):
    net = nets.MLP((4, *hidden, K), activation=activation, seed=seed)
    X = np.random.default_rng(seed).standard_normal((N, 4))
    G = net.ntk(X).transpose(0, 2, 1, 3).reshape(N * K, N * K)
    assert np.allclose(G, G.T)
    assert np.linalg.eigvalsh(G).min() > -1e-9 * max(1.0, np.abs(G).max())
    J = net.param_jacobian(X).reshape(N * K, -1)
    assert np.allclose(G, J @ J.T)


# ---------------------------------------------------------------- clear errors, no import circle

def test_cross_entropy_and_softmax_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"y must hold labels in 0\.\.2, got 7"):
        nets.cross_entropy(np.zeros((2, 3)), [0, 7])
    with pytest.raises(ValueError, match=r"y must hold labels in 0\.\.2, got -1"):
        nets.cross_entropy(np.zeros((2, 3)), [0, -1])
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        nets.cross_entropy(np.zeros((2, 3)), [0])
    with pytest.raises(TypeError, match="y must hold integer labels"):
        nets.cross_entropy(np.zeros((2, 3)), [0.5, 1.0])
    with pytest.raises(ValueError, match=r"Z must have shape \(N, K\)"):
        nets.cross_entropy(np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError, match="Z must contain only finite"):
        nets.cross_entropy(np.full((1, 3), np.nan), [0])
    assert nets.cross_entropy(np.zeros((0, 3)), []).shape == (0,)
    with pytest.raises(TypeError, match="Z must be array-like"):
        nets.softmax("abc")
    with pytest.raises(ValueError, match="Z must have a last axis"):
        nets.softmax(np.zeros((2, 0)))


def test_loss_and_accuracy_of_an_empty_batch_are_errors():
    net = nets.MLP((5, 4, 3), seed=0)
    with pytest.raises(ValueError, match="X must hold at least one sample"):
        net.loss(np.zeros((0, 5)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="X must hold at least one sample"):
        net.accuracy(np.zeros((0, 5)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="X must hold at least one training sample"):
        nets.train(net, np.zeros((0, 5)), np.zeros(0, dtype=int), lr=0.1, steps=1)


def _lecode_imports(path):
    """Modules of lecode imported by a source file (at any level, relative or absolute)."""
    import ast
    tree = ast.parse(path.read_text())
    pkg = path.parent.relative_to(path.parents[1] if path.parent.name != "lecode"
                                  else path.parent.parent).as_posix().replace("/", ".")
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            out.update(n for n in names if n.startswith("lecode"))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("lecode"))
    return out


def test_no_import_cycle_between_lecode_modules():
    """Every module imports only modules below it (the layering reads one way)."""
    from pathlib import Path
    root = Path(nets.__file__).resolve().parent
    files = {}
    for f in root.rglob("*.py"):
        rel = f.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
        files[rel.removesuffix(".__init__")] = f
    graph = {m: {d for d in _lecode_imports(f) if d in files and d != m} for m, f in files.items()}
    # the package __init__ files re-export their children: leave those edges out
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    # which modules import nets, and nets imports none of them
    assert "lecode._training" not in files
    assert graph["lecode.nets"] <= {"lecode._validate", "lecode.limits"}
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for d in graph[m]:
            if state.get(d) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack + [m, d]))
            if d not in state:
                visit(d, stack + [m])
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m, [])
