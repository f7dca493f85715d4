"""The result model and its writers: Gradescope JSON, JUnit XML, Points line, feedback."""

import json
import shutil
import subprocess
from xml.etree import ElementTree as ET

import pytest

from autograder import reports
from autograder.diagnose import NOT_ATTEMPTED, CellError, diagnose
from autograder.results import Results, TestResult
from autograder.sanitize import Cell


def sample() -> Results:
    return Results("02_gradient_tape", [
        TestResult("mse: equals the mean squared error", 7, 7, "passed", "", "mse"),
        TestResult("fit_line: matches least squares", 0, 20, "failed", "(a, b) should be close to least squares", "fit_line"),
        TestResult("on_device: lives on the GPU", 10, 10, "passed", "not checked: no GPU", "on_device",
                   {"skipped": "no GPU on the grading machine"}),
        TestResult("fit_line: returns two floats", 2.5, 5, "failed", "partial", "fit_line"),
    ], execution_time=12.345, output="your notebook ran without errors")


def test_gradescope_json_has_the_fields_gradescope_reads(tmp_path):
    path = tmp_path / "results.json"
    reports.write_results_json(sample(), path)
    data = json.loads(path.read_text())
    assert data["score"] == 19.5 and data["max_score"] == 42 and data["execution_time"] == 12.35
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "passed", "failed"]
    assert data["tests"][2]["extra_data"] == {"skipped": "no GPU on the grading machine"}
    assert "extra_data" not in data["tests"][0]
    assert all(t["name"].split(":")[0] in {"mse", "fit_line", "on_device"} for t in data["tests"])


def test_points_line_and_grade_cells():
    results = sample()
    assert reports.points_line(results) == "Points 19.5/42"
    assert results.subtotals() == {"mse": (7, 7), "fit_line": (2.5, 25), "on_device": (10, 10)}


def test_junit_marks_failures_and_skips(tmp_path):
    path = tmp_path / "junit.xml"
    reports.write_junit(sample(), path)
    suite = ET.parse(path).getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert suite.find("testcase[2]/failure").get("message") == "(a, b) should be close to least squares"


def test_feedback_says_what_failed_in_words(tmp_path):
    reports.write_feedback(sample(), tmp_path)
    text = (tmp_path / "feedback.md").read_text()
    assert "**Score: 19.5 / 42**" in text and "(a, b) should be close to least squares" in text
    assert "✗ fit_line: matches least squares</td>" in (tmp_path / "feedback.html").read_text()
    assert "| ✅ | `mse` | 7 / 7 |" in text and "### `fit_line`: 2.5 / 25" in text


def cascade() -> Results:
    """A syntax error in mse: its own checks and train_step's fail through it; fit_line is a stub."""
    cell = Cell("def mse(a, b, x, y):\n    return tf.reduce_mean((a + b * x - y) ** 2\n", "solution", "mse", 7)
    raw = [
        {"exercise": "mse", "name": "mse: value", "points": 7, "score": 0, "status": "failed",
         "message": "your code raised NameError: mse is not defined", "error": {"kind": "NameError", "message": "mse is not defined"}},
        {"exercise": "train_step", "name": "train_step: moves a", "points": 11, "score": 0, "status": "failed",
         "message": "your code raised NameError: name 'mse' is not defined",
         "error": {"kind": "NameError", "message": "name 'mse' is not defined", "function": "train_step"}},
        {"exercise": "train_step", "name": "train_step: a scalar", "points": 3, "score": 3, "status": "passed", "message": ""},
        {"exercise": "fit_line", "name": "fit_line: least squares", "points": 20, "score": 0, "status": "failed",
         "message": "your code raised NotImplementedError", "error": {"kind": "NotImplementedError", "function": "fit_line"}},
        {"exercise": "predict", "name": "predict: calls fit_line", "points": 5, "score": 0, "status": "failed",
         "message": "your code raised NotImplementedError", "error": {"kind": "NotImplementedError", "function": "fit_line"}},
    ]
    causes = diagnose(raw, [CellError(cell, "SyntaxError", "'(' was never closed (123.py, line 2)")], {"fit_line": {"fit_line"}})
    tests = [TestResult(c["name"], c["score"], c["points"], c["status"], c["message"], c["exercise"],
                        {"cause": c["cause"]} if "cause" in c else {}) for c in raw]
    return Results("02_gradient_tape", tests, 3.0, "your mse cell has a syntax error", causes=causes)


def test_one_root_cause_leads_with_the_students_own_line_and_collects_what_it_broke():
    results = cascade()
    assert results.causes == ["your mse cell has a syntax error (cell 7, line 2): "
                              "`return tf.reduce_mean((a + b * x - y) ** 2`",
                              "you have not written `fit_line` yet, and this code calls it"]
    assert [t.cause for t in results.tests] == [0, 0, None, None, 1]
    assert results.tests[3].output == NOT_ATTEMPTED
    text = reports.feedback_markdown(results)
    assert text.index("## Fix this first") < text.index("## Exercises")
    assert "2 checks fail because of it (mse, train_step)" in text
    assert text.count(NOT_ATTEMPTED) == 1, "a stub is said once, not once per check"
    assert "| ❌ | `train_step` | 3 / 14 |" in text and "1 check fails because of it (predict)" in text
    assert Results.from_gradescope(results.to_gradescope(), results.assignment).causes == results.causes


def test_the_feedback_page_reads_well_in_a_browser(tmp_path):
    if not shutil.which("chromium"):
        pytest.skip("headless Chromium is not installed here (CI installs it)")
    reports.write_feedback(cascade(), tmp_path)
    page, shot = tmp_path / "feedback.html", tmp_path / "feedback.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,900",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60).stdout
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=60)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    assert "Fix this first" in dom and "class=\"fix\"" in dom and "Score: 3 / 46" in dom
