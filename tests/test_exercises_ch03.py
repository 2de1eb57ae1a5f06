"""The answer checks of chapter 3 accept the right answer and reject a wrong one."""

import numpy as np

from lecode import exact
from lecode.exercises import ch03, check, expected


def test_scales():
    answer = np.exp([(6 + 3 * 1.5) / 4, (6 - 1.5) / 4])
    assert check("ch03-scales", answer)
    assert check("ch03-scales", answer[::-1]).mistake == "swapped"


def test_rate_ratio():
    assert check("ch03-rate-ratio", 2.5)
    assert check("ch03-rate-ratio", 1 / 2.5).mistake == "inverted"


def test_mystery_estimate_is_accepted():
    times, class_means = ch03.mystery_class_means()
    assert times.shape == (41,) and class_means.shape == (41, 3, 3)
    A_hat, B_hat = exact.estimate_AB_identity(times, class_means)
    assert check("ch03-mystery", B_hat[-1])
    assert abs(B_hat[-1] / expected("ch03-mystery") - 1) < 0.1 * 0.02   # the 2 % covers the estimator's error
    assert check("ch03-mystery", A_hat[-1]).mistake == "A-not-B"
