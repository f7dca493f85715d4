"""Grade one submission: sanitize, execute in the sandbox, run the hidden checks in a clean process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from . import checks, notebooks
from .course import Course
from .kernel import BoundedClient, Watchdog
from .results import Results, TestResult
from .sandbox import Limits, Sandbox
from .sanitize import SubmissionError, cells_to_run, read_submission

AGENT = Path(__file__).with_name("agent.py")
T = TypeVar("T")
SEED_CELL = """import keras as _keras
_keras.utils.set_random_seed({seed})
del _keras"""


@dataclass
class Options:
    """How to grade: limits, sandbox, hidden-input seed, and what a skipped GPU check earns.

    A GPU check is skipped where the grading machine has no GPU; by default it then earns its
    points (the student cannot help the machine), and `gpu_skip_earns=False` withholds them.
    """

    limits: Limits = field(default_factory=Limits)
    sandbox: bool = True
    seed: int = 0
    gpu_skip_earns: bool = True
    checks_seconds: float = 900.0


@dataclass
class Execution:
    """How the notebook ran in its kernel."""

    ok: bool = True
    message: str = ""
    errors: list[str] = field(default_factory=list)
    peak_memory: int = 0
    seconds: float = 0.0


class CheckProcess:
    """The hidden checks in their own pytest process, started early so its imports overlap execution."""

    def __init__(self, course: Course, assignment_id: str, sandbox: Sandbox, private: Path, options: Options):
        # The report and the go-ahead live where the sandbox cannot reach: a submission must not
        # be able to write its own report or start the checks early.
        self.report = private / "report.json"
        self.ready = private / "ready.json"
        env = dict(os.environ)
        env.update({
            checks.ENV_CONNECTION: str(sandbox.runtime / "kernel.json"),
            checks.ENV_SCRATCH: str(sandbox.scratch),
            checks.ENV_SEED: str(options.seed),
            checks.ENV_REPORT: str(self.report),
            checks.ENV_READY: str(self.ready),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        })
        folder = course.root / "exercises" / assignment_id
        command = [
            sys.executable, "-m", "pytest", str(folder), "-p", "autograder.checks",
            "-q", "--assert=plain", "-p", "no:cacheprovider", "--rootdir", str(folder),
            "-c", str(folder.parent / "pytest.ini"),
        ]
        self.log = private / "checks.log"
        self.process = subprocess.Popen(command, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.timeout = options.checks_seconds

    def run(self, execution: Execution) -> list[dict]:
        """Let the checks at the executed notebook; wait for their report."""
        self.ready.write_text(json.dumps({"ok": execution.ok, "message": execution.message}))
        try:
            self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        raw = json.loads(self.report.read_text()) if self.report.exists() else []
        if not raw or self.process.returncode not in (0, 1):  # pytest: 0 all passed, 1 some failed
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"the hidden checks did not run (pytest exit {self.process.returncode}):\n{tail}")
        return raw

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def execute(cells, sandbox: Sandbox, private: Path, options: Options,
            check: Callable[[Execution], T]) -> tuple[Execution, T]:
    """Run the cells in a fresh sandboxed kernel and add the agent; `check` then uses the live kernel.

    The kernel, and every process the submission started, is killed when `check` returns.
    """
    setup = [new_code_cell(SEED_CELL.format(seed=options.seed))]
    body = [new_code_cell(cell.source) for cell in cells]
    nb = new_notebook(cells=setup + body + [new_code_cell(AGENT.read_text())])
    client = BoundedClient(nb, sandbox, options.limits)
    execution = Execution()
    start = time.monotonic()
    kernel_log = (private / "kernel.log").open("w")
    with kernel_log, client.setup_kernel(stdout=kernel_log, stderr=kernel_log):
        watchdog = Watchdog(client.km.pid(), options.limits)
        watchdog.start()
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
                for output in cell.outputs:
                    if output.output_type == "error" and 0 < index <= len(body):
                        origin = cells[index - 1]
                        where = f"your {origin.grade_id or 'added'} cell" if origin.origin != "setup" else "a setup cell"
                        execution.errors.append(f"{where} raised {output.ename}: {output.evalue[:200]}")
        except DeadKernelError:
            execution.ok = False
            execution.message = watchdog.breach.message if watchdog.breach else "the notebook's kernel died"
        if watchdog.breach and execution.ok:
            execution.ok, execution.message = False, watchdog.breach.message
        execution.seconds = time.monotonic() - start
        try:
            outcome = check(execution)
        finally:
            watchdog.stop()
            execution.peak_memory = watchdog.peak_memory
            watchdog.kill(None)
    return execution, outcome


def to_results(assignment, raw: list[dict], options: Options, seconds: float, execution: Execution) -> Results:
    order = [cell.removesuffix("_tests") for cell in assignment.points()]
    tests = []
    for check in sorted(raw, key=lambda c: order.index(c["grade_id"]) if c["grade_id"] in order else len(order)):
        extra = {}
        score, status, output = check["score"], check["status"], check["message"]
        if status == "skipped":
            extra = {"skipped": output}
            earned = options.gpu_skip_earns
            score = check["points"] if earned else 0.0
            status = "passed" if earned else "failed"
            output = f"not checked: {output}" + (" (full points by course policy)" if earned else "")
        tests.append(TestResult(check["name"], score, check["points"], status, output, check["grade_id"], extra))
    summary = execution.message or (
        "your notebook ran without errors" if not execution.errors else "; ".join(execution.errors[:5]))
    return Results(assignment.id, tests, seconds, summary, {
        "errors": execution.errors, "peak_memory": execution.peak_memory, "seconds": round(execution.seconds, 2)})


def grade(course: Course, assignment_id: str, submission: Path, options: Options | None = None) -> Results:
    """Grade one submitted notebook for one assignment; never raises for a bad submission."""
    options = options or Options()
    assignment = course.assignment(assignment_id)
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ag-"))
    try:
        sandbox = Sandbox(scratch=work / "scratch", runtime=work / "run", enabled=options.sandbox)
        private = work / "private"
        private.mkdir()
        checker = CheckProcess(course, assignment_id, sandbox, private, options)
        try:
            cells = cells_to_run(read_submission(submission), notebooks.read(assignment.path("release")))
            execution, raw = execute(cells, sandbox, private, options, checker.run)
        except SubmissionError as err:
            execution = Execution(ok=False, message=str(err))
            raw = checker.run(execution)
        finally:
            checker.close()
        return to_results(assignment, raw, options, time.monotonic() - start, execution)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def grade_in_worker(root: Path, assignment_id: str, submission: Path, options: Options) -> Results:
    """grade() for a pool worker: this module is light to import, so workers start fast."""
    return grade(Course(root), assignment_id, submission, options)
