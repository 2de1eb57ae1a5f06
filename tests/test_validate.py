"""Tests of lecode/_validate.py (the messages every public function relies on)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from lecode._validate import (as_generator, check_array, check_choice, check_int,
                              check_probability, check_real)


def test_check_int():
    assert check_int("n", np.int64(3), minimum=1) == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", 2.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int("n", True)
    with pytest.raises(ValueError, match="n must be an integer >= 2, got 1"):
        check_int("n", 1, minimum=2)
    with pytest.raises(ValueError, match="n must be an integer <= 5"):
        check_int("n", 6, maximum=5)


def test_check_real():
    assert check_real("s", 1, minimum=0) == 1.0
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="s must be finite"):
            check_real("s", bad)
    with pytest.raises(ValueError, match="s must be > 0"):
        check_real("s", 0.0, minimum=0, strict_min=True)
    with pytest.raises(ValueError, match="s must be >= 0"):
        check_real("s", -1.0, minimum=0)
    with pytest.raises(TypeError, match="s must be a real number"):
        check_real("s", "1")
    with pytest.raises(ValueError, match="p must be < 1"):
        check_probability("p", 1.0, allow_one=False)


def test_check_array_and_choice():
    assert check_array("x", [[1, 2]], shape=(None, 2)).shape == (1, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(any, 3\)"):
        check_array("x", np.zeros((2, 2)), shape=(None, 3))
    with pytest.raises(ValueError, match="x must have 1 dimensions"):
        check_array("x", np.zeros((2, 2)), ndim=1)
    with pytest.raises(ValueError, match="x must contain only finite"):
        check_array("x", [1.0, np.nan])
    with pytest.raises(TypeError, match="x must be array-like"):
        check_array("x", ["a", "b"])
    assert check_choice("g", "ce", ("ce", "identity")) == "ce"
    with pytest.raises(ValueError, match="g must be one of 'ce', 'identity'; got 'x'"):
        check_choice("g", "x", ("ce", "identity"))


@given(st.integers(min_value=0, max_value=2**32))
def test_as_generator_is_deterministic(seed):
    assert as_generator(seed).random() == as_generator(seed).random()


def test_as_generator_rejects_bad_seeds():
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng
    with pytest.raises(ValueError, match="seed must be a non-negative"):
        as_generator(-1)
    with pytest.raises(TypeError, match="seed must be None"):
        as_generator(1.5)


def test_complex_input_is_refused_not_silently_made_real():
    from lecode import metrics
    with pytest.raises(TypeError, match="X must hold real numbers"):
        check_array("X", np.array([1 + 2j, 3]))
    with pytest.raises(TypeError, match="features must hold real numbers"):
        metrics.is_separable(np.zeros((3, 2, 3)) + 1j, np.repeat(np.arange(3)[:, None], 2, 1))
    assert check_array("X", [1, 2]).dtype == float
