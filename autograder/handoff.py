"""The hand-off to nbgrader: what its gradebook, formgrader and feedback expect after autograding.

nbgrader's own `autograde` writes `autograded/STUDENT/ID/NOTEBOOK.ipynb`, executes it, then
saves each grade cell's score (SaveAutoGrades) and the late penalty (AssignLatePenalties). The
autograder keeps that shape and replaces only the execution: each grade cell gets the hidden
checks' results as its output, with the cell's score as its result, which is how nbgrader's own
partial-credit rule (`utils.determine_grade`) reads a grade cell. Every later nbgrader step
(formgrader, generate_feedback, release_feedback, export) then works on files it knows.

    results ─► autograded notebook (+ timestamp.txt, submission_secret.txt) ─► gradebook rows
"""

from __future__ import annotations

import copy
import html
import os
import shutil
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import AssignLatePenalties, ComputeChecksums, SaveCells
from sqlalchemy.exc import SAWarning

from . import notebooks
from .course import Assignment, Course, tool_env
from .reports import SYMBOL, causes_behind, state, verdict
from .results import Results, TestResult
from .sanitize import SubmissionError, grade_id, match, read_bytes, read_submission

# Files of a submission folder that nbgrader's later steps read, besides the notebook.
RECORDS = ("timestamp.txt", "submission_secret.txt")
RECORD_BYTES = 4096
NO_RESPONSE = "No response."  # nbgrader's own comment on an unchanged solution cell


def autograded_dir(course: Course, out: Path, student: str, assignment_id: str) -> Path:
    return out / course.config.CourseDirectory.get("autograded_directory", "autograded") / student / assignment_id


def autograded_notebook(submission: Path, assignment: Assignment, results: Results,
                        within: Path | None = None) -> NotebookNode:
    """The release notebook with the student's answers in place, and each grade cell showing its checks.

    Locked cells keep the release's source and nbgrader metadata (checksums included), as
    nbgrader's OverwriteCells leaves them; a submission that cannot be read leaves the stubs.
    """
    release = notebooks.read(assignment.path("release"))
    nb = copy.deepcopy(release)
    try:
        found = match(read_submission(submission, within), release)
    except SubmissionError:
        found = None
    by_cell, by_exercise = results.subtotals(), results.by_exercise()
    cells = [clean(cell) for cell in found.added_after.get(None, [])] if found else []
    for cell in nb.cells:
        gid = grade_id(cell)
        if found and gid in found.solutions:
            cell.source = found.solutions[gid].source
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if notebooks.is_grade(cell) and not notebooks.is_solution(cell):
                exercise = known.id if (known := assignment.exercise(gid)) else gid  # else a cell the course added
                score = by_cell.get(exercise, (0.0, 0.0))[0]
                cell.outputs = [check_output(by_exercise.get(exercise, []), score, float(cell.metadata.nbgrader["points"]),
                                             results)]
        cells.append(cell)
        if found:
            cells += [clean(cell) for cell in found.added_after.get(gid, [])]
    nb.cells = cells
    return nb


def clean(cell: NotebookNode) -> NotebookNode:
    """A cell the student added, as it was run: its source only, with a fresh id."""
    return new_code_cell(cell.source)


def check_output(checks: list[TestResult], score: float, points: float, results: Results) -> NotebookNode:
    """The grade cell's result: its score as text (nbgrader's partial credit), the checks as a table.

    The root causes behind its failed checks come first, as in the kit's own feedback.
    """
    cell = "style='padding:.2em .8em .2em 0;text-align:left;vertical-align:top'"
    rows = "".join(
        f"<tr><td {cell}>{SYMBOL[state(t)]}</td><td {cell}>{html.escape(t.name)}</td>"
        f"<td {cell}>{t.score:g}&nbsp;/&nbsp;{t.max_score:g}</td><td {cell}>{html.escape(verdict(t))}</td></tr>"
        for t in checks)
    if not checks:
        rows = f"<tr><td {cell}>{SYMBOL['failed']}</td><td {cell} colspan='3'>{html.escape(results.output or 'not graded')}</td></tr>"
    causes = "".join(f"<p>Fix this first: {html.escape(cause)}</p>" for cause in causes_behind(results, checks))
    table = (f"<p><b>Hidden checks: {score:g} / {points:g} points</b></p>{causes}<table>"
             f"<tr><th {cell}></th><th {cell}>check</th><th {cell}>points</th><th {cell}>result</th></tr>{rows}</table>")
    return new_output("execute_result", data={"text/plain": f"{score:g}", "text/html": table}, execution_count=None)


def comment(checks: list[TestResult], results: Results) -> str:
    """Under a solution cell, a Markdown list (nbgrader's feedback renders it): each check, what a failed one expected."""
    causes = [f"Fix this first: {cause}" for cause in causes_behind(results, checks)]
    items = [f"- {SYMBOL[state(t)]} {t.name} ({t.score:g}/{t.max_score:g})"
             + ("" if verdict(t) == "passed" else f": {verdict(t)}") for t in checks]
    return "\n".join(causes + [""] * bool(causes) + items)


def copy_records(submission_folder: Path, dest: Path, within: Path | None = None) -> None:
    """collect's timestamp and the exchange's secret: small plain files only, never through a link."""
    for name in RECORDS:
        try:
            data = read_bytes(submission_folder / name, within)
        except SubmissionError:
            continue
        if len(data) <= RECORD_BYTES:
            (dest / name).write_bytes(data)


def write_autograded(course: Course, out: Path, assignment: Assignment, student: str, submission: Path,
                     results: Results, within: Path | None = None) -> Path:
    """autograded/STUDENT/ID/ as nbgrader's autograde leaves it: the graded notebook and collect's records."""
    folder = autograded_dir(course, out, student, assignment.id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    nb = autograded_notebook(submission, assignment, results, within)
    notebooks.write(nb, folder / assignment.notebook)
    copy_records(submission.parent, folder, within)
    return folder


def open_gradebook(course: Course, db_url: str) -> Gradebook:
    """nbgrader's gradebook; a new one is set up first (nbgrader runs `alembic` by name for it, 2 s)."""
    os.environ["PATH"] = tool_env()["PATH"]
    return Gradebook(db_url, course_id=course.config.CourseDirectory.course_id)


def register_assignment(course: Course, assignment: Assignment, db_url: str) -> None:
    """Make the gradebook know the assignment's notebooks and grade cells.

    These are the steps of nbgrader's generate_assignment that touch the gradebook (checksums,
    then SaveCells), run in-process on the source notebook; a due date already set stays.
    """
    with open_gradebook(course, db_url) as gb:
        gb.update_or_create_assignment(assignment.id)
    resources = {"nbgrader": {"notebook": Path(assignment.notebook).stem, "assignment": assignment.id, "db_url": db_url}}
    nb = notebooks.read(assignment.path("source"))
    for step in (ComputeChecksums(), SaveCells()):
        nb, resources = step.preprocess(nb, resources)


@dataclass
class Rows:
    """What one student's gradebook rows will say: read and checked before anything is written."""

    timestamp: datetime | None
    scores: dict[str, float | None]  # grade cell -> auto score (None: for a person to grade)
    comments: dict[str, str | None]  # solution cell -> the checks' comment


def read_rows(gb: Gradebook, assignment: Assignment, folder: Path, results: Results) -> Rows:
    """The rows from the autograded notebook, by nbgrader's rules; raises if the gradebook lacks a cell."""
    notebook_id = Path(assignment.notebook).stem
    rows, by_exercise = Rows(read_timestamp(folder), {}, {}), results.by_exercise()
    for cell in notebooks.read(folder / assignment.notebook).cells:
        gid = grade_id(cell)
        if notebooks.is_grade(cell):
            gb.find_grade_cell(gid, notebook_id, assignment.id)
            rows.scores[gid] = utils.determine_grade(cell)[0]
        if notebooks.is_solution(cell):
            gb.find_solution_cell(gid, notebook_id, assignment.id)
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            rows.comments[gid] = NO_RESPONSE if unchanged else (comment(by_exercise.get(gid, []), results) or None)
    return rows


def save_rows(gb: Gradebook, course: Course, assignment: Assignment, student: str, rows: Rows) -> None:
    """One student's submission into the gradebook, as SaveAutoGrades and AssignLatePenalties would.

    A cell with a manual score keeps it and is flagged for review, as nbgrader does; a manually
    graded answer stays flagged. The caller commits.
    """
    notebook_id = Path(assignment.notebook).stem
    gb.update_or_create_student(student)
    submission = gb.update_or_create_submission(
        assignment.id, student, **({"timestamp": rows.timestamp} if rows.timestamp else {}))
    for name, score in rows.scores.items():
        grade = gb.find_grade(name, notebook_id, assignment.id, student)
        grade.auto_score = score
        grade.needs_manual_grade = grade.manual_score is not None or score is None
    for name, said in rows.comments.items():
        gb.find_comment(name, notebook_id, assignment.id, student).auto_comment = said
    gb.db.flush()
    gb.db.expire_all()  # the notebook's score is a query over the grades just set
    notebook = gb.find_submission_notebook(notebook_id, assignment.id, student)
    notebook.late_submission_penalty = None
    if submission.total_seconds_late > 0:
        policy = AssignLatePenalties(config=course.config)
        policy.init_plugin()
        penalty = policy.plugin_inst.late_submission_penalty(student, notebook.score, submission.total_seconds_late)
        notebook.late_submission_penalty = None if penalty is None else min(max(penalty, 0.0), notebook.score)


def read_timestamp(folder: Path) -> datetime | None:
    """collect's timestamp.txt as nbgrader reads it; None when absent or unreadable."""
    try:
        text = (folder / "timestamp.txt").read_text().strip()
        return utils.parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def write_gradebook(course: Course, assignment: Assignment, results: dict[str, Results], out: Path,
                    db_url: str) -> None:
    """One writer: each student's rows in one commit, or none of them; one student's failure stops no other.

    Everything that can be wrong with a student's files is found by read_rows, before any write
    (nbgrader's update_or_create_* helpers commit on their own).
    """
    register_assignment(course, assignment, db_url)
    failed = {}
    with warnings.catch_warnings(), Gradebook(db_url, course_id=course.config.CourseDirectory.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader 0.9.6's own autoflush notices
        for student, result in sorted(results.items()):
            try:
                rows = read_rows(gb, assignment, autograded_dir(course, out, student, assignment.id), result)
                save_rows(gb, course, assignment, student, rows)
                gb.db.commit()
            except Exception as err:
                gb.db.rollback()
                failed[student] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    if failed:
        listing = "; ".join(f"{student} ({why})" for student, why in sorted(failed.items()))
        raise RuntimeError(f"the gradebook rows of {len(failed)} students were not written: {listing}")
