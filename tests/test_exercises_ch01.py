"""Answer checks of chapter 1 (lecode/exercises/ch01.py): independent computations pass, mistakes are named."""

import numpy as np

from lecode import exercises
from lecode.exercises import ch01


def test_linear_ratio_is_the_excess_of_the_input_gram_ratio():
    from lecode.widgets.local_elasticity import dataset

    X, y, _, _, sub = dataset()
    G = X[sub] @ X[sub].T + 1.0
    k = y[sub]
    same = (k[:, None] == k[None, :]) & ~np.eye(len(k), dtype=bool)
    ratio = G[same].mean() / G[k[:, None] != k[None, :]].mean()
    assert exercises.check("ch01-linear-ratio", ratio - 1).passed
    assert exercises.check("ch01-linear-ratio", ratio).mistake == "ratio-not-excess"
    G0 = G - 1.0
    assert exercises.check("ch01-linear-ratio", G0[same].mean() / G0[k[:, None] != k[None, :]].mean() - 1
                           ).mistake == "no-bias"


def test_ntk_trace_matches_the_hand_formula_and_names_the_missing_division():
    from lecode import nets
    from lecode.widgets.local_elasticity import dataset

    X, _, _, _, sub = dataset()
    V1, c1, V2, _ = nets.MLP((1024, 16, 3), activation="relu", seed=5).params
    ha, hb = V1 @ X[sub[0]] + c1, V1 @ X[sub[-1]] + c1
    trace = 3 * (np.maximum(ha, 0) @ np.maximum(hb, 0) + 1) \
        + (X[sub[0]] @ X[sub[-1]] + 1) * np.sum((ha > 0) * (hb > 0) * (V2 ** 2).sum(0))
    assert exercises.check("ch01-ntk-trace", trace / 3).passed
    assert exercises.check("ch01-ntk-trace", trace).mistake == "trace-not-divided"


def test_the_measured_slope_lies_within_the_stated_tolerance_of_the_order():
    measured = ch01.first_order_slope_measured()
    assert abs(measured - 1.0) > 1e-3                       # a real measurement, not the theory
    assert exercises.check("ch01-first-order-slope", measured).passed
    assert exercises.check("ch01-first-order-slope", 1.0).passed
    assert exercises.check("ch01-first-order-slope", 2.0).mistake == "remainder-order"


def test_weakest_pair_reads_strings_and_tuples_and_rejects_arrays():
    assert exercises.expected("ch01-weakest-pair") == "0-1"
    for same in ("0-1", "1-0", " 0 - 1 ", (0, 1), [1, 0], np.str_("0-1")):
        assert exercises.check("ch01-weakest-pair", same).passed, same
    r = exercises.check("ch01-weakest-pair", np.array(["0-1", "0-1"]))
    assert not r.passed and r.mistake == "malformed"
    assert exercises.check("ch01-weakest-pair", "1-2").mistake == "largest"
    assert exercises.check("ch01-weakest-pair", "3-4").mistake == "malformed"
    assert exercises.check("ch01-weakest-pair", (True, False)).mistake == "malformed"
