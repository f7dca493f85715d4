"""The hostile corpus (tests/hostile.py) graded as one class, mixed with good submissions.

Every case must end as its table row says, with a one-line summary; good submissions keep their
grades; the gradebook holds one result per submission; nothing outlives grading, nothing is
written outside scratch, nothing reaches the network, and no feedback shows check or solution code.
"""

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from autograder import classroom, notebooks
from autograder.runner import Options
from autograder.sandbox import GiB, Limits
from hostile import CASES, REGRESSION, Context
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]
LIMITS = Limits(cell_seconds=20, notebook_seconds=150, memory_bytes=2 * GiB, disk_bytes=1 * GiB)
BOUND_SECONDS = LIMITS.notebook_seconds + 180  # the notebook's limit, then the checks (each call within its limit)
# What a process of a submission's grading looks like: its sandbox, kernel, checks, and what cases start.
SUBMISSION_PROCESSES = ("bwrap", "ipykernel", "autograder.checks", "autograder.forkserver", "sleep 987654", "sleep 600")
GOOD = {"alice": 100, "bob": 25, "dave": 59}  # sample class submissions mixed in, with their known scores


class Listener:
    """A loopback server (IPv4 and IPv6) that records every connection it gets."""

    def __init__(self):
        self.connections = []
        self.sockets = [socket.create_server(("127.0.0.1", 0))]
        self.port = self.sockets[0].getsockname()[1]
        try:
            self.sockets.append(socket.create_server(("::1", self.port), family=socket.AF_INET6))
        except OSError:
            pass
        for s in self.sockets:
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, server):
        while True:
            try:
                connection, address = server.accept()
            except OSError:
                return
            self.connections.append(address)
            connection.close()

    def close(self):
        for s in self.sockets:
            s.close()


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    submitted, out = base / "submitted", base / "out"
    for student in GOOD:
        target = submitted / f"good-{student}" / REGRESSION
        shutil.copytree(course.root / "sample_class" / "submitted" / student / REGRESSION, target)
    tag = uuid.uuid4().hex[:8]
    other = submitted / "good-alice" / REGRESSION / "regression.ipynb"
    markers = [course.root / f"hostile-{tag}", course.root / "exercises" / REGRESSION / f"hostile-{tag}.py",
               other.parent / f"hostile-{tag}", Path("/tmp") / f"hostile-{tag}", Path.home() / f"hostile-{tag}"]
    listener = Listener()
    ctx = Context(course.root, other, markers, listener.port)
    for case in CASES:
        made = case.build(notebooks.read(course.assignment(case.assignment).path("source")), ctx)
        folder = submitted / case.name / case.assignment
        folder.mkdir(parents=True)
        path = folder / (case.filename or course.assignment(case.assignment).notebook)
        if isinstance(made, bytes):
            path.write_bytes(made)
        else:
            notebooks.write(made, path)
    db = f"sqlite:///{base / 'gradebook.db'}"
    before = {p.pid for p in psutil.process_iter()}
    results = {}
    try:
        for assignment in sorted({case.assignment for case in CASES}):
            graded = classroom.grade_class(course, assignment, submitted, out, jobs=2,
                                           options=Options(limits=LIMITS), db_url=db)
            results.update({(student, assignment): r for student, r in graded.items()})
    finally:
        listener.close()
    leftovers = [" ".join(p.cmdline()) for p in psutil.process_iter()
                 if p.pid not in before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                 and any(mark in " ".join(p.cmdline()) for mark in SUBMISSION_PROCESSES)]
    return {"results": results, "out": out, "db": db, "markers": markers, "listener": listener, "leftovers": leftovers}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_ends_as_the_corpus_says(course, graded, case):
    results = graded["results"][(case.name, case.assignment)]
    failed = {t.name for t in results.tests if t.status == "failed"}
    expected = {t.name for t in results.tests if t.exercise in case.lost} | case.failing
    assert failed == expected, results.output
    assert results.score == results.max_score - sum(t.max_score for t in results.tests if t.name in expected)
    assert case.says in results.output
    assert results.output and "\n" not in results.output, "one line, in words"
    assert all(t.output for t in results.tests if t.status == "failed"), "every lost point says why"
    if case.check_says:
        assert any(case.check_says in t.output for t in results.tests if t.status == "failed")
    assert results.execution_time < BOUND_SECONDS


def test_good_submissions_keep_their_grades(graded):
    scores = {student: graded["results"][(f"good-{student}", REGRESSION)].score for student in GOOD}
    assert scores == GOOD


def test_gradebook_holds_exactly_one_consistent_result_per_submission(graded):
    with Gradebook(graded["db"]) as gb:
        for (student, assignment), results in graded["results"].items():
            rows = [s for s in gb.find_student(student).submissions if s.assignment.name == assignment]
            assert len(rows) == 1
            assert rows[0].score == results.score
            assert sum(len(nb.grades) for nb in rows[0].notebooks) == len(results.subtotals())


def test_nothing_outlives_grading(graded):
    assert graded["leftovers"] == []


def test_nothing_is_written_outside_scratch(course, graded):
    written = [p for p in [*graded["markers"], course.root / "lambda-ran", Path("/tmp/pickle-ran")] if p.exists()]
    for path in written:
        path.unlink()
    assert written == []


def test_nothing_reaches_the_network(graded):
    assert graded["listener"].connections == []


def test_feedback_holds_no_check_code_hidden_data_or_solutions(course, graded):
    shown = "\n".join(p.read_text() for p in graded["out"].rglob("*") if p.suffix in (".md", ".html", ".json", ".xml"))
    secret = set()
    for assignment in {case.assignment for case in CASES}:
        for module in (course.root / "exercises" / assignment).glob("*.py"):
            secret |= {line.strip() for line in module.read_text().splitlines()  # code; messages may be shown
                       if len(line.strip()) > 25 and not line.strip().startswith(('"', "f\"", "'"))}
        released = notebooks.read(course.assignment(assignment).path("release"))
        public = "\n".join(c.source for c in released.cells)
        for cell in notebooks.read(course.assignment(assignment).path("source")).cells:
            if notebooks.is_solution(cell) or notebooks.is_grade(cell):
                secret |= {line.strip() for line in cell.source.splitlines()
                           if len(line.strip()) > 25 and line.strip() not in public}
    assert sorted(line for line in secret if line in shown) == []
    assert "LEAKED" not in shown


def test_grade_command_exits_zero_for_a_kernel_killer(course, graded, tmp_path):
    """The grader itself ran to the end: exit 0 and a results file, whatever the notebook did."""
    notebook = next((graded["out"].parent / "submitted" / "segfault" / REGRESSION).glob("*.ipynb"))
    done = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "--course", str(course.root), "grade", str(notebook),
         "--assignment", REGRESSION, "--results", str(tmp_path / "results.json"), "--cell-timeout", "20"],
        capture_output=True, text=True, timeout=BOUND_SECONDS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "Points 100/100"
    assert "stopped the kernel" in json.loads((tmp_path / "results.json").read_text())["output"]


def test_killing_the_grader_leaves_no_process_behind(course, tmp_path):
    """The kernel's sandbox dies with the grader (bwrap --die-with-parent, or the zygote's PDEATHSIG chain when
    forked), the checks too, and what the kernel started."""
    nb = notebooks.read(course.assignment(REGRESSION).path("source"))
    nb.cells.append(new_code_cell("import subprocess\nsubprocess.run(['sleep', '600'])"))
    notebook = tmp_path / "sleeps.ipynb"
    notebooks.write(nb, notebook)
    grader = subprocess.Popen([sys.executable, "-m", "autograder.cli", "--course", str(course.root), "grade",
                               str(notebook), "--assignment", REGRESSION], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    family = []
    while time.monotonic() < deadline:
        family = psutil.Process(grader.pid).children(recursive=True)
        if any(p.cmdline() == ["sleep", "600"] for p in family if p.is_running()):
            break  # the kernel runs the last cell
        time.sleep(0.5)
    assert any(p.cmdline() == ["sleep", "600"] for p in family), "the kernel had reached the last cell"
    grader.kill()
    grader.wait()
    time.sleep(3)
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
