"""A whole class, end to end: parallel workers, the real gradebook, nbgrader export, shards."""

import csv
import json
import statistics
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder import classroom
from autograder.runner import Options
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]
ASSIGNMENT = "02_gradient_tape"
# What each sample submission is, and what it must score.
EXPECTED = {
    "alice": 100,  # complete
    "bob": 25,     # make_line_data and mse only
    "carol": 0,    # blank: the release notebook as handed out
    "dave": 59,    # the lecture's slip: updates a alone (train_step's b, and fit_line's two results)
    "erin": 55,    # a closed-form fit_line: fit_line earns nothing
    "frank": 15,   # a syntax error in mse: mse, train_step and fit_line fail (fit_line cannot run, so its method earns nothing)
    "grace": 0,    # a text file, not a notebook
    "heidi": 100,  # complete, cells reordered, a helper cell added, a test cell tagged skip-execution
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("class")
    db = f"sqlite:///{out / 'gradebook.db'}"
    results = classroom.grade_class(course, ASSIGNMENT, course.root / "sample_class" / "submitted", out,
                                    jobs=2, options=Options(), db_url=db)
    return out, db, results


def test_every_student_gets_the_score_meant_for_their_submission(graded):
    _, _, results = graded
    assert {student: r.score for student, r in results.items()} == EXPECTED
    assert results["grace"].output == "regression.ipynb is not a notebook: it is not JSON text"


def test_gradebook_holds_one_result_per_submission_and_nbgrader_exports_it(course, graded):
    out, db, results = graded
    with Gradebook(db) as gb:
        assert {s.id for s in gb.students} == set(EXPECTED)
        for student, score in EXPECTED.items():
            assert gb.find_submission(ASSIGNMENT, student).score == score
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db={db}", f"--to={out / 'grades.csv'}"],
                          cwd=course.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader((out / "grades.csv").open())}
    assert rows == EXPECTED


def test_class_reports_and_feedback_are_written(graded):
    out, _, _ = graded
    folder = out / "grading" / ASSIGNMENT
    rows = list(csv.DictReader((folder / "class.csv").open()))
    assert [r["student"] for r in rows] == sorted(EXPECTED)
    assert (folder / "histogram.png").read_bytes()[:4] == b"\x89PNG"
    summary = (folder / "summary.md").read_text()
    assert "| fit_line: matches least squares on hidden data | 20 | 2/8 (25%) |" in summary
    assert f"median {statistics.median(EXPECTED.values()):g}," in summary  # 40: the mean of the middle two
    for student in EXPECTED:
        assert (folder / student / "feedback.html").exists() and (folder / student / "feedback.md").exists()
        assert (out / "autograded" / student / ASSIGNMENT / "regression.ipynb").exists()
        saved = json.loads((folder / student / "results.json").read_text())
        assert "execution" in saved["extra_data"]
    assert json.loads((folder / "alice" / "results.json").read_text())["extra_data"]["execution"]["peak_memory"] > 0


def test_shards_merge_into_the_same_class(course, graded, tmp_path):
    out, _, results = graded
    shards = []
    for index in (1, 2):
        shard_out = tmp_path / f"shard{index}"
        classroom.grade_class(course, ASSIGNMENT, course.root / "sample_class" / "submitted", shard_out,
                              jobs=2, options=Options(), shard=(index, 2))
        shards.append(shard_out)
    assert {p.parent.name for p in (shards[0] / "grading" / ASSIGNMENT).glob("*/results.json")} == {
        "alice", "carol", "erin", "grace"}
    merged_out = tmp_path / "merged"
    merged = classroom.finish(course, course.assignment(ASSIGNMENT), merged_out, f"sqlite:///{tmp_path / 'gradebook.db'}", shards)
    assert {s: r.score for s, r in merged.items()} == EXPECTED
    assert sorted(p.name for p in (merged_out / "autograded").iterdir()) == sorted(EXPECTED)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)} == EXPECTED
    assert (merged_out / "grading" / ASSIGNMENT / "class.csv").read_text() == (out / "grading" / ASSIGNMENT / "class.csv").read_text()


def test_parse_shard():
    assert classroom.parse_shard("2/5") == (2, 5)
    with pytest.raises(ValueError):
        classroom.parse_shard("6/5")
