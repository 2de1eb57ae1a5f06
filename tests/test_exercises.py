"""Tests of the answer-check framework (lecode/exercises/__init__.py) and of every registered check."""

import numpy as np
import pytest

from lecode import exercises
from lecode.exercises import check, register


def test_register_and_check_numbers_and_arrays():
    register("test-scalar", rtol=1e-3)(lambda: 2.0)
    register("test-array", hint="look again")(lambda: np.arange(3.0))
    assert check("test-scalar", 2.001)
    assert not check("test-scalar", 2.1)
    assert check("test-array", [0, 1, 2])
    result = check("test-array", [0, 1, 3])
    assert not result and "look again" in repr(result)
    assert "expected shape" in repr(check("test-array", [0, 1]))
    assert not check("test-array", "zero")
    assert not check("test-scalar", float("nan"))


def test_register_rejects_bad_labels_and_duplicates():
    with pytest.raises(ValueError, match="chapter-prefixed"):
        register("nolabel")
    register("test-dup")(lambda: 1.0)
    with pytest.raises(ValueError, match="registered twice"):
        register("test-dup")(lambda: 1.0)


def test_unknown_label():
    with pytest.raises(ValueError, match="unknown exercise label"):
        check("ch99-nothing", 1.0)


@pytest.mark.parametrize("label", [lbl for lbl in exercises.labels() if lbl.startswith("ch")])
def test_every_registered_answer_is_accepted_and_a_wrong_one_rejected(label):
    truth = exercises.expected(label)
    assert check(label, truth)
    if isinstance(truth, (bool, np.bool_)):
        assert not check(label, not truth)
    elif not isinstance(truth, str):
        wrong = np.asarray(truth, dtype=float) * 1.5 + 1.0
        assert not check(label, wrong)


def _labels_used_in_notebooks() -> dict[str, set[str]]:
    import json
    import re
    from pathlib import Path

    used: dict[str, set[str]] = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "chapters").glob("[0-9][0-9]_*.ipynb")):
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                           if c["cell_type"] == "code")
        used[path.name[:2]] = set(re.findall(r"""check\(\s*["'](ch\d\d-[\w-]+)["']""", source))
    return used


def test_notebooks_check_answers_against_registered_labels_of_their_own_chapter():
    registered = set(exercises.labels())
    for chapter, used in _labels_used_in_notebooks().items():
        assert used <= registered, f"chapter {chapter} checks unregistered labels {used - registered}"
        assert all(label.startswith(f"ch{chapter}-") for label in used)


def test_every_registered_check_is_used_by_its_chapter():
    used = set().union(*_labels_used_in_notebooks().values())
    unused = [lbl for lbl in exercises.labels() if lbl.startswith("ch") and lbl[2:4].isdigit() and lbl not in used]
    assert not unused, f"answer checks no chapter uses: {unused}"
