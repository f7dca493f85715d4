"""Writers from one Results: Gradescope's results.json, JUnit XML, a Points line, feedback pages."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from .diagnose import NOT_ATTEMPTED
from .results import Results, TestResult


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
        case = ET.SubElement(suite, "testcase", classname=test.exercise, name=test.name)
        ET.SubElement(case, "properties").append(
            ET.Element("property", name="score", value=f"{test.score:g}/{test.max_score:g}"))
        if test.skipped:
            ET.SubElement(case, "skipped", message=test.skipped)
        elif test.status == "failed":
            ET.SubElement(case, "failure", message=test.output)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


@dataclass
class Exercise:
    """One exercise as the feedback shows it: subtotal, and its checks unless it was not attempted."""

    name: str
    score: float
    max_score: float
    tests: list[TestResult]

    @property
    def not_attempted(self) -> bool:
        return all(t.output == NOT_ATTEMPTED for t in self.tests)

    @property
    def state(self) -> str:
        return "passed" if self.score >= self.max_score else "none" if self.not_attempted else "failed"


def exercises(results: Results) -> list[Exercise]:
    subtotals = results.subtotals()
    return [Exercise(gid, *subtotals[gid], tests) for gid, tests in results.by_exercise().items()]


def causes_behind(results: Results, tests: list[TestResult]) -> list[str]:
    """The root causes of these tests' failures, each once, in order."""
    return [results.causes[i] for i in dict.fromkeys(t.cause for t in tests if t.cause is not None)]


def verdict(test: TestResult) -> str:
    """What a check says: passed, not checked (and why), or what it expected."""
    if test.status == "passed" and not test.skipped:
        return "passed"
    return test.output or test.status


def broken_by(results: Results, index: int) -> list[TestResult]:
    return [t for t in results.tests if t.cause == index]


def fail_count(broken: list[TestResult]) -> str:
    names = ", ".join(dict.fromkeys(t.exercise for t in broken))
    return f"{len(broken)} check{'s fail' if len(broken) != 1 else ' fails'} because of it ({names})"


EMOJI = {"passed": "✅", "failed": "❌", "none": "⬜", "skipped": "➖"}  # GitHub renders these everywhere
SYMBOL = {"passed": "✓", "failed": "✗", "none": "○", "skipped": "–"}  # in every font a browser has


def state(test: TestResult) -> str:
    return "passed" if verdict(test) == "passed" else "skipped" if test.skipped else "failed"


def inline_code(text: str) -> str:
    """Escaped text with `backticks` shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def feedback_markdown(results: Results) -> str:
    """For a student, on GitHub (a job summary, a pull request) or any Markdown viewer."""
    lines = [f"# Feedback: {results.assignment}", "", f"**Score: {results.score:g} / {results.max_score:g}**", ""]
    if results.output:
        lines += [f"*How your notebook ran:* {results.output}", ""]
    if results.causes:
        lines += ["## Fix this first", ""]
        for index, cause in enumerate(results.causes):
            broken = broken_by(results, index)
            lines += [f"{index + 1}. **{cause}**", "", f"   <details><summary>{fail_count(broken)}</summary>", ""]
            lines += [f"   - {t.name} ({t.score:g} / {t.max_score:g}): {verdict(t)}" for t in broken]
            lines += ["", "   </details>", ""]
    lines += ["## Exercises", "", "| | exercise | points |", "|---|---|---|"]
    lines += [f"| {EMOJI[e.state]} | `{e.name}` | {e.score:g} / {e.max_score:g} |" for e in exercises(results)]
    for exercise in exercises(results):
        lines += ["", f"### `{exercise.name}`: {exercise.score:g} / {exercise.max_score:g}", ""]
        if exercise.not_attempted:
            lines.append(f"{EMOJI['none']} {NOT_ATTEMPTED}.")
            continue
        for t in exercise.tests:
            mark = EMOJI[state(t)]
            said = f" — see *Fix this first* ({t.cause + 1})" if t.cause is not None else \
                "" if verdict(t) == "passed" else f" — {verdict(t)}"
            lines.append(f"- {mark} {t.name.replace('|', '/')} ({t.score:g} / {t.max_score:g}){said}")
    return "\n".join(lines) + "\n"


STYLE = """
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#1f2328}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
.score{font-size:1.3em;font-weight:600}.ran{color:#57606a}
.fix{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.6em 1em;margin:.6em 0}
.fix b{display:block}details{margin-top:.3em;color:#57606a}summary{cursor:pointer}
table{border-collapse:collapse;width:100%;table-layout:fixed}td.name{width:50%}td,th{padding:.35em .6em;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
.ex{margin:1.2em 0 .4em;font-weight:600}.pts{white-space:nowrap;text-align:right;width:6em}
.passed{color:#1a7f37}.failed{color:#cf222e}.none,.skipped{color:#57606a}code{background:#f6f8fa;padding:0 .25em;border-radius:4px}
"""


def feedback_html(results: Results) -> str:
    """For a student's browser: the same content as the Markdown, on one self-contained page."""
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Feedback: {e(results.assignment)}</title>",
             f"<style>{STYLE}</style><h1>Feedback: {e(results.assignment)}</h1>",
             f"<p class='score'>Score: {results.score:g} / {results.max_score:g}</p>"]
    if results.output:
        parts.append(f"<p class='ran'>How your notebook ran: {e(results.output)}</p>")
    if results.causes:
        parts.append("<h2>Fix this first</h2>")
        for index, cause in enumerate(results.causes):
            broken = broken_by(results, index)
            items = "".join(f"<li>{e(t.name)} ({t.score:g} / {t.max_score:g}): {e(verdict(t))}</li>" for t in broken)
            parts.append(f"<div class='fix'><b>{index + 1}. {inline_code(cause)}</b><details><summary>"
                         f"{e(fail_count(broken))}</summary><ul>{items}</ul></details></div>")
    parts.append("<h2>Exercises</h2>")
    for exercise in exercises(results):
        parts.append(f"<p class='ex {exercise.state}'>{SYMBOL[exercise.state]} <code>{e(exercise.name)}</code>: "
                     f"{exercise.score:g} / {exercise.max_score:g}</p>")
        if exercise.not_attempted:
            parts.append(f"<p class='none'>{e(NOT_ATTEMPTED)}.</p>")
            continue
        rows = []
        for t in exercise.tests:
            said = f"see <i>Fix this first</i> ({t.cause + 1})" if t.cause is not None else e(verdict(t))
            rows.append(f"<tr><td class='name'>{SYMBOL[state(t)]} {e(t.name)}</td><td class='pts'>{t.score:g} / "
                        f"{t.max_score:g}</td><td class='{state(t)}'>{said}</td></tr>")
        parts.append(f"<table>{''.join(rows)}</table>")
    return "".join(parts) + "</html>"


def write_feedback(results: Results, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.md").write_text(feedback_markdown(results))
    (folder / "feedback.html").write_text(feedback_html(results))
