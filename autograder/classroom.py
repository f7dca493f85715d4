"""Grade a whole class: nbgrader's submitted/STUDENT/ID/ layout, parallel workers, one gradebook writer.

Workers grade submissions in their own processes (each submission has its own sandboxed kernel
and check process). Only the main process writes: results per student as they arrive, then the
gradebook, one student at a time, then the class reports. A shard (`--shard I/N`) grades every
N-th student and writes results only; `merge` gathers shards and does the rest.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
import statistics
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import forkserver, handoff, reports, runner
from .course import Assignment, Course
from .results import Results, TestResult


@dataclass(frozen=True)
class Work:
    student: str
    notebook: Path  # may not exist: then the student scores 0 with a reason
    submitted: Path  # the submissions folder it lies in: nothing below it is followed through a link


def submissions(assignment: Assignment, submitted: Path) -> list[Work]:
    """Every student folder under submitted/ with this assignment, sorted by student id."""
    found = []
    for folder in sorted(p for p in submitted.glob(f"*/{assignment.id}") if p.is_dir()):
        expected = folder / assignment.notebook
        others = sorted(folder.glob("*.ipynb"))  # in a linked folder they are refused when read
        notebook = others[0] if not os.path.lexists(expected) and len(others) == 1 else expected
        found.append(Work(folder.parent.name, notebook, submitted))
    return found


def parse_shard(text: str) -> tuple[int, int]:
    """'2/5' -> (2, 5): the second of five shards."""
    index, _, count = text.partition("/")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ValueError(f"shard {text!r}: expected I/N with 1 <= I <= N")
    return i, n


def results_dir(out: Path, assignment_id: str) -> Path:
    return out / "grading" / assignment_id


def save_student(course: Course, out: Path, assignment: Assignment, work: Work, results: Results) -> None:
    """The kit's own files (results.json, JUnit, feedback pages) and the autograded notebook for nbgrader."""
    folder = results_dir(out, assignment.id) / work.student
    folder.mkdir(parents=True, exist_ok=True)
    reports.write_results_json(results, folder / "results.json")
    reports.write_junit(results, folder / "junit.xml")
    reports.write_feedback(results, folder)
    handoff.write_autograded(course, out, assignment, work.student, work.notebook, results, work.submitted)


def load_student(path: Path, assignment_id: str) -> Results:
    return Results.from_gradescope(json.loads(path.read_text()), assignment_id)


def grade_class(course: Course, assignment_id: str, submitted: Path, out: Path, jobs: int,
                options: runner.Options, shard: tuple[int, int] = (1, 1), db_url: str | None = None,
                students: list[str] | None = None) -> dict[str, Results]:
    """Grade every submission (of this shard, or only `students`); unsharded, also the gradebook and reports.

    With `students`, only their results, autograded notebooks and gradebook rows are rewritten;
    the class reports are made again from everyone's saved results.
    """
    assignment = course.assignment(assignment_id)
    work = submissions(assignment, submitted)
    if students:
        missing = sorted(set(students) - {w.student for w in work})
        if missing:
            raise FileNotFoundError(f"no submission of {assignment_id} in {submitted} for {', '.join(missing)}")
        work = [w for w in work if w.student in students]
    index, count = shard
    work = work[index - 1::count]
    options = replace(options, jobs=max(1, jobs))
    graded: dict[str, Results] = {}
    failures: dict[str, str] = {}
    db_url = gradebook_url(course, db_url)
    gradebook = threading.Thread(target=set_up_gradebook, args=(course, db_url))
    if count == 1:
        gradebook.start()
    context = multiprocessing.get_context("spawn")
    with forkserver.sharing(), ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context,
                                                   initializer=forkserver.die_with_parent) as pool, progress() as bar:
        runner.warm_up(course, assignment_id, options)  # while the workers start
        task = bar.add_task(f"grading {assignment_id}", total=len(work))
        futures = {pool.submit(runner.grade_in_worker, course.root, assignment_id, w.notebook, options, w.submitted): w
                   for w in work}
        for future in as_completed(futures):
            student = futures[future].student
            try:
                results = future.result()
            except Exception as err:  # the grader failed for this one; the others go on
                failures[student] = str(err).splitlines()[0] if str(err) else type(err).__name__
                bar.update(task, advance=1, description=f"{student}: NOT GRADED")
                continue
            try:
                save_student(course, out, assignment, futures[future], results)
            except Exception as err:  # e.g. a full disk: this student is not graded, the others go on
                failures[student] = f"its files could not be written ({type(err).__name__}: {err})"
                bar.update(task, advance=1, description=f"{student}: NOT SAVED")
                continue
            graded[student] = results
            bar.update(task, advance=1, description=f"{student}: {results.score:g}/{results.max_score:g}")
    if count == 1:
        gradebook.join()
        finish(course, assignment, out, db_url, students=sorted(graded) if students else None)
    if failures:
        listing = "; ".join(f"{student}: {why}" for student, why in sorted(failures.items()))
        raise RuntimeError(f"{len(failures)} submissions could not be graded (grade them again): {listing}")
    return graded


def progress() -> Progress:
    return Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def collect(course: Course, out: Path, assignment: Assignment, sources: list[Path]) -> dict[str, Results]:
    """Gather per-student results and autograded notebooks from shard output folders into out; later sources win."""
    gathered = {}
    for source in [*sources, out]:
        for path in sorted(results_dir(source, assignment.id).glob("*/results.json")):
            gathered[path.parent.name] = path.parents[3]
    for student, source in gathered.items():
        if source.resolve() != out.resolve():  # a shard's folder: copy into the class output
            shutil.copytree(results_dir(source, assignment.id) / student, results_dir(out, assignment.id) / student,
                            dirs_exist_ok=True)
            graded = handoff.autograded_dir(course, source, student, assignment.id)
            if graded.is_dir():
                shutil.copytree(graded, handoff.autograded_dir(course, out, student, assignment.id), dirs_exist_ok=True)
    return {student: load_student(results_dir(out, assignment.id) / student / "results.json", assignment.id)
            for student in gathered}


def gradebook_url(course: Course, db_url: str | None) -> str:
    """The gradebook asked for, else nbgrader's default: the SQLite file in the course."""
    return db_url or f"sqlite:///{course.root / 'gradebook.db'}"


def set_up_gradebook(course: Course, db_url: str) -> None:
    """Set up a new gradebook while the zygote imports, when the machine has a core to spare (nbgrader
    runs `alembic` for it, 2 s); a gradebook that cannot be opened says so when it is written."""
    try:
        handoff.open_gradebook(course, db_url).close()
    except Exception:
        pass


def finish(course: Course, assignment: Assignment, out: Path, db_url: str | None, sources: list[Path] = (),
           students: list[str] | None = None) -> dict[str, Results]:
    """Write the gradebook (every student's rows, or only `students`') and the class reports."""
    results = collect(course, out, assignment, list(sources))
    chosen = {s: r for s, r in results.items() if students is None or s in students}
    handoff.write_gradebook(course, assignment, chosen, out, gradebook_url(course, db_url))
    write_class_reports(assignment, results, results_dir(out, assignment.id))
    return results


def write_class_reports(assignment: Assignment, results: dict[str, Results], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cells = [exercise.id for exercise in assignment.exercises]
    with (folder / "class.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *cells, "notebook"])
        for student, result in sorted(results.items()):
            per_cell = result.subtotals()
            writer.writerow([student, f"{result.score:g}", f"{result.max_score:g}",
                             *(f"{per_cell.get(c, (0, 0))[0]:g}" for c in cells), result.output])
    (folder / "summary.md").write_text(class_summary(assignment, results))
    histogram(results, folder / "histogram.png", assignment.id)


def class_summary(assignment: Assignment, results: dict[str, Results]) -> str:
    scores = sorted(r.score for r in results.values())
    lines = [f"# {assignment.id}: {len(results)} submissions", ""]
    if scores:
        lines += [f"Mean {statistics.mean(scores):.1f}, median {statistics.median(scores):g}, "
                  f"min {scores[0]:g}, max {scores[-1]:g} (out of {next(iter(results.values())).max_score:g}).", ""]
    lines += ["| check | points | passed by |", "|---|---|---|"]
    names: dict[str, list[TestResult]] = {}
    for result in results.values():
        for test in result.tests:
            names.setdefault(test.name, []).append(test)
    for name, tests in names.items():
        passed = sum(t.status == "passed" for t in tests)
        lines.append(f"| {name} | {tests[0].max_score:g} | {passed}/{len(tests)} ({100 * passed / len(tests):.0f}%) |")
    return "\n".join(lines) + "\n"


def histogram(results: dict[str, Results], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([r.score for r in results.values()], bins=range(0, 105, 5), color="tab:blue", edgecolor="white")
    ax.set_xlabel("score"); ax.set_ylabel("students"); ax.set_title(f"{title}: {len(results)} submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
