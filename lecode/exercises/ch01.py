"""Answer checks of chapter 1, *Local elasticity*.

Every expected answer is computed here from :mod:`lecode` (the chapter's data
set, networks and impact measurements), never stored as a literal, except
where the exercise asks for a theoretical order that a measurement
estimates (``ch01-first-order-slope``); :func:`first_order_slope_measured`
is that measurement, and the tests check that the stated tolerance covers it.
"""

from __future__ import annotations

import numpy as np

from . import choice, register, sig, within

__all__ = ["first_order_slope_measured"]


def _impact_gram(bias: bool = True):
    from ..widgets.local_elasticity import dataset

    X, y, _, _, sub = dataset()
    Xs = X[sub]
    return Xs @ Xs.T + (1.0 if bias else 0.0), y[sub]


def _excess(E, labels, *, diagonal: bool = False, swapped: bool = False) -> float:
    same = labels[:, None] == labels[None, :]
    if not diagonal:
        same &= ~np.eye(len(labels), dtype=bool)
    a, b = E[same].mean(), E[labels[:, None] != labels[None, :]].mean()
    return float(b / a - 1.0) if swapped else float(a / b - 1.0)


@register("ch01-linear-ratio", exercise="ch01-ex-linear-ratio", precision=sig(3),
          hint="for f(x) = V x + b the NTK block is (x·x' + 1) I, so E(x, x') = x·x' + 1; "
               "average it over same-class pairs (i ≠ j) and over cross-class pairs, divide, subtract 1.",
          mistakes={
              "ratio-not-excess": (lambda t: t + 1.0, "that is α̂/β̂ itself; the exercise asks for α̂/β̂ − 1."),
              "diagonal": (lambda t: _excess(*_impact_gram(), diagonal=True),
                           "the same-class average includes the pairs i = j (a sample with itself); "
                           "leave them out."),
              "swapped": (lambda t: _excess(*_impact_gram(), swapped=True),
                          "that is β̂/α̂ − 1: the same-class average goes in the numerator."),
              "no-bias": (lambda t: _excess(*_impact_gram(bias=False)),
                          "the bias b adds 1 to every impact: E = x·x' + 1, not x·x'."),
          })
def _linear_ratio():
    """α̂/β̂ − 1 of the linear model on the impact subsample."""
    from ..widgets.local_elasticity import _class_means

    E, labels = _impact_gram()
    alpha, beta = _class_means(E, labels)
    return alpha / beta - 1.0


def _ntk_parts():
    from .. import nets
    from ..widgets.local_elasticity import dataset

    X, _, _, _, sub = dataset()
    net = nets.MLP((X.shape[1], 16, 3), activation="relu", seed=5)
    V1, c1, V2, _ = net.params
    xa, xb = X[sub[0]], X[sub[-1]]
    ha, hb = V1 @ xa + c1, V1 @ xb + c1
    act = np.maximum(ha, 0) @ np.maximum(hb, 0)
    shared = np.sum((ha > 0) * (hb > 0) * (V2 ** 2).sum(0))
    every = np.sum((V2 ** 2).sum(0))
    return act, shared, every, float(xa @ xb), net, X[sub[0]], X[sub[-1]]


@register("ch01-ntk-trace", exercise="ch01-ex-ntk-trace", precision=sig(3),
          hint="E = tr Θ / K with Θ = (a·a' + 1) I_K + (x·x' + 1) W₂ D D' W₂ᵀ; "
               "tr(W₂ D D' W₂ᵀ) = Σ_ν 1[h_ν > 0] 1[h'_ν > 0] |W₂[:, ν]|².",
          mistakes={
              "trace-not-divided": (lambda t: 3 * t, "that is the trace tr Θ; the scalar impact divides it by K = 3."),
              "identity-trace": (lambda t: (lambda a, s, e, xx, *_: ((a + 1) + (xx + 1) * s) / 3)(*_ntk_parts()),
                                 "the first block is (a·a' + 1) I_K, whose trace is K (a·a' + 1), not a·a' + 1."),
              "no-biases": (lambda t: (lambda a, s, e, xx, *_: (3 * a + xx * s) / 3)(*_ntk_parts()),
                            "the biases b₁, b₂ add the two '+ 1' terms: (a·a' + 1) and (x·x' + 1)."),
              "no-relu-mask": (lambda t: (lambda a, s, e, xx, *_: (3 * (a + 1) + (xx + 1) * e) / 3)(*_ntk_parts()),
                               "only hidden units active at both inputs contribute: keep 1[h_ν > 0] 1[h'_ν > 0]."),
          })
def _ntk_trace():
    """The scalar impact E(x', x) = tr Θ / 3 of the untrained ReLU MLP, from lecode.nets."""
    from .. import nets

    *_, net, xa, xb = _ntk_parts()
    return float(nets.impact_matrix(net, xa[None], xb[None])[0, 0])


def first_order_slope_measured() -> float:
    """The slope of log(median relative error) against log η measured as the exercise asks (about 1.05)."""
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


@register("ch01-first-order-slope", exercise="ch01-ex-first-order", precision=within(0.1),
          hint="fit a straight line to log(median relative error) against log(η) with np.polyfit; "
               "the slope estimates the order of the relative error in η.",
          mistakes={
              "remainder-order": (lambda t: t + 1.0,
                                  "2 is the order of the remainder R itself; the relative error of the "
                                  "similarity divides it by the O(η) response."),
              "sign": (lambda t: -t, "the error shrinks with η, so the slope against log η is positive: "
                                     "fit log(error) against log(η), not log(1/η)."),
          })
def _first_order_slope():
    """The order in η of the relative error of the similarity: the remainder is O(η²), the response O(η)."""
    remainder_order, response_order = 2, 1
    return float(remainder_order - response_order)


def _pair_ratios():
    from ..widgets.local_elasticity import CLASS_PAIRS, pair_impacts, training_run

    run = training_run(64, "relu")
    return {pair: pair_impacts(run, pair, int(run.steps[-1]))["ratio"] for pair in CLASS_PAIRS}


def _pair_name(answer):
    """'0-1', '1-0', ' 0-1 ', (0, 1) and [0, 1] all name the pair '0-1'; anything else: None."""
    from ..widgets.local_elasticity import CLASS_PAIRS

    if isinstance(answer, (str, np.str_)):
        parts = str(answer).replace(" ", "").split("-")
    elif isinstance(answer, (tuple, list)) and len(answer) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in answer):
        parts = [str(int(v)) for v in answer]
    else:
        return None
    name = "-".join(sorted(parts))
    return name if name in CLASS_PAIRS else None


@register("ch01-weakest-pair", exercise="ch01-ex-weakest-pair", precision=choice(),
          options=("0-1", "0-2", "1-2"), normalise=_pair_name,
          hint="compare pair_impacts(run, pair, 6000)['ratio'] over the three pairs.",
          mistakes={
              "largest": (lambda t: max((r, p) for p, r in _pair_ratios().items())[1],
                          "that pair has the *largest* α̂/β̂ (the most locally elastic); take the smallest."),
              "middle": (lambda t: sorted((r, p) for p, r in _pair_ratios().items())[1][1],
                         "that pair is in the middle; the weakest has the smallest α̂/β̂."),
          })
def _weakest_pair():
    ratios = _pair_ratios()
    return min(ratios, key=ratios.get)
