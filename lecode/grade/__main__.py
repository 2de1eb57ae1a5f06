"""``python -m lecode.grade PROBLEM_SET SUBMISSION.ipynb... --csv scores.csv``: grade submitted notebooks.

PROBLEM_SET is ``ps1``..``ps4``, ``part1``..``part4`` or the path of
``problem_sets/partN.ipynb``. Each submission runs in a fresh kernel within
``--time-limit`` seconds; its answers are checked by the grader itself. The
table (one row per submission: problem scores, total, status, feedback) is
rewritten atomically after every submission. Exit code 0 when every
submission was graded (whatever its score), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys

from ._grader import grade


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecode.grade",
                                     description="Grade problem-set notebooks into a CSV table.")
    parser.add_argument("problem_set", help="ps1..ps4, part1..part4 or problem_sets/partN.ipynb")
    parser.add_argument("submissions", nargs="+", help="submitted notebooks")
    parser.add_argument("--csv", dest="csv_path", help="write the score table here")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="seconds of execution per submission (default 300)")
    parser.add_argument("--grace", type=float, default=30.0,
                        help="extra seconds for kernel start and extraction before a kill (default 30)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    args = parser.parse_args(argv)

    def report(score):
        print(f"{score.submission}: {score.total}/{score.maximum} ({score.status}, {score.elapsed:.0f} s)"
              f" — {score.feedback}", flush=True)

    try:
        grade(args.problem_set, args.submissions, csv_path=args.csv_path, time_limit=args.time_limit,
              grace=args.grace, jobs=args.jobs, progress=report)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
