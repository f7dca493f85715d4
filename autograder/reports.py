"""Writers from one Results: Gradescope's results.json, JUnit XML, a Points line, feedback pages."""

from __future__ import annotations

import html
import json
from pathlib import Path
from xml.etree import ElementTree as ET

from .results import Results


def write_results_json(results: Results, path: Path) -> None:
    path.write_text(json.dumps(results.to_gradescope(), indent=1))


def points_line(results: Results) -> str:
    """The line GitHub Classroom's reporter reads."""
    return f"Points {results.score:g}/{results.max_score:g}"


def write_junit(results: Results, path: Path) -> None:
    suite = ET.Element("testsuite", name=results.assignment, tests=str(len(results.tests)),
                       failures=str(sum(t.status == "failed" and not t.skipped for t in results.tests)),
                       skipped=str(sum(bool(t.skipped) for t in results.tests)),
                       time=f"{results.execution_time:.2f}")
    for test in results.tests:
        case = ET.SubElement(suite, "testcase", classname=test.grade_id, name=test.name)
        ET.SubElement(case, "properties").append(
            ET.Element("property", name="score", value=f"{test.score:g}/{test.max_score:g}"))
        if test.skipped:
            ET.SubElement(case, "skipped", message=test.skipped)
        elif test.status == "failed":
            ET.SubElement(case, "failure", message=test.output)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def feedback_markdown(results: Results) -> str:
    lines = [f"# Feedback: {results.assignment}", "", f"**Score: {results.score:g} / {results.max_score:g}**", ""]
    if results.output:
        lines += [f"*How your notebook ran:* {results.output}", ""]
    lines += ["| check | points | result |", "|---|---|---|"]
    for test in results.tests:
        verdict = "passed" if test.status == "passed" and not test.skipped else (test.output or test.status)
        lines.append(f"| {test.name} | {test.score:g} / {test.max_score:g} | {verdict.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def feedback_html(results: Results) -> str:
    rows = "".join(
        f"<tr class='{'ok' if t.status == 'passed' else 'no'}'><td>{html.escape(t.name)}</td>"
        f"<td>{t.score:g} / {t.max_score:g}</td>"
        f"<td>{html.escape('passed' if t.status == 'passed' and not t.skipped else t.output or t.status)}</td></tr>"
        for t in results.tests
    )
    return (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>Feedback: {html.escape(results.assignment)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "td{border:1px solid #ccc;padding:.3em .6em}.ok td:last-child{color:#070}.no td:last-child{color:#a00}</style>"
        f"<h1>Feedback: {html.escape(results.assignment)}</h1>"
        f"<p><b>Score: {results.score:g} / {results.max_score:g}</b></p>"
        f"<p><i>How your notebook ran:</i> {html.escape(results.output)}</p>"
        f"<table><tr><th>check</th><th>points</th><th>result</th></tr>{rows}</table>"
    )


def write_feedback(results: Results, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.md").write_text(feedback_markdown(results))
    (folder / "feedback.html").write_text(feedback_html(results))
