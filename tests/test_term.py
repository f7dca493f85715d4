"""A whole term through nbgrader's own commands, in a temp copy of the course with its own exchange.

release_assignment → students fetch_assignment and submit (one twice, one after the due date) →
collect → autograder grade-class → gradebook, export → formgrader in headless Chromium →
generate_feedback, release_feedback, fetch_feedback → a regrade of two students. The instructor
also added a free-text answer, graded by hand, to show that it is left for formgrader.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from nbformat.v4 import new_markdown_cell
from nbgrader import utils
from nbgrader.api import Gradebook

from autograder import notebooks
from autograder.course import tool_env
from autograder.diagnose import NOT_ATTEMPTED
from autograder.sanitize import match
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]
ASSIGNMENT = "02_gradient_tape"
NOTEBOOK = "regression"
COURSE_ID = "deep-learning-tf"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_class" / "submitted"
FREE_TEXT = "explain_step"  # the manually graded cell the instructor adds
FREE_TEXT_POINTS = 5
# Who submits what: answers from the sample class, and what the hidden checks give them.
ANSWERS = {"alice": "alice", "bob": "bob", "dave": "dave"}
AUTO = {"alice": 100, "bob": 25, "dave": 59}
needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                                    reason="headless Chromium is not installed here (CI installs it)")


def run(command: list[str], cwd: Path, check: bool = True, home: Path | None = None) -> subprocess.CompletedProcess:
    env = tool_env() | ({"HOME": str(home)} if home else {})
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


def nbgrader(*args: str, cwd: Path, exchange: Path | None = None, student: str | None = None) -> subprocess.CompletedProcess:
    """An nbgrader command as a person types it.

    Students name the course and the exchange on the command line, and each has a home of their
    own (nbgrader keeps a student's submissions in a cache there).
    """
    extra = [f"--Exchange.root={exchange}", f"--course={COURSE_ID}"] if exchange else []
    extra += [f"--student={student}"] if student else []
    return run([sys.executable, "-m", "nbgrader", *args, *extra], cwd, home=cwd if exchange else None)


def autograder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run([str(Path(sys.executable).with_name("autograder")), *args], cwd)


def add_free_text_cell(course: Path) -> None:
    """What an instructor does with nbgrader's Create Assignment toolbar: a manually graded answer."""
    path = course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = notebooks.read(path)
    cell = new_markdown_cell("In two sentences: why does `train_step` return the loss *before* the update?\n\n"
                             "### BEGIN SOLUTION\nThe tape records the forward pass first.\n### END SOLUTION")
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "task": False,
                                 "grade_id": FREE_TEXT, "points": FREE_TEXT_POINTS, "schema_version": 3}
    nb.cells.append(cell)
    notebooks.write(nb, path)


def answer(fetched: Path, sample: Path, free_text: str | None) -> None:
    """Fill the fetched notebook with a sample student's solution cells (and maybe the free-text answer)."""
    nb = notebooks.read(fetched)
    solutions = match(notebooks.read(sample), nb).solutions
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in solutions:
            cell.source = solutions[gid].source
        if gid == FREE_TEXT and free_text:
            cell.source = free_text
    notebooks.write(nb, fetched)


def set_due_date(course: Path, when: datetime) -> None:
    nbgrader("db", "assignment", "add", ASSIGNMENT, f"--duedate={when:%Y-%m-%d %H:%M:%S.%f} UTC", cwd=course)


@pytest.fixture(scope="module")
def term(course, tmp_path_factory):
    base = tmp_path_factory.mktemp("term")
    root, exchange, samples = base / "course", base / "exchange", SAMPLES
    root.mkdir()
    for name in ("source", "release", "exercises"):
        shutil.copytree(course.root / name, root / name)
    shutil.copy(course.root / "nbgrader_config.py", root)
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n"
                     "c.CollectApp.check_owner = False  # the test's students are all root\n"
                     "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)

    add_free_text_cell(root)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    set_due_date(root, datetime(2099, 1, 1, tzinfo=timezone.utc))
    nbgrader("release_assignment", ASSIGNMENT, cwd=root)

    homes = {}
    for student in ANSWERS:
        homes[student] = base / "students" / student
        homes[student].mkdir(parents=True)
        nbgrader("fetch_assignment", ASSIGNMENT, cwd=homes[student], exchange=exchange)
    fetched = {s: home / ASSIGNMENT / f"{NOTEBOOK}.ipynb" for s, home in homes.items()}

    nbgrader("submit", ASSIGNMENT, cwd=homes["alice"], exchange=exchange, student="alice")  # the blank one first
    answer(fetched["alice"], samples / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", "Because the tape watches the loss.")
    nbgrader("submit", ASSIGNMENT, cwd=homes["alice"], exchange=exchange, student="alice")
    answer(fetched["bob"], samples / "bob" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", None)
    nbgrader("submit", ASSIGNMENT, cwd=homes["bob"], exchange=exchange, student="bob")
    due = datetime.now(timezone.utc)
    set_due_date(root, due)
    time.sleep(1.0)
    answer(fetched["dave"], samples / "dave" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", None)
    nbgrader("submit", ASSIGNMENT, cwd=homes["dave"], exchange=exchange, student="dave")

    nbgrader("collect", ASSIGNMENT, cwd=root)
    started = time.monotonic()
    autograder("grade-class", ASSIGNMENT, "--jobs", "2", cwd=root)
    return {"root": root, "exchange": exchange, "homes": homes, "fetched": fetched, "due": due,
            "db": f"sqlite:///{root / 'gradebook.db'}", "grading_seconds": time.monotonic() - started}


def results_of(term, student: str) -> dict:
    return json.loads((term["root"] / "grading" / ASSIGNMENT / student / "results.json").read_text())


def test_collect_kept_the_latest_submission_and_it_was_graded(term):
    assert {s: results_of(term, s)["score"] for s in ANSWERS} == AUTO


def test_gradebook_holds_scores_flags_timestamps_and_the_late_penalty(course, term):
    root, assignment = term["root"], course.assignment(ASSIGNMENT)
    with Gradebook(term["db"]) as gb:
        for student, auto in AUTO.items():
            submission = gb.find_submission(ASSIGNMENT, student)
            notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            stamp = (root / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()
            assert submission.timestamp == utils.parse_utc(stamp)
            by_cell = {t["tags"][0]: 0.0 for t in results_of(term, student)["tests"]}
            for test in results_of(term, student)["tests"]:
                by_cell[test["tags"][0]] += test["score"]
            for grade in notebook.grades:
                if grade.name == FREE_TEXT:
                    continue
                assert grade.auto_score == pytest.approx(by_cell[assignment.exercise(grade.name).id])
                assert grade.needs_manual_grade is False, f"{student}: {grade.name} is flagged for manual grading"
            assert notebook.score == auto
            assert len([s for s in gb.find_student(student).submissions if s.assignment.name == ASSIGNMENT]) == 1
        free = {s: gb.find_grade(FREE_TEXT, NOTEBOOK, ASSIGNMENT, s) for s in AUTO}
        assert (free["alice"].auto_score, free["alice"].needs_manual_grade) == (None, True)  # answered: for formgrader
        assert (free["bob"].auto_score, free["bob"].needs_manual_grade) == (0, False)  # left blank: nbgrader's rule
        assert gb.find_submission(ASSIGNMENT, "dave").total_seconds_late > 0
        assert gb.find_submission(ASSIGNMENT, "bob").total_seconds_late == 0
        penalties = {s: gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).late_submission_penalty for s in AUTO}
        assert penalties == {"alice": None, "bob": None, "dave": AUTO["dave"]}  # the 'zero' policy


def test_nbgrader_export_totals(term):
    out = term["root"] / "grades.csv"
    nbgrader("export", f"--to={out}", cwd=term["root"])
    rows = {row["student_id"]: row for row in csv.DictReader(out.open()) if row["assignment"] == ASSIGNMENT}
    assert {s: float(r["raw_score"]) for s, r in rows.items()} == AUTO
    assert {s: float(r["score"]) for s, r in rows.items()} == {"alice": 100, "bob": 25, "dave": 0}
    assert {float(r["max_score"]) for r in rows.values()} == {100 + FREE_TEXT_POINTS}


@pytest.fixture(scope="module")
def formgrader(term):
    """A real Jupyter server with nbgrader's formgrader, on a loopback port, in the graded course.

    Without a token: formgrader's pages fetch its API by XHR, which a token in the URL does not
    authenticate, and the server listens on 127.0.0.1 only, for the length of this test.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (term["root"].parent / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", f"--ServerApp.root_dir={term['root']}"],
        cwd=term["root"], env=tool_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            assert server.poll() is None, (term["root"].parent / "server.log").read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def browse(url: str, screenshot: Path) -> str:
    """The page's DOM after its scripts ran, in headless Chromium, and a screenshot of it."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=15000",
             "--window-size=1280,1000", f"--user-data-dir={screenshot.parent / 'chromium-profile'}"]
    dom = run(["chromium", *flags, "--dump-dom", url], screenshot.parent).stdout
    run(["chromium", *flags, f"--screenshot={screenshot}", url], screenshot.parent)
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
    return dom


def text_of(dom: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom)))


@needs_chromium
def test_formgrader_shows_the_autograders_scores_in_a_browser(term, formgrader, tmp_path):
    url = formgrader
    page = text_of(browse(f"{url}/formgrader/manage_submissions/{ASSIGNMENT}", tmp_path / "submissions.png"))
    shutil.copy(tmp_path / "submissions.png", term["root"].parent / "formgrader-submissions.png")
    for student, auto in AUTO.items():
        row = re.search(rf"{student} (.*?) (\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)", page)
        assert row, f"no row for {student} in: {page[:1500]}"
        assert float(row.group(2)) == auto and float(row.group(3)) == 100 + FREE_TEXT_POINTS
    assert page.count("needs manual grading") == 1, "only alice's free-text answer waits for a person"
    assert page.count("needs autograding") == 0
    assert page.count(" graded ") >= 2

    with Gradebook(term["db"]) as gb:
        submission_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "bob").id
    page = text_of(browse(f"{url}/formgrader/submissions/{submission_id}/", tmp_path / "bob.png"))
    for test in results_of(term, "bob")["tests"]:
        assert test["name"] in page
        if test["status"] == "failed":
            assert test["output"] in page


def fetched_feedback(term, student: str) -> str:
    pages = list((term["homes"][student] / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text()


def test_feedback_round_trip_through_nbgrader(term, course, tmp_path):
    root, exchange = term["root"], term["exchange"]
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    nbgrader("release_feedback", ASSIGNMENT, cwd=root)
    check_code = {line.strip() for module in (course.root / "exercises" / ASSIGNMENT).glob("*.py")
                  for line in module.read_text().splitlines()
                  if len(line.strip()) > 25 and not line.strip().startswith(('"', "'", 'f"'))}
    for student in AUTO:
        nbgrader("fetch_feedback", ASSIGNMENT, cwd=term["homes"][student], exchange=exchange, student=student)
        page = fetched_feedback(term, student)
        shown = text_of(page)
        total = AUTO[student] - (AUTO[student] if student == "dave" else 0)
        assert re.search(rf"Score: {total}(\.0)? / {100 + FREE_TEXT_POINTS}", shown), shown[:500]
        results = results_of(term, student)
        for test in results["tests"]:
            assert test["name"] in shown
            if test["status"] == "failed":
                assert test["output"] in shown, test["name"]
        # the kit's own page says the same about the hidden checks
        kit = text_of((root / "grading" / ASSIGNMENT / student / "feedback.html").read_text())
        assert f"Score: {results['score']:g} / {results['max_score']:g}" in kit
        assert all(t["name"] in kit or t["output"] == NOT_ATTEMPTED for t in results["tests"])
        assert not [line for line in check_code if line in page], "feedback must not show the checks' code"
    if shutil.which("chromium"):  # what dave sees when he opens the page
        pages = list((term["homes"]["dave"] / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
        seen = text_of(browse(pages[0].as_uri(), tmp_path / "dave-feedback.png"))
        assert "Late submission penalty" in seen and "Hidden checks: 19 / 30 points" in seen


def test_regrading_two_students_leaves_everyone_else_untouched(term):
    root, exchange = term["root"], term["exchange"]
    with Gradebook(term["db"]) as gb:  # the instructor grades alice's free-text answer in formgrader
        gb.find_grade(FREE_TEXT, NOTEBOOK, ASSIGNMENT, "alice").manual_score = 4
        gb.db.commit()
    dave_files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in
                  [*(root / "grading" / ASSIGNMENT / "dave").iterdir(), *(root / "autograded" / "dave").rglob("*.*")]}
    with Gradebook(term["db"]) as gb:
        dave_before = [(g.name, g.auto_score, g.needs_manual_grade) for g in
                       gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "dave").grades]

    # bob finishes his work after all and submits again; collect --update keeps the new one
    answer(term["fetched"]["bob"], SAMPLES / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", None)
    nbgrader("submit", ASSIGNMENT, cwd=term["homes"]["bob"], exchange=exchange, student="bob")
    nbgrader("collect", ASSIGNMENT, "--update", cwd=root)
    autograder("grade-class", ASSIGNMENT, "--student", "bob", "--student", "alice", cwd=root)

    assert results_of(term, "bob")["score"] == 100
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in dave_files} == dave_files
    with Gradebook(term["db"]) as gb:
        assert [(g.name, g.auto_score, g.needs_manual_grade) for g in
                gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "dave").grades] == dave_before
        alice = gb.find_grade(FREE_TEXT, NOTEBOOK, ASSIGNMENT, "alice")
        assert alice.manual_score == 4 and alice.score == 4  # the instructor's grade survives the regrade
        assert gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "alice").score == 104
        bob = gb.find_submission(ASSIGNMENT, "bob")
        stamp = (root / "submitted" / "bob" / ASSIGNMENT / "timestamp.txt").read_text().strip()
        assert bob.timestamp == utils.parse_utc(stamp) and bob.total_seconds_late > 0  # bob's new one came late
        assert gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "bob").late_submission_penalty == 100
        assert sum(1 for s in gb.assignment_submissions(ASSIGNMENT)) == 3
    lines = (root / "grading" / ASSIGNMENT / "class.csv").read_text().splitlines()
    assert len(lines) == 4 and sorted(line.split(",")[0] for line in lines[1:]) == sorted(AUTO)
