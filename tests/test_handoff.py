"""The hand-off to nbgrader, without kernels: autograded notebooks and gradebook rows from given results."""

import os
from pathlib import Path

import pytest
from nbgrader import utils
from nbgrader.api import Gradebook
from traitlets.config import Config

from autograder import handoff, notebooks
from autograder.course import Course
from autograder.results import Results, TestResult

ASSIGNMENT = "02_gradient_tape"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_class" / "submitted"


def results_for(assignment, fraction: float) -> Results:
    """Two checks per exercise: the first passes, the second earns `fraction` of its points."""
    tests = []
    for exercise, points in ((e.id, e.points) for e in assignment.exercises):
        tests.append(TestResult(f"{exercise}: first", points / 2, points / 2, "passed", "", exercise))
        tests.append(TestResult(f"{exercise}: second <b>", round(points / 2 * fraction, 2), points / 2,
                                "passed" if fraction == 1 else "failed", "should be *close* to <x>", exercise))
    return Results(assignment.id, tests, 1.0, "your notebook ran without errors")


def grade_cells(nb):
    return [c for c in nb.cells if notebooks.is_grade(c)]


def test_grade_cells_show_the_checks_and_score_by_nbgraders_own_rule(course, tmp_path):
    assignment = course.assignment(ASSIGNMENT)
    release = notebooks.read(assignment.path("release"))
    results = results_for(assignment, 0.5)
    nb = handoff.autograded_notebook(SAMPLES / "heidi" / ASSIGNMENT / assignment.notebook, assignment, results)
    by_cell = results.subtotals()
    for cell in grade_cells(nb):
        assert utils.determine_grade(cell)[0] == pytest.approx(by_cell[assignment.exercise(cell.metadata.nbgrader["grade_id"]).id][0])
        shown = cell.outputs[0]["data"]["text/html"]
        assert "should be *close* to &lt;x&gt;" in shown and "second &lt;b&gt;" in shown  # escaped, never raw HTML
        assert cell.source == next(c.source for c in release.cells if c.get("id") == cell.get("id"))
    # heidi added a helper cell: it is kept, with an id of its own; her answers replace the stubs
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids)) and len(nb.cells) == len(release.cells) + 1
    assert "raise NotImplementedError()" not in "".join(c.source for c in nb.cells if notebooks.is_solution(c))


def test_an_unreadable_submission_leaves_the_stubs_and_scores_zero(course, tmp_path):
    assignment = course.assignment(ASSIGNMENT)
    release = notebooks.read(assignment.path("release"))
    results = results_for(assignment, 0.0)
    results.tests = [TestResult(t.name, 0, t.max_score, "failed", "not graded", t.exercise) for t in results.tests]
    nb = handoff.autograded_notebook(SAMPLES / "grace" / ASSIGNMENT / assignment.notebook, assignment, results)
    assert [c.source for c in nb.cells] == [c.source for c in release.cells]
    assert all(utils.determine_grade(c)[0] == 0 for c in grade_cells(nb))


@pytest.fixture
def late_course(tmp_path) -> Course:
    """The course, read with nbgrader's 'zero' late policy added to its config."""
    course = Course(Path(__file__).resolve().parents[1])
    config = Config(course.config)
    config.LateSubmissionPlugin.penalty_method = "zero"
    vars(course)["config"] = config  # where cached_property keeps it
    return course


def submit(out: Path, course, student: str, sample: str, results: Results, stamp: str | None) -> None:
    assignment = course.assignment(ASSIGNMENT)
    folder = out / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / assignment.notebook).write_bytes((SAMPLES / sample / ASSIGNMENT / assignment.notebook).read_bytes())
    if stamp:
        (folder / "timestamp.txt").write_text(stamp)
    os.symlink("/etc/passwd", folder / "submission_secret.txt")  # a link is never followed
    handoff.write_autograded(course, out, assignment, student, folder / assignment.notebook, results)


def test_gradebook_rows_flags_comments_timestamps_and_late_penalty(late_course, tmp_path):
    course, assignment = late_course, late_course.assignment(ASSIGNMENT)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    handoff.register_assignment(course, assignment, db)
    with Gradebook(db) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate="2026-01-10 12:00:00 UTC")
    full, half = results_for(assignment, 1.0), results_for(assignment, 0.5)
    submit(tmp_path, course, "early", "alice", full, "2026-01-09 08:00:00.000000 UTC")
    submit(tmp_path, course, "late", "alice", half, "2026-01-11 08:00:00.000000 UTC")
    submit(tmp_path, course, "blank", "carol", results_for(assignment, 0.0), None)
    assert not (tmp_path / "autograded" / "early" / ASSIGNMENT / "submission_secret.txt").exists()
    handoff.write_gradebook(course, assignment, {"early": full, "late": half, "blank": results_for(assignment, 0.0)},
                            tmp_path, db)
    with Gradebook(db) as gb:
        early = gb.find_submission_notebook("regression", ASSIGNMENT, "early")
        late = gb.find_submission_notebook("regression", ASSIGNMENT, "late")
        assert early.score == 100 and late.score == half.score
        assert not any(g.needs_manual_grade for g in early.grades + late.grades)
        assert early.late_submission_penalty is None and late.late_submission_penalty == late.score
        assert str(gb.find_submission(ASSIGNMENT, "early").timestamp) == "2026-01-09 08:00:00"
        assert gb.find_submission(ASSIGNMENT, "blank").timestamp is None
        said = gb.find_comment("fit_line", "regression", ASSIGNMENT, "late").comment
        assert said.splitlines()[1] == "- ✗ fit_line: second <b> (11.25/22.5): should be *close* to <x>"
        assert gb.find_comment("fit_line", "regression", ASSIGNMENT, "blank").comment == handoff.NO_RESPONSE
        # a score entered by hand stays through a regrade, and is flagged for review as nbgrader does
        gb.find_grade("mse_tests", "regression", ASSIGNMENT, "early").manual_score = 3
        gb.db.commit()
    handoff.write_gradebook(course, assignment, {"early": full}, tmp_path, db)
    with Gradebook(db) as gb:
        grade = gb.find_grade("mse_tests", "regression", ASSIGNMENT, "early")
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (3, 10, True)
        assert len(list(gb.assignment_submissions(ASSIGNMENT))) == 3


def test_a_student_whose_rows_cannot_be_written_leaves_no_half(course, tmp_path):
    assignment = course.assignment(ASSIGNMENT)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    results = results_for(assignment, 1.0)
    submit(tmp_path, course, "ok", "alice", results, None)
    submit(tmp_path, course, "broken", "alice", results, None)
    path = handoff.autograded_dir(course, tmp_path, "broken", ASSIGNMENT) / assignment.notebook
    nb = notebooks.read(path)
    nb.cells[-1].metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "nowhere", "points": 1}
    nb.cells[-1].cell_type, nb.cells[-1].outputs, nb.cells[-1].execution_count = "code", [], None
    notebooks.write(nb, path)  # a grade cell the gradebook does not know: find_grade fails midway
    with pytest.raises(RuntimeError, match="rows of 1 students were not written: broken"):
        handoff.write_gradebook(course, assignment, {"ok": results, "broken": results}, tmp_path, db)
    with Gradebook(db) as gb:
        assert gb.find_submission(ASSIGNMENT, "ok").score == 100
        assert not [s for s in gb.assignment_submissions(ASSIGNMENT) if s.student.id == "broken"]
