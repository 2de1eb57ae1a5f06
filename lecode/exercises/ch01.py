"""Answer checks of chapter 1, *Local elasticity*.

Every expected answer is computed here from :mod:`lecode` (the chapter's data
set, networks and impact measurements), never stored as a literal.
"""

from __future__ import annotations

import numpy as np

from . import register

__all__: list[str] = []


@register("ch01-linear-ratio", rtol=1e-6,
          hint="for f(x) = W x + b the NTK block is (x·x' + 1) I, so E(x, x') = x·x' + 1; "
               "average it over same-class pairs (i ≠ j) and over cross-class pairs, then divide.")
def _linear_ratio():
    from ..widgets.local_elasticity import _class_means, dataset

    X, y, _, _, sub = dataset()
    Xs = X[sub]
    E = Xs @ Xs.T + 1.0
    alpha, beta = _class_means(E, y[sub])
    return alpha / beta


@register("ch01-ntk-trace", rtol=1e-8,
          hint="E = tr Θ / K with Θ = (a·a' + 1) I_K + (x·x' + 1) W₂ D D' W₂ᵀ; "
               "tr(W₂ D D' W₂ᵀ) = Σ_j 1[h_j > 0] 1[h'_j > 0] |W₂[:, j]|².")
def _ntk_trace():
    from .. import nets
    from ..widgets.local_elasticity import dataset

    X, _, _, _, sub = dataset()
    net = nets.MLP((X.shape[1], 16, 3), activation="relu", seed=5)
    return float(nets.impact_matrix(net, X[sub[0]][None], X[sub[-1]][None])[0, 0])


@register("ch01-first-order-slope", rtol=0.05,
          hint="fit a straight line to log(median relative error) against log(η) with np.polyfit.")
def _first_order_slope():
    from .. import nets
    from ..widgets.local_elasticity import dataset

    X, y, _, _, sub = dataset()
    net = nets.MLP((X.shape[1], 64, 3), activation="tanh", seed=7)
    i = int(sub[0])
    probes = X[sub]
    first = nets.ntk_impact(net, X[i], int(y[i]), probes)
    etas = np.array([1e-3, 3e-4, 1e-4, 3e-5])
    errs = [np.median(np.abs(nets.one_step_impact(net, X[i], int(y[i]), probes, lr=eta) - first)
                      / np.abs(first)) for eta in etas]
    return float(np.polyfit(np.log(etas), np.log(errs), 1)[0])


@register("ch01-weakest-pair",
          hint="compare pair_impacts(run, pair, 6000)['ratio'] over the three pairs.")
def _weakest_pair():
    from ..widgets.local_elasticity import CLASS_PAIRS, pair_impacts, training_run

    run = training_run(64, "relu")
    ratios = [pair_impacts(run, pair, int(run.steps[-1]))["ratio"] for pair in CLASS_PAIRS]
    return CLASS_PAIRS[int(np.argmin(ratios))]
