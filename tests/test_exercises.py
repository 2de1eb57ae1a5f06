"""Tests of the answer-check framework (lecode/exercises/__init__.py).

The checks of each chapter are tested in tests/test_exercises_chNN.py; the
tests that run over every registered check are in tests/test_exercises_registry.py.
"""

import numpy as np
import pytest

from lecode import exercises
from lecode.exercises import (CheckResult, check, choice, evaluate, exact, register, rel, sig,
                              within)

#: Answers a learner may pass by accident; none of them may raise.
GARBAGE = [
    None, "", "0.144", "abc", b"1.0", [], (), {}, {"a": 1}, set(), ["1", "2"], ["a", 1.0],
    np.array(["0-1", "0-1"]), np.array([1.0, 2.0], dtype=object), np.array([None, None]),
    float("nan"), float("inf"), -float("inf"), [float("nan")], True, False, np.bool_(True),
    1j, complex(1.0, 2.0), object(), [[1.0], [1.0, 2.0]], np.zeros((7, 7)), np.zeros(0),
    10 ** 400, -(10 ** 400), lambda: 1.0, (x for x in range(3)), range(3), Ellipsis, np.float64("nan"),
]


class _Hostile:
    """An object whose conversions and repr all raise."""

    def __float__(self):
        raise RuntimeError("no float")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array")

    def __repr__(self):
        raise RuntimeError("no repr")

    def __len__(self):
        raise RuntimeError("no len")

    def __eq__(self, other):
        raise RuntimeError("no eq")

    __hash__ = object.__hash__


GARBAGE.append(_Hostile())


@pytest.fixture(scope="module")
def toys():
    register("test-scalar", precision=sig(3), hint="look again",
             mistakes={"sign": (lambda t: -t, "check the sign"),
                       "factor": (lambda t: 3 * t, "divide by K = 3")})(lambda: 0.14434)
    register("test-array", precision=sig(3),
             mistakes={"swapped": (lambda t: t[::-1], "the two entries are swapped")})(
        lambda: np.array([13.8046, 3.0802]))
    register("test-rel", precision=rel(0.05))(lambda: 2.0)
    register("test-abs", precision=within(0.1))(lambda: 1.0)
    register("test-int", precision=exact(), mistakes={"half": (lambda t: t / 2, "count both signs")})(lambda: 84)
    register("test-choice", precision=choice(), options=("a-b", "a-c", "b-c"),
             mistakes={"largest": (lambda t: "b-c", "that is the largest ratio")})(lambda: "a-b")
    return ["test-scalar", "test-array", "test-rel", "test-abs", "test-int", "test-choice"]


def test_significant_figures_accept_roundings_and_reject_the_next_digit(toys):
    assert check("test-scalar", 0.14434).passed
    assert check("test-scalar", 0.144).passed               # three significant figures
    assert check("test-scalar", 0.1446).passed              # within half a unit of the third figure
    assert not check("test-scalar", 0.145).passed           # off by one in the third figure
    assert not check("test-scalar", 0.143).passed
    assert not check("test-scalar", 0.14).passed            # two figures are not three
    assert check("test-array", [13.8, 3.08]).passed
    assert not check("test-array", [13.8, 3.09]).passed


@pytest.mark.parametrize("truth", [0.99951, 1.0049, 112.4798, -0.1142, 2.5e-7, 9.995e5])
def test_sig_accepts_the_three_figure_rounding_of_any_value(truth):
    p = sig(3)
    rounded = float(f"{truth:.3g}")
    assert p.accepts(np.array(rounded), np.array(truth))
    assert p.accepts(np.array(truth), np.array(truth))
    unit = 10.0 ** (np.floor(np.log10(abs(truth))) - 2)
    assert not p.accepts(np.array(truth + 0.6 * unit), np.array(truth))
    assert not p.accepts(np.array(truth - 0.6 * unit), np.array(truth))


def test_sig_uses_the_array_scale_for_a_zero_entry():
    p = sig(3)
    assert p.accepts(np.array([0.2284, 0.0]), np.array([0.2284, 1e-17]))
    assert not p.accepts(np.array([0.2284, 0.01]), np.array([0.2284, 0.0]))


def test_relative_absolute_and_exact_precisions(toys):
    assert check("test-rel", 2.09).passed and not check("test-rel", 2.11).passed
    assert check("test-abs", 1.053).passed and check("test-abs", 0.91).passed
    assert not check("test-abs", 1.11).passed
    assert check("test-int", 84).passed and check("test-int", np.int64(84)).passed
    assert check("test-int", 84.0).passed and not check("test-int", 84.5).passed
    assert rel(0.05).text == "within 5 %" and sig(3).text == "to three significant figures"
    assert within(0.1).text == "within ±0.1" and exact().text.startswith("exactly")


def test_a_listed_mistake_is_named_with_its_own_hint(toys):
    r = check("test-scalar", -0.144)
    assert not r.passed and r.mistake == "sign" and "check the sign" in r.message
    r = check("test-scalar", 0.433)
    assert r.mistake == "factor" and "divide by K = 3" in r.message
    r = check("test-scalar", 0.3)
    assert r.mistake is None and "look again" in r.message and "three significant figures" in r.message
    r = check("test-array", [3.08, 13.8])
    assert r.mistake == "swapped" and "swapped" in r.message
    assert check("test-int", 42).mistake == "half"


def test_choice_checks(toys):
    assert check("test-choice", "a-b").passed and check("test-choice", " a-b ").passed
    assert check("test-choice", np.str_("a-b")).passed
    r = check("test-choice", "b-c")
    assert not r.passed and r.mistake == "largest" and "largest ratio" in r.message
    r = check("test-choice", "x-y")
    assert r.mistake == "malformed" and "'a-b', 'a-c', 'b-c'" in r.message
    r = check("test-choice", np.array(["a-b", "a-b"]))
    assert not r.passed and r.mistake == "malformed"


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: type(g).__name__)
def test_garbage_gets_a_message_never_an_exception(toys, garbage, capsys):
    for label in toys:
        r = check(label, garbage)
        assert isinstance(r, CheckResult) and r.passed is False
        assert r.mistake == "malformed" or "not right yet" in r.message
        assert r.message in capsys.readouterr().out


def test_malformed_messages_say_what_is_wrong(toys):
    assert "None" in check("test-scalar", None).message
    assert "text" in check("test-scalar", "0.144").message
    assert "dict" in check("test-scalar", {"a": 1}).message
    assert "shape (2,)" in check("test-array", [1.0, 2.0, 3.0]).message
    assert "NaN" in check("test-array", [np.nan, 1.0]).message
    assert "True/False" in check("test-scalar", True).message
    assert "text" in check("test-array", ["1", "2"]).message


def test_shapes_that_squeeze_to_the_expected_one_are_read(toys):
    assert check("test-scalar", [0.144]).passed
    assert check("test-scalar", np.array([[0.144]])).passed
    assert check("test-array", np.array([[13.8, 3.08]])).passed
    assert check("test-array", (13.8, 3.08)).passed


def test_result_object_prints_once_and_is_machine_readable(toys, capsys):
    r = check("test-scalar", 0.144)
    out = capsys.readouterr().out
    assert out == r.message + "\n" and str(r) == r.message
    assert r.passed is True and bool(r) and r.correct and r.label == "test-scalar"
    assert r._ipython_display_() is None
    quiet = evaluate("test-scalar", 0.144)
    assert capsys.readouterr().out == "" and quiet == r
    with pytest.raises(Exception):
        r.passed = False                                      # frozen


def test_unknown_label_is_a_message_not_an_exception():
    r = check("ch02-sgima", 1.0)
    assert not r.passed and r.mistake == "unknown-label" and "ch02-sigma" in r.message
    assert evaluate(None, 1.0).mistake == "unknown-label"
    with pytest.raises(ValueError, match="unknown exercise label"):
        exercises.spec("ch99-nothing")


def test_register_rejects_bad_labels_duplicates_and_bad_mistakes():
    with pytest.raises(ValueError, match="chapter-prefixed"):
        register("nolabel")
    register("test-dup")(lambda: 1.0)
    with pytest.raises(ValueError, match="registered twice"):
        register("test-dup")(lambda: 1.0)
    with pytest.raises(ValueError, match="value_fn, hint"):
        register("test-badmistake", mistakes={"x": (1.0, "hint")})
    with pytest.raises(ValueError, match="value_fn, hint"):
        register("test-badmistake", mistakes={"x": (lambda t: t, "")})
    with pytest.raises(TypeError, match="precision must be"):
        register("test-badprecision", precision=1e-3)
    with pytest.raises(ValueError, match="figures"):
        sig(0)
    with pytest.raises(ValueError, match="tolerance"):
        rel(0.0)


def test_expected_is_copied_and_a_non_finite_expected_answer_raises():
    from lecode._validate import NonFiniteError

    register("test-copy")(lambda: np.array([1.0, 2.0]))
    exercises.expected("test-copy")[0] = 99.0
    assert exercises.expected("test-copy")[0] == 1.0
    register("test-nonfinite")(lambda: float("nan"))
    with pytest.raises(NonFiniteError):
        exercises.expected("test-nonfinite")


def test_format_answer_reads_back():
    assert exercises.format_answer(0.144337567) == "0.14434"
    assert exercises.format_answer(np.array([13.80457, 3.080217])) == "[13.805, 3.0802]"
    assert float(exercises.format_answer(112.4798)) == pytest.approx(112.48)


def test_specs_lists_the_chapters_checks_only(toys):
    labels = [c.label for c in exercises.specs()]
    assert labels == sorted(labels) and all(lbl[:2] == "ch" and lbl[2:4].isdigit() for lbl in labels)
    assert "test-scalar" not in labels
    assert all(c.label.startswith("ch02-") for c in exercises.specs(2))
