r"""Grade submitted problem-set notebooks (``python -m lecode.grade``).

For every submission, in its own child process and a fresh kernel:

1. a private copy of :mod:`lecode` (and its data) is laid out from a snapshot
   taken when grading starts, so a submission that edits the package's files
   changes neither the grader nor the next submission;
2. the code cells run top to bottom in a temporary folder, within a time
   budget for the whole notebook; a cell that raises is recorded and the next
   one runs; when the budget is spent the running cell is interrupted and the
   rest skipped; the child is killed outright if it outlives the budget by
   ``grace`` seconds;
3. one extraction cell prints the problem set's answer variables as JSON of
   plain numbers, strings and lists.

The grader reads that JSON (size- and type-limited, never unpickled or
evaluated), and scores each answer with :func:`lecode.exercises.evaluate` *in
its own process*, whose expected answers were computed before any submission
ran. What a kernel does to ``check``, to ``lecode`` or to its own output can
only change the values it reports for its own variables.

Built on nbclient, not otter-grader: otter's ``grade`` command runs each
submission in a Docker container (no Docker here), and its test cases run
inside the submission's own kernel, where a submission can redefine what they
call; nbclient is already part of the book's stack (myst-nb, nbval) and lets
the checks stay in the grading process.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .._validate import check_int, check_real
from ._problems import ProblemSet, problem_set

__all__ = ["grade", "Score", "write_csv", "answer_key_access"]

#: Largest extraction output the grader parses (bytes).
MAX_JSON_BYTES = 1_000_000
_PACKAGE = Path(__file__).resolve().parents[1]           # .../lecode
_DATA = _PACKAGE.parent / "chapters" / "data"


@dataclass
class Score:
    """The grade of one submission."""

    submission: str
    problems: dict                    #: problem key -> points earned
    total: int
    maximum: int
    feedback: str
    status: str = "ok"                #: ok, timeout, error, unreadable, killed
    elapsed: float = 0.0
    details: dict = field(default_factory=dict)   #: check label -> message


# --------------------------------------------------------------------------- snapshot

class _Snapshot:
    """The bytes of the lecode package and of chapters/data, read once (pristine copies for every kernel)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        for base, prefix in ((_PACKAGE, "lecode"), (_DATA, "chapters/data")):
            if not base.is_dir():
                continue
            for path in base.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    self.files[f"{prefix}/{path.relative_to(base).as_posix()}"] = path.read_bytes()

    def lay_out(self, root: Path) -> None:
        for rel, data in self.files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


# --------------------------------------------------------------------------- answers

def _valid_plain(value, depth=0, budget=None) -> bool:
    budget = budget if budget is not None else [100000]
    budget[0] -= 1
    if budget[0] < 0 or depth > 5:
        return False
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= 200
    if isinstance(value, list):
        return all(_valid_plain(v, depth + 1, budget) for v in value)
    return False


def parse_answers(stdout: str, marker: str, variables) -> dict:
    """The answer values printed after ``marker`` (last such line), restricted to ``variables``.

    A variable that is missing, unreadable or not made of plain numbers,
    strings and lists maps to a sentinel string explaining why, which no check accepts.
    """
    found = None
    for line in stdout.splitlines():
        if line.startswith(marker):
            found = line[len(marker):]
    if found is None or len(found) > MAX_JSON_BYTES:
        return {}
    try:
        data = json.loads(found)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for name in variables:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, dict) and value.get("missing") is True:
            continue
        out[name] = value if _valid_plain(value) else None
    return out


# --------------------------------------------------------------------------- answer-key access

_KEY_ATTRS = {"expected", "spec", "specs", "_REGISTRY", "mistake_values", "_cache"}


def answer_key_access(nb) -> list[str]:
    """Lines of a notebook's code that read the answer key (``lecode.exercises.expected``, ``spec``...).

    A heuristic for the instructor's attention, not a proof: the grader flags
    such a submission in its feedback and scores it as usual.
    """
    found = []
    for index, cell in enumerate(c for c in nb.get("cells", []) if c.get("cell_type") == "code"):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        text = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            hit = (isinstance(node, ast.Attribute) and node.attr in _KEY_ATTRS) or \
                  (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lecode.exercises")
                   and any(a.name in _KEY_ATTRS for a in node.names)) or \
                  (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lecode.exercises.ps")
                   and any(a.name.startswith("_") for a in node.names))
            if hit:
                found.append(f"code cell {index + 1}, line {getattr(node, 'lineno', '?')}")
    return found


# --------------------------------------------------------------------------- one submission

def _kill_group(pid) -> None:
    """End the process group led by ``pid`` (a worker or kernel this grader started)."""
    if not pid:
        return
    try:
        os.killpg(int(pid), signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _execute(path: Path, variables, *, budget: float, grace: float, snapshot: _Snapshot) -> dict:
    marker = f"@@lecode-grade-{secrets.token_hex(8)}@@"
    with tempfile.TemporaryDirectory(prefix="lecode-grade-") as tmp:
        tmp = Path(tmp)
        snapshot.lay_out(tmp / "env")
        work = tmp / "work"
        (work / "home").mkdir(parents=True)
        job = {"notebook": str(tmp / "submission.ipynb"), "variables": list(variables), "budget": budget,
               "marker": marker, "cwd": str(work), "result": str(tmp / "result.json")}
        try:
            shutil.copyfile(path, job["notebook"])
        except OSError as exc:
            return {"status": "unreadable", "errors": [f"cannot read the file: {type(exc).__name__}"],
                    "answers": {}, "elapsed": 0.0}
        (tmp / "job.json").write_text(json.dumps(job))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "JUPYTER_"))}
        env.update(PYTHONPATH=str(tmp / "env"), HOME=str(work / "home"), MPLBACKEND="Agg",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONDONTWRITEBYTECODE="1", IPYTHONDIR=str(work / "home" / ".ipython"))
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "lecode.grade._worker", str(tmp / "job.json")],
                                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        killed = False
        try:
            proc.wait(timeout=budget + grace)
        except subprocess.TimeoutExpired:
            killed = True
        result = {}
        try:
            result = json.loads((tmp / "result.json").read_text())
        except (OSError, ValueError):
            pass
        _kill_group(result.get("kernel_pid"))                # the kernel runs in a session of its own
        if killed or proc.poll() is None:
            _kill_group(proc.pid)
            proc.wait()
            killed = True
        if killed:
            result = {"status": "killed", "errors": [f"stopped after {budget + grace:g} s (time limit "
                                                     f"{budget:g} s)"] + list(result.get("errors", []))}
        elif not result:
            result = {"status": "error", "errors": ["the execution process ended without a result"]}
        result["answers"] = parse_answers(result.get("stdout", ""), marker, variables)
        result["elapsed"] = time.monotonic() - start
        return result


def _score(name: str, pset: ProblemSet, run: dict, flagged: list) -> Score:
    from ..exercises import evaluate

    problems, details, notes = {}, {}, []
    for problem in pset.problems:
        got = 0
        for ans in problem.answers:
            if ans.variable not in run["answers"]:
                details[ans.label] = f"{ans.variable} is not defined"
                notes.append(f"{problem.key}: {ans.variable} not defined")
                continue
            value = run["answers"][ans.variable]
            if value is None:
                details[ans.label] = f"{ans.variable} is not a number, string or list of them"
                notes.append(f"{problem.key}: {ans.variable} has no answer")
                continue
            res = evaluate(ans.label, value)
            details[ans.label] = res.message
            if res.passed:
                got += 1
            else:
                why = f" ({res.mistake})" if res.mistake else ""
                notes.append(f"{problem.key}: {ans.variable} not right{why}")
        problems[problem.key] = got
    errors = list(run.get("errors", []))
    head = []
    if run.get("status") not in (None, "ok"):
        head.append(run["status"])
    if errors:
        head.append("; ".join(errors[:3]) + (f"; +{len(errors) - 3} more" if len(errors) > 3 else ""))
    if flagged:
        head.append(f"reads the answer key ({flagged[0]}): review")
    total = sum(problems.values())
    feedback = " | ".join(head + (notes if notes else ["all answers right"]))
    if len(feedback) > 500:
        feedback = feedback[:497] + "..."
    return Score(name, problems, total, pset.points, feedback, run.get("status", "ok"),
                 round(float(run.get("elapsed", 0.0)), 1), details)


def _prepare(pset: ProblemSet) -> None:
    """Compute every expected answer (and mistake value) before any submission runs."""
    from ..exercises import spec

    for ans in pset.answers:
        c = spec(ans.label)
        c.expected()
        c.mistake_values()


# --------------------------------------------------------------------------- the batch

def write_csv(path, pset: ProblemSet, scores) -> None:
    """Write the score table atomically (temp file + os.replace): one row per submission."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = [p.key for p in pset.problems]
    writer.writerow(["submission", *keys, "total", "max", "status", "seconds", "feedback"])
    for s in scores:
        writer.writerow([s.submission, *(s.problems.get(k, 0) for k in keys), s.total, s.maximum,
                         s.status, s.elapsed, s.feedback])
    _atomic_write_text(Path(path), buf.getvalue())


def _atomic_write_text(path: Path, text: str) -> None:
    try:
        from .._io import atomic_write_text       # lecode._io (issue 15) when present
    except ImportError:
        atomic_write_text = None
    if atomic_write_text is not None:
        atomic_write_text(path, text)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def grade(problem_set_spec, submissions, *, csv_path=None, time_limit: float = 300.0,
          grace: float = 30.0, jobs: int = 1, progress=None) -> list[Score]:
    """Grade notebooks against a problem set (chapter 0, *teaching with the book*).

    Parameters
    ----------
    problem_set_spec : str or path
        ``"ps1"``..``"ps4"``, ``"part1"``..``"part4"`` or the path of
        ``problem_sets/partN.ipynb``; the problems, checks and answer variables
        come from ``lecode.exercises.psN``, never from a submission.
    submissions : sequence of paths
        The submitted notebooks (anything unreadable scores zero).
    csv_path : path, optional
        Score table, rewritten atomically after every finished submission (so
        an interrupted batch leaves a valid table of the rows done).
    time_limit : float, default 300
        Seconds of execution per submission (all its cells together).
    grace : float, default 30
        Extra seconds for the kernel's start and the extraction before the
        submission's processes are killed.
    jobs : int, default 1
        Submissions graded at once (each in its own process and kernel).
    progress : callable, optional
        Called with each :class:`Score` as it is finished.

    Returns
    -------
    list of Score, in the order of ``submissions``. Each problem scores one
    point per answer whose check passes.
    """
    pset = problem_set(problem_set_spec)
    time_limit = check_real("time_limit", time_limit, minimum=1.0, maximum=24 * 3600.0)
    grace = check_real("grace", grace, minimum=1.0, maximum=3600.0)
    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    paths = [Path(p) for p in submissions]
    if not paths:
        raise ValueError("submissions must name at least one notebook")
    if csv_path is not None:
        csv_path = Path(csv_path)
        if not csv_path.parent.is_dir():
            raise FileNotFoundError(f"csv_path: folder {str(csv_path.parent)!r} does not exist")
    _prepare(pset)
    snapshot = _Snapshot()
    variables = [a.variable for a in pset.answers]
    names = _display_names(paths)
    scores: list = [None] * len(paths)

    def one(i):
        path = paths[i]
        flagged = []
        try:
            import nbformat

            flagged = answer_key_access(nbformat.read(path, as_version=4))
        except Exception:
            pass
        try:
            run = _execute(path, variables, budget=time_limit, grace=grace, snapshot=snapshot)
        except Exception as exc:                  # never let one submission stop the batch
            run = {"status": "error", "errors": [f"grader error: {type(exc).__name__}: {exc}"[:200]],
                   "answers": {}}
        return i, _score(names[i], pset, run, flagged)

    done = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for i, score in pool.map(one, range(len(paths))):
            scores[i] = score
            done.append(i)
            if csv_path is not None:
                write_csv(csv_path, pset, [scores[j] for j in sorted(done)])
            if progress is not None:
                progress(score)
    return scores


def _display_names(paths) -> list[str]:
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [str(p) for p in paths]
