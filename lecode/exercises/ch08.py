"""Answer checks of chapter 8 (*Connections*).

Every expected answer is computed here, by a route independent of the
solution shown in the book where possible (finite differences for the
kernel, an eigenvalue search for the divergence threshold, a moment
recursion for the weak error, a seeded Milstein run for the strong order).
"""

from __future__ import annotations

import numpy as np

from . import register

#: The network of exercise ch08-ex-ntk: f(x) = a . relu(W x) / sqrt(m), m = 2.
NTK_W = np.array([[1.0, 0.0], [0.0, 1.0]])
NTK_A = np.array([1.0, -1.0])
NTK_X = np.array([1.0, 0.5])
NTK_XP = np.array([0.5, 1.0])


def _two_layer(theta, x):
    W = theta[:4].reshape(2, 2)
    a = theta[4:]
    return float(a @ np.maximum(W @ x, 0.0) / np.sqrt(2.0))


def _ntk_by_finite_differences() -> float:
    """Theta(x, x') = <grad_theta f(x), grad_theta f(x')> with central differences."""
    theta = np.concatenate([NTK_W.ravel(), NTK_A])
    eps = 1e-6

    def grad(x):
        g = np.zeros_like(theta)
        for j in range(theta.size):
            e = np.zeros_like(theta)
            e[j] = eps
            g[j] = (_two_layer(theta + e, x) - _two_layer(theta - e, x)) / (2 * eps)
        return g

    return float(grad(NTK_X) @ grad(NTK_XP))


@register("ch08-ntk", rtol=1e-3,
          hint="sum over the two hidden units of relu(w.x) relu(w.x') + a^2 1[w.x>0] 1[w.x'>0] x.x', "
               "divided by m = 2")
def ntk_value():
    return _ntk_by_finite_differences()


def td_growth_rate(gamma: float, c: float) -> float:
    """Real part of the non-zero eigenvalue of K D (gamma P - I) in the two-state example.

    States s1 (feature 1) and s2 (feature c), transition s1 -> s2 with reward 0,
    updates only at s1 (D = diag(1, 0)), kernel K = phi phi^T.
    """
    phi = np.array([1.0, c])
    K = np.outer(phi, phi)
    D = np.diag([1.0, 0.0])
    P = np.array([[0.0, 1.0], [0.0, 1.0]])
    eig = np.linalg.eigvals(K @ D @ (gamma * P - np.eye(2)))
    return float(eig[np.argmax(np.abs(eig))].real)


@register("ch08-td-gamma", rtol=1e-4,
          hint="one update at s1 changes V(s1) by eta*delta and V(s2) by c*eta*delta; when does "
               "the TD error at s1 grow?")
def td_critical_gamma():
    from scipy.optimize import brentq

    return float(brentq(lambda g: td_growth_rate(g, 3.0), 1e-6, 1.0 - 1e-9, xtol=1e-12))


@register("ch08-weak-gbm", rtol=1e-4,
          hint="E[X_{m+1}^2] = E[X_m^2] * E[(1 + lam h + mu dW)^2]; compare with exp((2 lam + mu^2) T)")
def weak_error_second_moment():
    lam, mu, T, h = 1.0, 0.5, 1.0, 0.1
    steps = int(round(T / h))
    m2 = 1.0
    for _ in range(steps):
        m2 *= (1.0 + lam * h) ** 2 + mu ** 2 * h
    return float(np.exp((2 * lam + mu ** 2) * T) - m2)


def milstein_strong_order(seed=0, n_paths=4000) -> float:
    """Fitted strong order of the Milstein scheme on GBM (lam = 1, mu = 1, X0 = 1, T = 1).

    Steps h = 2**-4, ..., 2**-8; errors against the exact solution
    X0 exp((lam - mu^2/2) T + mu W_T) on the same Brownian paths.
    """
    lam, mu, T = 1.0, 1.0, 1.0
    rng = np.random.default_rng(seed)
    n_fine = 2 ** 8
    dW = rng.standard_normal((n_fine, n_paths)) * np.sqrt(T / n_fine)
    exact = np.exp((lam - mu ** 2 / 2) * T + mu * dW.sum(axis=0))
    dts, errs = [], []
    for level in range(4, 9):
        steps = 2 ** level
        h = T / steps
        inc = dW.reshape(steps, -1, n_paths).sum(axis=1)
        X = np.ones(n_paths)
        for m in range(steps):
            X = X + lam * X * h + mu * X * inc[m] + 0.5 * mu ** 2 * X * (inc[m] ** 2 - h)
        dts.append(h)
        errs.append(np.mean(np.abs(X - exact)))
    return float(np.polyfit(np.log(dts), np.log(errs), 1)[0])


@register("ch08-milstein-order", rtol=0.15,
          hint="add 0.5 mu^2 X (dW^2 - h) to the Euler–Maruyama step and fit log error against log h")
def milstein_order():
    return milstein_strong_order()
