"""Tests of lecode/lazy.py: the two-layer network of chapter 8 and lazy training."""

import numpy as np
import pytest

from lecode import lazy, nets
from lecode._validate import NonFiniteError


def test_cluster_data_unit_norm_and_labels():
    X, y = lazy.cluster_data(4, 3, 6, seed=2)
    assert X.shape == (12, 6) and y.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    X2, _ = lazy.cluster_data(4, 3, 6, seed=2)
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="n_classes"):
        lazy.cluster_data(1)
    with pytest.raises(ValueError, match="spread"):
        lazy.cluster_data(spread=-1.0)


def test_two_layer_impacts_match_finite_differences():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    net = lazy.two_layer_init(6, 5, 3, seed=4)
    flat = np.concatenate([net["W"].ravel(), net["A"].ravel()])

    def f(v):
        W, A = v[:30].reshape(6, 5), v[30:].reshape(3, 6)
        return np.maximum(X @ W.T, 0) @ A.T / np.sqrt(6)

    J = np.stack([(f(flat + e) - f(flat - e)) / 2e-6 for e in 1e-6 * np.eye(flat.size)], axis=-1)
    np.testing.assert_allclose(np.einsum("ikp,jkp->ij", J, J) / 3,
                               lazy.two_layer_impacts(net, X), atol=1e-6)


def test_two_layer_gradient_matches_finite_differences():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    net = lazy.two_layer_init(6, 5, 3, seed=4)
    loss, grad, _ = lazy.two_layer_loss_grad({k: v.copy() for k, v in net.items()}, X, y)
    for key in ("W", "A"):
        num = np.zeros_like(net[key])
        for idx in np.ndindex(net[key].shape):
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in net.items()}
                moved[key][idx] += sign * 1e-6
                num[idx] += sign * lazy.two_layer_loss_grad(moved, X, y)[0] / 2e-6
        np.testing.assert_allclose(grad[key], num, atol=1e-6)


def test_two_layer_loss_and_gbar():
    """loss is the mean cross-entropy of nets.cross_entropy; gbar the mean |softmax - e_y|."""
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    net = lazy.two_layer_init(7, 5, 3, seed=1)
    Z = np.maximum(X @ net["W"].T, 0) @ net["A"].T / np.sqrt(7)
    loss, _, gbar = lazy.two_layer_loss_grad(net, X, y)
    assert loss == pytest.approx(nets.cross_entropy(Z, y).mean())
    assert gbar == pytest.approx(np.linalg.norm(nets.softmax(Z) - np.eye(3)[y], axis=1).mean())


@pytest.mark.parametrize("width, eta, steps", [(2, 2.0, 40), (8, 0.5, 100), (64, 3.0, 30)])
def test_lazy_bound_holds_unit_by_unit(width, eta, steps):
    """Proposition ch08-prop-lazy: every unit's relative change is below exp(eta sum gbar / sqrt m) - 1."""
    X, y = lazy.cluster_data(3, 5, 4, spread=1.0, seed=5)
    r = lazy.train_two_layer(X, y, width=width, eta=eta, steps=steps, seed=6)
    assert r["dtheta"] <= r["dtheta_unit"] <= r["bound"]
    assert r["bound"] <= np.expm1(np.sqrt(2) * eta * steps / np.sqrt(width))   # |g_i| <= sqrt(2)


def test_train_records_class_averages_of_the_impacts():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    r = lazy.train_two_layer(X, y, width=16, eta=1.0, steps=25, seed=2, record_every=10)
    np.testing.assert_allclose(r["times"], [0.0, 10.0, 20.0, 25.0])
    assert r["ab"].shape == (4, 2)
    for E, row in ((r["E0"], r["ab"][0]), (r["E1"], r["ab"][-1])):
        same = (y[:, None] == y[None]) & ~np.eye(len(y), dtype=bool)
        np.testing.assert_allclose(row, [E[same].mean(), E[y[:, None] != y[None]].mean()])
    init = lazy.two_layer_init(16, 5, 3, seed=2)
    np.testing.assert_allclose(r["E0"], lazy.two_layer_impacts(init, X))
    again = lazy.train_two_layer(X, y, width=16, eta=1.0, steps=25, seed=2, record_every=10)
    assert again["dtheta"] == r["dtheta"] and again["loss"] == r["loss"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_divergence_raises():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    with pytest.raises(NonFiniteError, match="eta"):
        lazy.train_two_layer(X, y, width=2, eta=1e300, steps=5)


def test_train_two_layer_validates_input():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    with pytest.raises(ValueError):
        lazy.train_two_layer(X[:, :, None], y, width=4)
    with pytest.raises(ValueError):
        lazy.train_two_layer(X, y[:-1], width=4)
    with pytest.raises(ValueError):
        lazy.train_two_layer(X, y + 0.5, width=4)
    with pytest.raises(ValueError):
        lazy.train_two_layer(X, np.zeros_like(y), width=4)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        lazy.train_two_layer(X_bad, y, width=4)
    with pytest.raises(ValueError):
        lazy.two_layer_init(4, 5, 1)


def test_two_layer_functions_validate_net_and_inputs():
    X, y = lazy.cluster_data(3, 4, 5, seed=3)
    net = lazy.two_layer_init(6, 5, 3, seed=4)
    with pytest.raises(TypeError, match="net"):
        lazy.two_layer_impacts({"W": net["W"]}, X)
    with pytest.raises(ValueError, match="net\\['A'\\]"):
        lazy.two_layer_impacts({"W": net["W"], "A": net["A"][:, :5]}, X)
    with pytest.raises(ValueError, match="X"):
        lazy.two_layer_impacts(net, X[:, :4])
    with pytest.raises(ValueError, match="y"):
        lazy.two_layer_loss_grad(net, X, y + 3)
    with pytest.raises(ValueError, match="y"):
        lazy.two_layer_loss_grad(net, X, y[:-1])
