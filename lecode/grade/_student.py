r"""The student edition of a notebook: every solution removed, every exercise and check kept.

A chapter (or a problem set) is written once, with its solutions in
sphinx-exercise's *gated* form, which may wrap any number of cells::

    ```{solution-start} ch04-ex-margin
    :class: dropdown
    ```
    ...markdown and code cells...
    ```{solution-end}
    ```

:func:`strip_solutions` removes, from the line that opens ``{solution-start}``
to the line that closes ``{solution-end}``, everything: the markdown inside
those cells and every cell in between (with its outputs). A one-piece
``{solution}`` directive (no cells inside) is removed from its opening to its
closing fence. Markdown that shares a cell with a solution boundary keeps the
rest of its text; cells outside solutions are left exactly as they were
(source, outputs, metadata, id).

A solution that ends with answer checks, ``check("ch04-margin", answer)``,
leaves one *work cell* in its place::

    # Exercise ch04-ex-margin: your work here. Replace ... by your answer, then run the check.
    answer = ...
    lecode.exercises.check("ch04-margin", answer)

so that the student edition still holds every check of the book (the call is
copied as the solution wrote it, and the variable it checked is the one the
grader reads, :mod:`lecode.grade`). Its id is derived from the solution's
label, so stripping is deterministic.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
from dataclasses import dataclass, field

__all__ = ["strip_solutions", "Solution", "CheckCall", "find_solutions"]

#: An opening or closing fence of a MyST directive or code block (backticks, tildes, colons).
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[A-Za-z0-9_:+-]+)\}\s*(?P<arg>.*)$")


@dataclass(frozen=True)
class CheckCall:
    """One answer check made by a solution: ``callee("label", argument)``."""

    callee: str       #: as written, e.g. ``"lecode.exercises.check"``
    label: str        #: the check id, e.g. ``"ch04-margin"``
    variable: str     #: the variable the work cell asks for (the argument if it is a name, else ``"answer"``)


@dataclass
class Solution:
    """A solution block found in a notebook (what :func:`strip_solutions` removes)."""

    exercise: str                   #: the exercise label given to ``solution-start`` (may be empty)
    label: str                      #: the solution's own ``:label:`` option (may be empty)
    markdown: list = field(default_factory=list)   #: removed markdown text, one item per piece
    code: list = field(default_factory=list)       #: sources of the removed code cells
    checks: list = field(default_factory=list)     #: :class:`CheckCall` made by the removed code

    @property
    def text(self) -> str:
        """All removed text (markdown and code), joined."""
        return "\n".join(self.markdown + self.code)


class _Fences:
    """Stack of open fences of one markdown cell (directives may nest; code blocks hold no syntax)."""

    def __init__(self):
        self.stack: list[tuple[str, int, str]] = []    # (fence char, length, directive name or "")

    def feed(self, line: str):
        """Update the stack with ``line``; return ('open', name) / ('close', name) / None."""
        m = _FENCE.match(line)
        if not m:
            return None
        char, n, info = m.group("fence")[0], len(m.group("fence")), m.group("info").strip()
        if self.stack:
            top_char, top_n, top_name = self.stack[-1]
            closes = char == top_char and n >= top_n and not info
            if top_name == "":                      # inside a literal code block: only its close counts
                if closes:
                    self.stack.pop()
                    return ("close", "")
                return None
            if closes:
                self.stack.pop()
                return ("close", top_name)
        d = _DIRECTIVE.match(info)
        if d:
            self.stack.append((char, n, d.group("name")))
            return ("open", d.group("name"), d.group("arg").strip())
        if char == ":" and not info:                # a stray ':::' closes nothing and opens nothing
            return None
        self.stack.append((char, n, ""))
        return ("open", "")


def _label_option(lines: list[str]) -> str:
    for line in lines:
        m = re.match(r"^\s*:label:\s*(\S+)", line)
        if m:
            return m.group(1)
    return ""


def _check_calls(source: str) -> list[CheckCall]:
    """The ``check("label", x)`` calls of a code cell (IPython magics and shell lines ignored)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    text = "\n".join(lines)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        first = node.args[0]
        if name != "check" or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        arg = node.args[1]
        variable = arg.id if isinstance(arg, ast.Name) else "answer"
        calls.append((node.lineno, node.col_offset,
                      CheckCall(ast.get_source_segment(text, f), first.value, variable)))
    return [c for _, _, c in sorted(calls, key=lambda x: (x[0], x[1]))]


def _work_cell_source(solution: Solution) -> str:
    """Source of the work cell left where a checked solution was."""
    what = f"Exercise {solution.exercise}" if solution.exercise else "Exercise"
    lines = [f"# {what}: your work here. Replace ... by your answer, then run the check."]
    seen = []
    for c in solution.checks:
        if c.variable not in seen:
            seen.append(c.variable)
            lines.append(f"{c.variable} = ...")
    done = set()
    for c in solution.checks:
        call = f'{c.callee}("{c.label}", {c.variable})'
        if call not in done:
            done.add(call)
            lines.append(call)
    return "\n".join(lines)


def _new_id(seed: str, taken: set) -> str:
    k = 0
    while True:
        cid = hashlib.sha1(f"{seed}/{k}".encode()).hexdigest()[:8]
        if cid not in taken:
            taken.add(cid)
            return cid
        k += 1


def _split_markdown(source: str, state: dict, solutions: list):
    """Split one markdown cell into kept pieces; pieces are separated by removed solutions.

    ``state`` carries ``"open"`` (the :class:`Solution` being removed, or None) across cells.
    Returns a list whose items are kept strings and :class:`Solution` markers (a
    solution that *starts* in this cell).
    """
    fences = _Fences()
    out: list = []
    kept: list[str] = []
    removed: list[str] = []
    mode = "gated" if state["open"] is not None else None   # None | "start" | "gated" | "end" | "single"
    depth = 0                                                # stack depth of the directive being removed
    header: list[str] = []

    def flush_removed():
        if removed and state["open"] is not None:
            state["open"].markdown.append("\n".join(removed))
        removed.clear()

    for line in source.split("\n"):
        before = len(fences.stack)
        event = fences.feed(line)
        if mode is None:
            if event and event[0] == "open" and event[1] in ("solution-start", "solution"):
                out.append("\n".join(kept))
                kept = []
                sol = Solution(exercise=event[2] if len(event) > 2 else "", label="")
                solutions.append(sol)
                state["open"] = sol
                out.append(sol)
                mode = "start" if event[1] == "solution-start" else "single"
                depth = before
                header = [line]
                removed.append(line)
                continue
            if event and event[0] == "open" and event[1] == "solution-end":
                raise ValueError("a {solution-end} without a {solution-start} before it")
            kept.append(line)
            continue
        removed.append(line)
        if mode in ("start", "single"):
            header.append(line)
        if mode == "gated" and event and event[0] == "open" and event[1] == "solution-end" \
                and before == depth:
            mode = "end"
        elif mode == "gated" and event and event[0] == "open" and event[1] == "solution-start" \
                and before == depth:
            raise ValueError(f"{{solution-start}} inside the open solution of "
                             f"{state['open'].exercise or 'an exercise'}: close it with {{solution-end}} first")
        elif event and event[0] == "close" and len(fences.stack) == depth:
            if mode in ("start", "single"):
                state["open"].label = _label_option(header)
            if mode == "start":
                mode = "gated"
            elif mode in ("end", "single"):
                flush_removed()
                state["open"] = None
                mode = None
    if mode in ("start", "end", "single"):
        raise ValueError(f"unclosed {{solution}} directive fence in a markdown cell: {source[:80]!r}")
    flush_removed()
    out.append("\n".join(kept))
    return out


def _tidy(text: str) -> str:
    return text.strip("\n")


def find_solutions(nb) -> list[Solution]:
    """The solution blocks of a notebook, in order (what :func:`strip_solutions` would remove)."""
    return strip_solutions(nb, return_solutions=True)[1]


def strip_solutions(nb, *, work_cells: bool = True, return_solutions: bool = False):
    """Return a copy of notebook ``nb`` with every solution block removed (chapter 0, *teaching with the book*).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook (nbformat 4). It is not modified.
    work_cells : bool, default True
        Leave, where each solution that called ``check("label", x)`` was, one
        code cell ``x = ...`` followed by the same check calls.
    return_solutions : bool, default False
        Also return the list of removed :class:`Solution` blocks.

    Returns
    -------
    nbformat.NotebookNode, or (NotebookNode, list of Solution)

    Raises
    ------
    TypeError
        ``nb`` is not a version-4 notebook.
    ValueError
        A solution block is not closed (``{solution-start}`` without
        ``{solution-end}``), or solution blocks are nested or unbalanced.
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise TypeError(f"nb must be an nbformat-4 notebook (a dict with 'cells' and nbformat 4), "
                        f"got {type(nb).__name__}")
    import nbformat

    out = copy.deepcopy(nb)
    taken = {c.get("id") for c in nb["cells"] if c.get("id")}
    cells = []
    solutions: list[Solution] = []
    state = {"open": None}

    def work_cell(sol: Solution):
        if work_cells and sol.checks:
            cell = nbformat.v4.new_code_cell(_work_cell_source(sol))
            cell["id"] = _new_id(f"work/{sol.exercise}/{sol.label}", taken)
            cells.append(cell)

    for cell in out["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            if state["open"] is not None:
                if cell["cell_type"] == "code":
                    state["open"].code.append(source)
                    state["open"].checks.extend(_check_calls(source))
                else:
                    state["open"].markdown.append(source)
                continue
            cells.append(cell)
            continue
        was_open = state["open"]
        pieces = _split_markdown(source, state, solutions)
        if was_open is not None and state["open"] is not was_open:
            work_cell(was_open)                       # a solution that ended in this cell
        first = True
        for k, piece in enumerate(pieces):
            if isinstance(piece, Solution):
                if state["open"] is not piece:        # it also ended in this cell
                    work_cell(piece)
                continue
            text = piece if (len(pieces) == 1 and was_open is None) else _tidy(piece)
            if not text.strip():
                continue
            if first:
                cell["source"] = text
                cells.append(cell)
                first = False
            else:
                new = nbformat.v4.new_markdown_cell(text)
                new["id"] = _new_id(f"md/{cell.get('id', '')}/{k}", taken)
                new["metadata"] = copy.deepcopy(cell.get("metadata", {}))
                cells.append(new)
    if state["open"] is not None:
        raise ValueError(f"the solution of {state['open'].exercise or 'an exercise'} is never closed "
                         f"(no {{solution-end}} after its {{solution-start}})")
    out["cells"] = cells
    return (out, solutions) if return_solutions else out
