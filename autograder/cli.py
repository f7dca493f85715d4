"""The `autograder` command: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import sys

from pathlib import Path

from .course import Course, find_root
from .sandbox import Limits, SandboxUnavailable


def course_of(args) -> Course:
    return Course(find_root(Path(args.course) if args.course else None))


def cmd_build(args) -> int:
    from . import build as build_mod

    course = course_of(args)
    build_mod.build(course, force=args.force)
    if args.no_validate:
        return 0
    return 0 if build_mod.validate(course) else 1


def cmd_check(args) -> int:
    from . import build as build_mod

    stale = build_mod.drift(course_of(args))
    for item in stale:
        print(f"stale: {item}")
    if stale:
        print("run `autograder build` to regenerate release/ and solutions/ from source/")
        return 1
    print("release/ and solutions/ match source/")
    return 0


def cmd_calibrate(args) -> int:
    from .calibrate import calibrate

    runs = calibrate(course_of(args), list(range(args.seeds)))
    for run in runs:
        print(f"seed {run.seed:3d}: accuracy {run.accuracy:.4f} after {run.epochs:3d} epochs in {run.seconds:5.1f} s")
    worst = min(runs, key=lambda run: run.accuracy)
    slowest = max(runs, key=lambda run: run.seconds)
    print(f"minimum accuracy {worst.accuracy:.4f} (seed {worst.seed}); "
          f"longest training {slowest.seconds:.1f} s (seed {slowest.seed}); {len(runs)} seeds")
    return 0 if worst.accuracy >= args.threshold else 1


def cmd_grade(args) -> int:
    from . import reports, runner

    course = course_of(args)
    course.assignment(args.assignment)  # fail early on an unknown id
    limits = Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                    memory_bytes=int(args.memory_gib * 2**30))
    options = runner.Options(limits=limits, sandbox=not args.no_sandbox, seed=args.seed,
                             gpu_skip_earns=not args.gpu_skip_withholds)
    results = runner.grade(course, args.assignment, Path(args.submission), options)
    reports.write_results_json(results, Path(args.results))
    if args.junit:
        reports.write_junit(results, Path(args.junit))
    if args.feedback:
        reports.write_feedback(results, Path(args.feedback))
    print(reports.points_line(results))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="autograder", description=__doc__)
    top.add_argument("--course", help="the course folder (default: the one holding the current folder)")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="regenerate release/ and solutions/ from source/, then validate")
    p.add_argument("--force", action="store_true", help="re-execute every solution notebook")
    p.add_argument("--no-validate", action="store_true", help="skip nbgrader validate")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("grade", help="grade one submitted notebook")
    p.add_argument("submission", help="the student's .ipynb file")
    p.add_argument("--assignment", required=True, help="the nbgrader assignment id, e.g. 02_gradient_tape")
    p.add_argument("--results", default="results.json", help="where to write Gradescope's results.json")
    p.add_argument("--junit", help="also write JUnit XML here")
    p.add_argument("--feedback", help="also write feedback.md and feedback.html into this folder")
    p.add_argument("--seed", type=int, default=0, help="grading seed for the hidden inputs")
    p.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap (trusted notebooks only)")
    p.add_argument("--gpu-skip-withholds", action="store_true",
                   help="GPU checks skipped for want of a GPU earn nothing (default: they earn their points)")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_seconds, help="seconds per cell")
    p.add_argument("--notebook-timeout", type=float, default=Limits.notebook_seconds, help="seconds per notebook")
    p.add_argument("--memory-gib", type=float, default=Limits.memory_bytes / 2**30, help="memory cap in GiB")
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("check", help="fail when release/ or solutions/ are stale against source/")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("calibrate", help="train the reference classifier on many seeds")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--threshold", type=float, default=0.95, help="fail when any seed scores below this")
    p.set_defaults(run=cmd_calibrate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, KeyError, RuntimeError, SandboxUnavailable) as err:
        print(f"autograder: {err.args[0] if isinstance(err, KeyError) else err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
