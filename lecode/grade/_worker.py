"""Execute one submitted notebook and report the values of its answer variables (a child process of the grader).

``python -m lecode.grade._worker JOB.json`` reads a job (notebook path, variable
names, time budget, marker, result path), executes the notebook's code cells one
by one in a fresh kernel while the budget lasts (errors recorded, execution goes
on), then runs one extraction cell that prints ``MARKER`` followed by the JSON of
the answer variables converted to plain numbers, strings and lists (anything
else becomes ``null``). The result is written as JSON to the job's result path.

Nothing here decides a score: the grader parses the printed JSON defensively and
runs the checks in its own process. Whatever the kernel does (redefine
``check``, patch :mod:`lecode`, print fake results) it can at most choose the
values of its own variables, which a submission does anyway.
"""

from __future__ import annotations

import json
import os
import sys
import time

#: Bytes of output kept per submission (the rest is dropped while executing).
MAX_OUTPUT_BYTES = 2_000_000

_EXTRACT = r'''
def __lecode_grade_extract(names, marker):
    import json as _json
    import math as _math
    import numbers as _numbers
    import sys as _sys
    _np = _sys.modules.get("numpy")
    ns = get_ipython().user_ns
    budget = [100000]

    def plain(v, depth=0):
        if budget[0] <= 0 or depth > 4:
            return None
        budget[0] -= 1
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, str):
            return v[:200]
        if isinstance(v, _numbers.Integral):
            return int(v) if abs(int(v)) < 2**53 else float(v)
        if isinstance(v, _numbers.Real):
            return float(v)
        if _np is not None and isinstance(v, _np.ndarray):
            if v.size > 10000 or v.dtype.kind not in "biufU":
                return None
            return plain(v.tolist(), depth)
        if _np is not None and isinstance(v, _np.generic):
            return plain(v.item(), depth)
        if isinstance(v, (list, tuple)) and len(v) <= 10000:
            return [plain(x, depth + 1) for x in v]
        return None

    out = {}
    for name in names:
        try:
            out[name] = plain(ns[name]) if name in ns else {"missing": True}
        except Exception:
            out[name] = None
    _sys.stdout.write(marker + _json.dumps(out) + "\n")
    _sys.stdout.flush()

__lecode_grade_extract(%r, %r)
del __lecode_grade_extract
'''


def _client_class():
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """A notebook client that keeps at most MAX_OUTPUT_BYTES of outputs."""

        kept = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if self.kept + size > MAX_OUTPUT_BYTES:
                return None
            self.kept += size
            return super().output(outs, msg, display_id, cell_index)

    return Client


def run(job: dict) -> dict:
    """Execute the job's notebook; return {"status", "answers_text", "errors", "cells_run", ...}."""
    import nbformat

    result = {"status": "ok", "errors": [], "cells_run": 0, "cells": 0, "stdout": "",
              "kernel_pid": None, "elapsed": 0.0}
    start = time.monotonic()
    try:
        nb = nbformat.read(job["notebook"], as_version=4)
        cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    except Exception as exc:                              # not a notebook at all
        result.update(status="unreadable", errors=[f"not a readable notebook: {type(exc).__name__}"])
        return result
    run_nb = nbformat.v4.new_notebook()
    run_nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for c in cells:
        run_nb.cells.append(nbformat.v4.new_code_cell(str(c.get("source", ""))))
    extract = nbformat.v4.new_code_cell(_EXTRACT % (list(job["variables"]), job["marker"]))
    run_nb.cells.append(extract)
    result["cells"] = len(cells)
    Client = _client_class()
    client = Client(run_nb, timeout=max(1, int(job["budget"])), kernel_name="python3", allow_errors=True,
                    interrupt_on_timeout=True, record_timing=False,
                    resources={"metadata": {"path": job["cwd"]}})
    try:
        with client.setup_kernel(cwd=job["cwd"]):
            try:
                result["kernel_pid"] = client.km.provisioner.pid
            except Exception:
                pass
            _write(job, result)                               # the grader can end the kernel if we die
            for index, cell in enumerate(run_nb.cells[:-1]):
                remaining = job["budget"] - (time.monotonic() - start)
                if remaining <= 0:
                    result["errors"].append(f"time limit of {job['budget']:g} s reached before "
                                            f"code cell {index + 1} of {len(cells)}")
                    result["status"] = "timeout"
                    break
                client.timeout = max(1, int(remaining + 0.999))
                client.execute_cell(cell, index)
                result["cells_run"] = index + 1
                for out in cell.outputs:
                    if out.get("output_type") == "error":
                        ename = str(out.get("ename", "Error"))[:60]
                        result["errors"].append(f"code cell {index + 1}: {ename}")
                        if ename == "KeyboardInterrupt" and time.monotonic() - start >= job["budget"] - 1:
                            result["status"] = "timeout"
                cell.outputs = []                              # outputs are not needed any more
                client.kept = 0
            client.timeout = int(job.get("extract_timeout", 20))
            client.execute_cell(run_nb.cells[-1], len(run_nb.cells) - 1)
            text = "".join(o.get("text", "") for o in run_nb.cells[-1].outputs
                           if o.get("output_type") == "stream" and o.get("name") == "stdout")
            result["stdout"] = text[-MAX_OUTPUT_BYTES:]
    except Exception as exc:                                  # dead kernel, failed start...
        if result["status"] == "ok":
            result["status"] = "error"
        result["errors"].append(f"execution stopped: {type(exc).__name__}")
    result["elapsed"] = time.monotonic() - start
    return result


def _write(job: dict, result: dict) -> None:
    tmp = job["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    os.replace(tmp, job["result"])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as fh:
        job = json.load(fh)
    _write(job, run(job))
    return 0


if __name__ == "__main__":
    sys.exit(main())
