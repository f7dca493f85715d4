"""The result model and its writers: Gradescope JSON, JUnit XML, Points line, feedback."""

import json
from xml.etree import ElementTree as ET

from autograder import reports
from autograder.results import Results, TestResult


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
    assert results.by_grade_cell() == {"mse": (7, 7), "fit_line": (2.5, 25), "on_device": (10, 10)}


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
    assert "<td>fit_line: matches least squares</td>" in (tmp_path / "feedback.html").read_text()
