"""Benchmark of lecode.simulate against naive implementations (DESIGN.md section 6).

Run:  python benchmarks/bench_simulate.py  [--quick]

Prints ratios measured in this run (not a test):

1. One LE-SDE Euler-Maruyama step (cross-entropy, one trial) of lecode against
   (a) a naive step with the dense Kn x Kn impact matrix and
   (b) a per-sample Python loop,
   at K=3, n=100, p=3 and K=10, n=500, p=10.
2. The LE-ODE for 500 trials x 10,000 steps at K=3 (one point per class)
   against a per-step, per-class Python loop.  The loop is timed on a
   fraction of the work and extrapolated (stated in the output).
3. Peak memory (tracemalloc) of 100,000 steps with 100 saves against the size
   of one saved trajectory.

Targets (issue 3): >= 100x the loop and >= 50x the dense implementation at the
large size.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lecode import LEModel, simulate  # noqa: E402


# ----------------------------------------------------------------- naive SDE steps

def _ce_grad_rows(X, y):
    """Vectorised CE gradients for rows X (N, K) with labels y (N,)."""
    z = np.exp(X - X.max(axis=1, keepdims=True))
    z /= z.sum(axis=1, keepdims=True)
    z[np.arange(len(y)), y] -= 1.0
    return z


def dense_steps(K, n, p, a, b, sigma, dt, steps, rng):
    """Naive: the full Kn x Kn impact matrix times all gradients, every step."""
    cls = np.repeat(np.arange(K), n)
    E = np.where(cls[:, None] == cls[None, :], a, b)
    X = 0.1 * rng.standard_normal((K * n, p))
    for _ in range(steps):
        g = _ce_grad_rows(X, cls)
        X = X - dt * (E @ g) / (K * n) + sigma * math.sqrt(dt) * rng.standard_normal(X.shape)
    return X


def loop_steps(K, n, p, a, b, sigma, dt, steps, rng):
    """Naive: a Python loop over samples (gradients, class sums, updates)."""
    X = [[0.1 * rng.standard_normal(p) for _ in range(n)] for _ in range(K)]
    sq = math.sqrt(dt)
    for _ in range(steps):
        Gsum = []
        for k in range(K):
            acc = np.zeros(p)
            for i in range(n):
                x = X[k][i]
                e = np.exp(x - x.max())
                g = e / e.sum()
                g[k] -= 1.0
                acc += g
            Gsum.append(acc / n)
        total = sum(Gsum)
        for k in range(K):
            d = -((a - b) * Gsum[k] + b * total) / K
            for i in range(n):
                X[k][i] = X[k][i] + dt * d + sigma * sq * rng.standard_normal(p)
    return X


def bench_sde(K, n, p, quick):
    """Seconds per step of the three implementations, interleaved in rounds (min over rounds).

    Interleaving makes the ratios robust to load changes on a shared machine.
    """
    a, b, sigma, dt = 1.0, 0.5, 0.1, 0.01
    m = LEModel(K, n, alpha=a, beta=b, sigma=sigma, dim=p,
                readout=None if p == K else np.eye(K, p))
    rng = np.random.default_rng(0)
    steps_fast, steps_dense, steps_loop = (200, 10, 2) if quick else (1000, 40, 4)
    rounds = 2 if quick else 4
    best = {"lecode": math.inf, "dense": math.inf, "loop": math.inf}
    for _ in range(rounds):
        t0 = time.perf_counter()
        simulate(m, steps_fast * dt, dt=dt, n_saves=2, seed=0)
        best["lecode"] = min(best["lecode"], (time.perf_counter() - t0) / steps_fast)
        t0 = time.perf_counter()
        dense_steps(K, n, p, a, b, sigma, dt, steps_dense, rng)
        best["dense"] = min(best["dense"], (time.perf_counter() - t0) / steps_dense)
        t0 = time.perf_counter()
        loop_steps(K, n, p, a, b, sigma, dt, steps_loop, rng)
        best["loop"] = min(best["loop"], (time.perf_counter() - t0) / steps_loop)
    t_lec, t_dense, t_loop = best["lecode"], best["dense"], best["loop"]
    print(f"  K={K:>2} n={n:>3} p={p:>2}: lecode {t_lec * 1e6:9.1f} us/step | "
          f"dense {t_dense * 1e6:10.1f} us/step ({t_dense / t_lec:7.1f}x) | "
          f"per-sample loop {t_loop * 1e6:11.1f} us/step ({t_loop / t_lec:8.1f}x)")
    return t_dense / t_lec, t_loop / t_lec


# ----------------------------------------------------------------- LE-ODE

def ode_loop(x0, a, b, dt, steps):
    """Per-step, per-class Python loop for the LE-ODE of class means (one trial)."""
    K = len(x0)
    x = [np.array(v) for v in x0]
    for _ in range(steps):
        G = []
        for k in range(K):
            e = np.exp(x[k] - x[k].max())
            g = e / e.sum()
            g[k] -= 1.0
            G.append(g)
        total = sum(G)
        x = [x[k] - dt * ((a - b) * G[k] + b * total) / K for k in range(K)]
    return x


def bench_ode(quick):
    """lecode's LE-ODE (500 trials, one point per class) against a per-step, per-class loop.

    Both are timed in interleaved rounds (min over rounds); lecode runs the full
    10,000 steps (unless --quick), the loop a fraction that is extrapolated.
    """
    K, trials, steps, a, b, dt = 3, 500, 10_000, 1.0, 0.5, 1e-3
    m = LEModel(K, 100, alpha=a, beta=b)
    x0 = 0.1 * np.random.default_rng(1).standard_normal((trials, K, 1, K))
    run_steps = 2000 if quick else steps
    loop_trials, loop_steps_ = 2, 1000
    rounds = 2 if quick else 3
    t_lec = t_loop_part = math.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        simulate(m, run_steps * dt, dt=dt, method="ode", n_trials=trials, x0=x0, n_saves=11)
        t_lec = min(t_lec, (time.perf_counter() - t0) * steps / run_steps)
        t0 = time.perf_counter()
        for r in range(loop_trials):
            ode_loop(x0[r, :, 0], a, b, dt, loop_steps_)
        t_loop_part = min(t_loop_part, time.perf_counter() - t0)
    t_loop = t_loop_part * (trials / loop_trials) * (steps / loop_steps_)
    note = "" if run_steps == steps else f" (ran {run_steps} steps, extrapolated)"
    print(f"  lecode: {t_lec:.2f} s for {trials} trials x {steps} steps{note}")
    print(f"  loop:   {t_loop_part:.2f} s for {loop_trials} trials x {loop_steps_} steps, "
          f"extrapolated to {t_loop:.0f} s for {trials} x {steps}")
    print(f"  ratio:  {t_loop / t_lec:.0f}x")
    return t_loop / t_lec


# ----------------------------------------------------------------- memory

def bench_memory(quick):
    K, n, p = 3, 100, 3
    steps = 20_000 if quick else 100_000
    m = LEModel(K, n, alpha=1.0, beta=0.5, sigma=0.1)
    dt = 1e-3
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    tr = simulate(m, steps * dt, dt=dt, n_saves=100, seed=0)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = tr.features.nbytes
    print(f"  {steps} steps, 100 saves, K={K} n={n} p={p}: peak traced {peak / 1e6:.2f} MB, "
          f"saved trajectory {size / 1e6:.2f} MB (ratio {peak / size:.2f}); "
          f"a trajectory of every step would take {size / 100 * steps / 1e9:.1f} GB "
          f"[{elapsed:.1f} s under tracemalloc]")
    return peak / size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    args = ap.parse_args(argv)
    print("1. LE-SDE step (Euler-Maruyama, cross-entropy, 1 trial)")
    bench_sde(3, 100, 3, args.quick)
    dense_big, loop_big = bench_sde(10, 500, 10, args.quick)
    print("2. LE-ODE, 500 trials x 10,000 steps, K=3")
    ode_ratio = bench_ode(args.quick)
    print("3. Memory")
    bench_memory(args.quick)
    ok = dense_big >= 50 and loop_big >= 100 and ode_ratio >= 100
    print(f"targets (>= 50x dense and >= 100x loop at K=10,n=500; >= 100x ODE loop): "
          f"{'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
