"""pytest plugin for the hidden checks: fixtures that reach the submission, points, a JSON report.

Loaded with `-p autograder.checks` in the clean check process. A check is a plain pytest test
in `exercises/<assignment>/test_<exercise>.py`: its module names the exercise whose points it
shares, `@pytest.mark.points(n)` says what it is worth, and the first line of its docstring is
the name a student sees ("fit_line: matches least squares on hidden data").
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pytest

from .bridge import StudentError, Submission
from .handshake import ChecksSide

ENV_CONNECTION = "AUTOGRADER_CONNECTION"
ENV_SCRATCH = "AUTOGRADER_SCRATCH"
ENV_SEED = "AUTOGRADER_SEED"
ENV_REPORT = "AUTOGRADER_REPORT"
ENV_CALL_SECONDS = "AUTOGRADER_CALL_SECONDS"


@dataclass
class CheckResult:
    """One hidden check's outcome, in words a student may read."""

    exercise: str  # course.Exercise.id: the solution cell's grade_id
    name: str
    points: float
    score: float
    status: str  # passed, failed, skipped
    message: str
    margins: dict = field(default_factory=dict)  # for calibration only; never shown to students
    error: dict = field(default_factory=dict)  # the student's exception behind a failure: kind, message, function


class Credit:
    """Partial credit: a check sets a fraction of its points and says why."""

    def __init__(self):
        self.fraction: float | None = None
        self.message = ""

    def award(self, fraction: float, message: str) -> None:
        self.fraction = min(1.0, max(0.0, float(fraction)))
        self.message = message


class Margins:
    """What a stochastic check measured against its limit, so that calibration can report the worst case.

    `margins("test accuracy", 0.97, 0.95, higher_is_better=True)`; record before asserting.
    """

    def __init__(self):
        self.seen: dict[str, dict] = {}

    def __call__(self, what: str, value: float, limit: float, higher_is_better: bool = False) -> None:
        self.seen[what] = {"value": float(value), "limit": float(limit), "higher_is_better": higher_is_better}


def pytest_configure(config):
    config._autograder_results = []


@pytest.fixture(scope="session")
def grader() -> ChecksSide:
    """This process's end of the handshake with the grader (handshake.py)."""
    return ChecksSide.from_env()


@pytest.fixture(scope="session")
def notebook_state(grader) -> dict:
    """Blocks until the grader has run the notebook; says whether its kernel is there to call."""
    return grader.wait_ready()


@pytest.fixture(scope="session")
def submission(notebook_state, grader):
    """The student's functions, callable in their sandboxed kernel."""
    if not notebook_state["ok"]:
        pytest.fail(f"not graded: {notebook_state['message']}")
    client = Submission(Path(os.environ[ENV_CONNECTION]), Path(os.environ[ENV_SCRATCH]),
                        float(os.environ[ENV_CALL_SECONDS]), grader=grader)
    yield client
    client.close()


@pytest.fixture(scope="session")
def grading_seed() -> int:
    return int(os.environ.get(ENV_SEED, "0"))


@pytest.fixture
def rng(request, grading_seed) -> np.random.Generator:
    """Hidden inputs: a generator of its own for each check, fixed by the grading seed."""
    return np.random.default_rng([grading_seed, zlib.crc32(request.node.nodeid.encode())])


@pytest.fixture(scope="session")
def has_gpu() -> bool:
    """Whether this grading machine has a GPU TensorFlow can use (the sandbox sees the same)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@pytest.fixture
def gpu(has_gpu) -> None:
    """Ask for it first: a check that needs a GPU is skipped, before anything else, without one."""
    if not has_gpu:
        pytest.skip("no GPU on the grading machine")


@pytest.fixture
def credit(request) -> Credit:
    request.node._autograder_credit = Credit()
    return request.node._autograder_credit


@pytest.fixture
def margins(request) -> Margins:
    request.node._autograder_margins = Margins()
    return request.node._autograder_margins


def check_name(item) -> str:
    doc = (item.function.__doc__ or "").strip().splitlines()
    return doc[0].strip() if doc else item.name


def exercise_of(item) -> str:
    return Path(item.fspath).stem.removeprefix("test_")


def points(item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker else 0.0


def student_message(excinfo) -> str:
    """What the student reads: the check's own words or the student's exception, never check code."""
    error = excinfo.value
    if isinstance(error, StudentError):
        if error.kind in ("Timeout", "KernelDied", "KernelError", "Unreadable"):
            return error.message
        return f"your code raised {error.kind}" + (f": {error.message}" if error.message else "")
    if isinstance(error, AssertionError):
        return str(error).split("\n")[0] or "the result was not what was expected"
    if isinstance(error, pytest.fail.Exception):
        return str(error)
    return "the check could not use what your code returned"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" and report.skipped:
        reason = str(call.excinfo.value) if call.excinfo else "skipped"
        record(item, 0.0, "skipped", reason)
    elif report.when == "setup" and report.failed:
        record(item, 0.0, "failed", student_message(call.excinfo), student_error(call.excinfo))
    elif report.when == "call":
        credit = getattr(item, "_autograder_credit", None)
        if report.skipped:
            record(item, 0.0, "skipped", str(call.excinfo.value))
        elif report.failed:
            record(item, 0.0, "failed", student_message(call.excinfo), student_error(call.excinfo))
        elif credit is not None and credit.fraction is not None:
            worth = points(item)
            status = "passed" if credit.fraction >= 1.0 else "failed"
            record(item, round(worth * credit.fraction, 2), status, credit.message)
        else:
            record(item, points(item), "passed", "")


def student_error(excinfo) -> dict:
    """The student's exception behind a failure, for finding its root cause; empty for a failed assert."""
    error = excinfo.value
    if isinstance(error, StudentError):
        return {"kind": error.kind, "message": error.message, "function": error.function}
    return {}


def record(item, score, status, message, error=None):
    seen = getattr(item, "_autograder_margins", None)
    item.config._autograder_results.append(CheckResult(
        exercise_of(item), check_name(item), points(item), score, status, message, seen.seen if seen else {}, error or {}))


def pytest_sessionfinish(session):
    path = os.environ.get(ENV_REPORT)
    if path:
        results = [asdict(r) for r in session.config._autograder_results]
        Path(path).write_text(json.dumps(results, indent=1))
