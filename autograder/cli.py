"""The `autograder` command: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import sys

from pathlib import Path

from .course import Course, find_root
from .results import GpuSkipPolicy
from .sandbox import GiB, Limits, Sandbox, SandboxUnavailable


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
    from .calibrate import calibrate, worst_margins

    course = course_of(args)
    Sandbox.require()
    assignments = args.assignment or [a.id for a in course.assignments]
    runs = calibrate(course, assignments, list(range(args.seeds)), jobs=args.jobs)
    short = [run for run in runs if run.results.score < run.results.max_score]
    for run in short:
        lost = "; ".join(f"{t.name}: {t.output}" for t in run.results.tests if t.score < t.max_score)
        print(f"{run.assignment} seed {run.seed}: {run.results.score:g}/{run.results.max_score:g} ({lost})")
    print(f"{len(runs) - len(short)} of {len(runs)} reference gradings earned full marks "
          f"({len(assignments)} assignments x {args.seeds} seeds)")
    print("worst margin per stochastic check (value against limit, seed):")
    for m in worst_margins(runs):
        side = ">=" if m.higher_is_better else "<="
        print(f"  {m.assignment} | {m.check} | {m.what}: {m.value:.4g} {side} {m.limit:.4g} (seed {m.seed})")
    return 1 if short else 0


# Each limit: its name in nbgrader_config.py (c.Autograder.NAME) and on the command line (--NAME), the Limits
# field it sets, and the unit it is given in. The defaults are Limits' own.
LIMIT_SETTINGS = {
    "cell_timeout": ("cell_seconds", 1, "seconds a cell, or a call of a student's function, may run"),
    "notebook_timeout": ("notebook_seconds", 1, "seconds for the whole notebook"),
    "checks_timeout": ("checks_seconds", 1, "seconds for the hidden checks of one submission"),
    "memory_gib": ("memory_bytes", GiB, "memory of the sandbox, in GiB"),
    "disk_gib": ("disk_bytes", GiB, "files in scratch, all together, in GiB"),
    "output_bytes": ("output_bytes", 1, "notebook output kept, in bytes"),
    "processes": ("processes", 1, "processes the submission may start"),
    "threads": ("threads", 1, "TensorFlow threads per kernel (0: the cores shared among --jobs)"),
}


def grading_options(args, course: Course):
    """The command line first, then `c.Autograder.*` in nbgrader_config.py, then the defaults of Limits."""
    from . import runner

    config = course.config.get("Autograder", {})

    def setting(name, default):
        given = getattr(args, name)
        return given if given is not None else config.get(name, default)

    no_sandbox = bool(setting("no_sandbox", False))
    if not no_sandbox:
        Sandbox.require()
    defaults = Limits()
    limits = Limits(**{field: type(getattr(defaults, field))(float(setting(name, getattr(defaults, field) / unit)) * unit)
                       for name, (field, unit, _) in LIMIT_SETTINGS.items()})
    return runner.Options(limits=limits, sandbox=not no_sandbox, seed=int(setting("seed", 0)),
                          warm_kernels=not setting("cold_kernels", False),
                          gpu_skips=GpuSkipPolicy(earns=not setting("gpu_skip_withholds", False)))


def cmd_grade(args) -> int:
    from . import reports, runner

    course = course_of(args)
    course.assignment(args.assignment)  # fail early on an unknown id
    results = runner.grade(course, args.assignment, Path(args.submission), grading_options(args, course))
    reports.write_results_json(results, Path(args.results))
    if args.junit:
        reports.write_junit(results, Path(args.junit))
    if args.feedback:
        reports.write_feedback(results, Path(args.feedback))
    print(reports.points_line(results))
    return 0


def cmd_grade_class(args) -> int:
    from . import classroom

    course = course_of(args)
    course.assignment(args.assignment)
    submitted = Path(args.submitted) if args.submitted else course.root / "submitted"
    if not submitted.is_dir():
        raise FileNotFoundError(f"no submissions folder {submitted}")
    shard = classroom.parse_shard(args.shard)
    out = Path(args.out) if args.out else course.root
    graded = classroom.grade_class(course, args.assignment, submitted, out, args.jobs, grading_options(args, course),
                                   shard=shard, db_url=args.db, students=args.student)
    print(f"graded {len(graded)} submissions of {args.assignment}"
          + (f" (shard {args.shard}); run `autograder merge` when every shard is done" if shard[1] > 1 else
             f"; reports in {classroom.results_dir(out, args.assignment)}"))
    return 0


def cmd_merge(args) -> int:
    from . import classroom

    course = course_of(args)
    out = Path(args.out) if args.out else course.root
    results = classroom.finish(course, course.assignment(args.assignment), out, args.db, [Path(s) for s in args.shards])
    print(f"merged {len(results)} submissions of {args.assignment}; reports in {classroom.results_dir(out, args.assignment)}")
    return 0


def add_grading_options(p) -> None:
    """Each also settable as c.Autograder.<name> in nbgrader_config.py (the command line wins)."""
    p.add_argument("--seed", type=int, help="grading seed for the hidden inputs (default 0)")
    p.add_argument("--no-sandbox", action="store_const", const=True, default=None,
                   help="run without bubblewrap (trusted notebooks only)")
    p.add_argument("--cold-kernels", action="store_const", const=True, default=None,
                   help="start every kernel under bubblewrap instead of forking it warm (slower)")
    p.add_argument("--gpu-skip-withholds", action=argparse.BooleanOptionalAction, default=None,
                   help="GPU checks skipped for want of a GPU earn nothing (default: they earn their points)")
    defaults = Limits()
    for name, (field, unit, what) in LIMIT_SETTINGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=float, dest=name,
                       help=f"{what} (default {getattr(defaults, field) / unit:g})")


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
    add_grading_options(p)
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("grade-class", help="grade nbgrader's submitted/STUDENT/ID/ folders in parallel")
    p.add_argument("assignment", help="the nbgrader assignment id")
    p.add_argument("--submitted", help="the submitted/ folder (default: the course's)")
    p.add_argument("--out", help="where grading/ID/ and autograded/ go (default: the course folder)")
    p.add_argument("--student", action="append",
                   help="regrade only this student (repeatable); everyone else's results and grades stay")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    p.add_argument("--shard", default="1/1", help="I/N: grade only every N-th student, starting with the I-th")
    p.add_argument("--db", help="gradebook URL (default: sqlite:///gradebook.db in the course folder)")
    add_grading_options(p)
    p.set_defaults(run=cmd_grade_class)

    p = sub.add_parser("merge", help="gather the shards of a class, then write the gradebook and reports")
    p.add_argument("assignment")
    p.add_argument("shards", nargs="*", help="output folders of the shards")
    p.add_argument("--out", help="the class's output folder (default: the course folder)")
    p.add_argument("--db", help="gradebook URL (default: sqlite:///gradebook.db in the course folder)")
    p.set_defaults(run=cmd_merge)

    p = sub.add_parser("check", help="fail when release/ or solutions/ are stale against source/")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("calibrate", help="grade the reference notebooks on many grading seeds; print the worst margins")
    p.add_argument("--seeds", type=int, default=20, help="grading seeds 0..N-1 (default 20)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable; default all)")
    p.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    p.set_defaults(run=cmd_calibrate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError, SandboxUnavailable) as err:
        print(f"autograder: {err.args[0] if isinstance(err, KeyError) else err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
