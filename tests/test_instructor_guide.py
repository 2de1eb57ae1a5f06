"""The instructor guide (instructor_guide.md) covers every chapter, exercise and check of the book."""

import json
import re
from pathlib import Path

from lecode import exercises

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "instructor_guide.md").read_text()


def _exercise_labels() -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / "chapters").glob("0[1-9]_*.ipynb")):
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        found[path.name[:2]] = re.findall(r"```\{exercise\}\n:label: (ch\d\d-ex-[\w-]+)", source)
    return found


def test_the_guide_is_in_the_reference_part_of_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    reference = toc[toc.index("caption: Reference"):]
    assert "file: instructor_guide" in reference


def test_every_exercise_is_mapped_to_an_objective_of_its_chapter():
    for chapter, labels in _exercise_labels().items():
        assert labels, chapter
        section = GUIDE[GUIDE.index(f"### {int(chapter)}. "):]
        section = section[:section.find("\n### ", 5)] if "\n### " in section[5:] else section
        for label in labels:
            assert f"{{ref}}`{label}`" in section, f"{label} is not mapped to an objective in the guide"


def test_every_chapter_has_prerequisites_time_and_its_generated_mistake_table():
    for chapter in _exercise_labels():
        n = int(chapter)
        section = GUIDE[GUIDE.index(f"### {n}. "):]
        section = section[:section.find("\n### ", 5)]
        assert "**Prerequisites:**" in section and "**Time:**" in section
        if exercises.specs(n):
            assert f"exercises.mistakes_table({n})" in section


def test_the_guide_has_an_eight_lecture_plan_and_the_commands():
    plan = GUIDE[GUIDE.index("## A four-week module"):]
    lectures = re.findall(r"^\| ([1-4]) \| ([1-8]) \|", plan, flags=re.M)
    assert [int(lec) for _, lec in lectures] == list(range(1, 9))
    assert sorted({int(w) for w, _ in lectures}) == [1, 2, 3, 4]
    assert "make student" in GUIDE
    assert "python -m lecode.grade problem_sets/part1.ipynb submissions/*.ipynb --csv scores.csv" in GUIDE
    for part in range(1, 5):
        assert f"PS{part}" in plan, f"problem set {part} is not in the module plan"


def test_every_problem_of_every_set_is_listed_and_practises_an_objective():
    table = GUIDE[GUIDE.index("### The problem sets"):GUIDE.index("## Chapter by chapter")]
    chapters = GUIDE[GUIDE.index("## Chapter by chapter"):GUIDE.index("## A four-week module")]
    for part in range(1, 5):
        assert f"| PS{part} `problem_sets/part{part}.ipynb` |" in table
        for problem in range(1, 5):
            assert f"PS{part}.{problem}" in chapters, f"PS{part}.{problem} practises no listed objective"
