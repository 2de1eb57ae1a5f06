"""Benchmark of lecode.metrics.is_separable against a naive linear program.

The naive approach is the textbook feasibility LP on the raw features: one
``scipy.optimize.linprog`` call per configuration with variables (W, b) and
the constraints (w_k - w_j).x + (b_k - b_j) >= 1 for every sample and rival
class. lecode whitens the points first, tries two cheap linear classifiers
(nearest class centre, the readout) and otherwise solves a max-margin LP by
cutting planes. Both must give the same answers; the script checks that and
prints the time per call and the ratio, on features taken from the identity
LE-SDE near its phase transition (a mixture of separable and non-separable
configurations) and on pure Gaussian clouds.

Run:  python benchmarks/bench_metrics.py   (about a minute on one core)
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linprog

from lecode import LEModel, metrics, simulate


def naive_is_separable(x: np.ndarray) -> bool:
    """Feasibility LP on the raw features of one configuration (K, n, p)."""
    K, n, p = x.shape
    nv = K * (p + 1)
    rows = []
    for k in range(K):
        for j in range(K):
            if j == k:
                continue
            for i in range(n):
                a = np.zeros(nv)
                a[k * (p + 1):k * (p + 1) + p] = -x[k, i]
                a[k * (p + 1) + p] = -1.0
                a[j * (p + 1):j * (p + 1) + p] += x[k, i]
                a[j * (p + 1) + p] += 1.0
                rows.append(a)
    A = np.array(rows)
    res = linprog(np.zeros(nv), A_ub=A, b_ub=-np.ones(len(A)),
                  bounds=[(None, None)] * nv, method="highs")
    return res.status == 0


def le_sde_features(K, n, p, n_trials, seed):
    """Features of the identity LE-SDE at several times and beta/alpha ratios."""
    out = []
    for beta in (0.5, 0.8, 1.0, 1.5):
        m = LEModel(K, n, alpha=1.0, beta=beta, sigma=0.3, gradient="identity", dim=p)
        tr = simulate(m, 60.0, dt=0.25, n_trials=n_trials, n_saves=4, seed=seed, centre=True)
        out.append(tr.features[:, 1:].reshape((-1, K, n, p)))
    return np.concatenate(out)


def timed(fn, xs):
    t0 = time.perf_counter()
    ans = np.array([fn(x) for x in xs])
    return ans, (time.perf_counter() - t0) / len(xs)


def main():
    rng = np.random.default_rng(0)
    print(f"{'data':<12}{'K':>3}{'n':>5}{'p':>4}{'configs':>9}{'P(sep)':>8}"
          f"{'lecode ms':>11}{'naive ms':>10}{'ratio':>8}")
    for K, n, p in [(3, 50, 3), (3, 100, 3), (3, 200, 3), (3, 50, 10), (3, 200, 10)]:
        for kind in ("LE-SDE", "gaussian"):
            if kind == "LE-SDE":
                xs = le_sde_features(K, n, p, n_trials=4, seed=1)
            else:
                xs = rng.normal(size=(24, K, n, p)) + 1.5 * np.eye(K, p)[:, None, :]
            ours, t_ours = timed(lambda x: bool(metrics.is_separable(x)), xs)
            naive, t_naive = timed(naive_is_separable, xs)
            agree = np.array_equal(ours, naive)
            print(f"{kind:<12}{K:>3}{n:>5}{p:>4}{len(xs):>9}{ours.mean():>8.2f}"
                  f"{t_ours * 1e3:>11.2f}{t_naive * 1e3:>10.2f}{t_naive / t_ours:>8.1f}"
                  + ("" if agree else "   DISAGREE"))


if __name__ == "__main__":
    main()
