"""Answer checks of chapter 7 accept the registered answer and reject a wrong one."""

import numpy as np

from lecode import exercises


def test_fixed_point_answer_matches_the_formulas():
    K, p = 4, 0.3
    s_star = np.log((K - 1) * (1 - p) / p)
    H = -(1 - p) * np.log(1 - p) - p * np.log(p / (K - 1))
    assert exercises.check("ch07-fixed", [s_star, H]).correct
    assert not exercises.check("ch07-fixed", [s_star, np.log(K)]).correct     # the clean start, not the floor


def test_critical_answer():
    assert exercises.check("ch07-critical", [0.8, 0.25]).correct
    assert not exercises.check("ch07-critical", [0.8, 0.0]).correct          # the projected factor does not vanish


def test_rate_answer():
    assert exercises.check("ch07-rate", 0.5 * 0.2 * 0.8 / 2).correct
    assert not exercises.check("ch07-rate", 0.5 * 0.2 * 0.8).correct         # forgot the 1/(K-1)


def test_below_chance_answer():
    K, p = 3, 0.8
    assert exercises.check("ch07-below-chance", [p / (K - 1), (K - 1) / K]).passed
    assert exercises.check("ch07-below-chance", [1 - p, (K - 1) / K]).mistake == "true-class-share"
