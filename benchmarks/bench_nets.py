"""Benchmark of lecode.nets and lecode.experiments.

    python benchmarks/bench_nets.py            # SGD and NTK timings, stored experiment wall times
    python benchmarks/bench_nets.py --run-experiments   # also re-time every full experiment

Reports
* SGD steps per second of the GeoMNIST MLP 1024 -> 128 -> 3 (batch size 1, the
  paper's setting; and a minibatch of 32), with BLAS limited to one thread (as
  lecode.nets.train does) and with the default thread count;
* NTK evaluation time, closed form (lecode.nets.MLP.ntk / ntk_trace) against
  the naive dense product J J^T of explicit parameter Jacobians, and the ratio;
* the wall time of each full experiment (stored in chapters/data/*.npz, or
  re-measured with --run-experiments), and its CPU time estimated from one
  trial (the wall time depends on the load of the machine).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lecode import data, experiments, nets


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_sgd(n_steps=2000):
    X, y = data.geomnist(200, seed=0, flatten=True)
    X = X - X.mean(axis=0)
    idx = np.random.default_rng(0).integers(0, len(X), size=(n_steps, 32))
    rows = []
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    for threads in ("1 thread", "default threads"):
        for B in (1, 32):
            net = nets.MLP((1024, 128, 3), seed=0)
            steps = n_steps if B == 1 else n_steps // 8

            def loop():
                for m in range(steps):
                    i = idx[m, :B]
                    net._step(X[i], y[i], 0.005)
            if threads == "1 thread" and threadpool_limits is not None:
                with threadpool_limits(1):
                    t = _best(loop)
            else:
                t = _best(loop)
            rows.append((threads, B, steps / t))
    print("SGD, MLP 1024 -> 128 -> 3 (131,587 parameters), cross-entropy")
    for threads, B, rate in rows:
        print(f"  {threads:16s} batch {B:3d}: {rate:9.0f} steps/s  ({rate * B:9.0f} samples/s)")


def bench_ntk():
    X, _ = data.geomnist(50, seed=0, flatten=True)
    X = X - X.mean(axis=0)
    net = nets.MLP((1024, 128, 3), seed=0)
    print("NTK, MLP 1024 -> 128 -> 3")
    for N in (30, 90, 150):
        Xn = X[:N]
        t_closed = _best(lambda: net.ntk(Xn))
        t_trace = _best(lambda: net.ntk_trace(Xn))
        line = f"  N = {N:3d}: closed form {t_closed * 1e3:7.1f} ms, trace only {t_trace * 1e3:7.1f} ms"
        if N <= 30:   # the dense Jacobian needs N*K*P*8 bytes (95 MB at N = 30)
            def naive():
                J = net.param_jacobian(Xn).reshape(N * 3, -1)
                return (J @ J.T).reshape(N, 3, N, 3).transpose(0, 2, 1, 3)
            t_naive = _best(naive, repeat=2)
            assert np.allclose(naive(), net.ntk(Xn))
            line += f", naive J J^T {t_naive * 1e3:7.1f} ms (ratio {t_naive / t_closed:5.1f}x)"
        print(line)


def bench_experiments(rerun: bool):
    print("Full experiments (1 process)")
    for name in experiments.EXPERIMENTS:
        if rerun:
            t = time.perf_counter()
            experiments.run(name)
            print(f"  {name:12s}: {time.perf_counter() - t:7.1f} s (measured now)")
        else:
            try:
                res = experiments.load(name)
            except FileNotFoundError:
                print(f"  {name:12s}: no stored results")
                continue
            S, T = res["val_acc"].shape[:2]
            print(f"  {name:12s}: {float(res['wall_time']):7.1f} s wall when stored "
                  f"({S} settings x {T} trials x {int(res['cfg_steps'])} steps)")
        # CPU time of one trial (the last setting) times the number of trials: the
        # cost on one idle core, independent of the load of a shared machine
        cfg = experiments.config(name)
        S = len(cfg["settings"])
        t = time.process_time()
        experiments._trial((cfg, S - 1, 0))
        cpu = time.process_time() - t
        print(f"  {'':12s}  one trial {cpu:5.1f} s CPU -> {cpu * S * cfg['trials']:6.0f} s CPU "
              f"for all {S * cfg['trials']} trials")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run-experiments", action="store_true",
                    help="re-run every full experiment and time it (about 15 minutes)")
    args = ap.parse_args(argv)
    bench_sgd()
    bench_ntk()
    bench_experiments(args.run_experiments)


if __name__ == "__main__":
    main()
