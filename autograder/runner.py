"""Grade one submission: sanitize, execute in the sandbox, run the hidden checks in a clean process."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from . import checkfork, checks, forksandbox, forkserver, notebooks
from .course import Course
from .handshake import CELLS_LEFT_OUT, GraderSide
from .kernel import BoundedClient, Watchdog
from .results import GpuSkipPolicy, Results, TestResult
from .sandbox import Limits, Sandbox, copy_folder, open_folder_inside, thread_env
from .diagnose import CellError, diagnose, unchanged_stubs, where
from .sanitize import Cell, SubmissionError, cells_to_run, notes, read_submission

AGENT = Path(__file__).with_name("agent.py")
SEED_CELL = """import keras as _keras
_keras.utils.set_random_seed({seed})
del _keras"""


@dataclass
class Options:
    """How to grade: limits, sandbox, hidden-input seed, what a skipped GPU check earns, and how many
    submissions share the machine."""

    limits: Limits = field(default_factory=Limits)
    sandbox: bool = True
    seed: int = 0
    gpu_skips: GpuSkipPolicy = GpuSkipPolicy()
    jobs: int = 1  # submissions graded at once on this machine: they share its cores
    warm_kernels: bool = True  # fork kernels from a warm zygote where forksandbox can (as root), else bwrap

    @property
    def threads(self) -> int:
        """TensorFlow's threads per kernel: the limit set, else this machine's cores shared by the jobs."""
        return self.limits.threads or max(1, len(os.sched_getaffinity(0)) // max(1, self.jobs))


@dataclass
class Execution:
    """How the notebook ran in its kernel: `message` when it could not be graded, else errors and notes."""

    ok: bool = True
    message: str = ""
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)
    peak_memory: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the student."""
        if self.message:
            return self.message
        said = self.notes + self.errors
        return "; ".join(said[:5]) + (f"; and {len(said) - 5} more" if len(said) > 5 else "") if said else \
            "your notebook ran without errors"


class CheckProcess:
    """The hidden checks in their own pytest process (forked from a warm one), started early so they overlap execution."""

    def __init__(self, course: Course, assignment_id: str, sandbox: Sandbox, private: Path, options: Options,
                 preload: tuple[str, ...]):
        # The report and the handshake are where the sandbox cannot reach: a submission must not
        # be able to write its own report or start the checks early.
        self.report = private / "report.json"
        self.log = private / "checks.log"
        self.handshake = GraderSide()
        env = dict(os.environ)
        env.update({
            checks.ENV_CONNECTION: str(sandbox.runtime / "kernel.json"),
            checks.ENV_SCRATCH: str(sandbox.scratch),
            checks.ENV_SEED: str(options.seed),
            checks.ENV_REPORT: str(self.report),
            checks.ENV_CALL_SECONDS: str(options.limits.cell_seconds),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only the checks plugin, whatever else is installed
            **thread_env(options.threads),
        })
        folder = checks_folder(course, assignment_id)  # the checks run in the private folder
        args = [str(folder), "-p", "autograder.checks", "-q", "--assert=plain", "-p", "no:cacheprovider",
                "--rootdir", str(folder), "-c", str(folder.parent / "pytest.ini")]
        # Forked in the private folder from a zygote that keeps every folder of the grader's off its path:
        # whatever folder the grader was started in (a student's repository, say), no file of it is imported.
        request = dict(args=args, env=env, cwd=str(private), log=str(self.log))
        try:
            self.process = forkserver.fork(preload, zygote_env(options), checkfork.ENTRY, request, self.handshake.child_fds)
        except BaseException:
            self.handshake.close()
            raise
        self.handshake.started()
        self.timeout = options.limits.checks_seconds

    def run(self, execution: Execution, session: KernelSession | None = None) -> list[dict]:
        """Let the checks at the executed notebook; answer their requests for a fresh kernel or a sandboxed
        run (none without a session); wait for their report."""
        self.handshake.ready(execution.ok, execution.message)
        answers = (session.revive, session.python) if session else (lambda: False, lambda *request: (None, None))
        if not self.handshake.serve(self.timeout, *answers):  # past the checks' time limit
            self.process.kill()
        returncode = self.process.wait(10)
        raw = json.loads(self.report.read_text()) if self.report.exists() else []
        if not raw or returncode not in (0, 1):  # pytest: 0 all passed, 1 some failed
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"the hidden checks did not run (pytest exit {returncode}):\n{tail}")
        return raw

    def close(self) -> None:
        """Kill the checks if they still run, wait until they have ended, and close our ends. Once."""
        if self.handshake.closed:
            return
        self.process.kill()  # its pidfd names it even once the zygote has reaped it
        self.process.wait(10)
        self.handshake.close()
        self.process.close()


def run_cells(client: BoundedClient, watchdog: Watchdog) -> int | None:
    """Execute every cell; the index of the cell that killed or wedged the kernel, else None."""
    for index, cell in enumerate(client.nb.cells):
        try:
            client.execute_cell(cell, index)
        except DeadKernelError:
            return index
        if client.exited == index or client.errors.get(index, ("",))[0] == "Timeout" and not client.responsive():
            watchdog.kill(None)
            return index
    return None


class KernelRun:
    """The notebook run once in a fresh sandboxed kernel, which stays up for the checks until stop()."""

    def __init__(self, cells: list[Cell], sandbox: Sandbox, options: Options, deadline: float, log,
                 on_gone: Callable[[], None]):
        setup = [new_code_cell(SEED_CELL.format(seed=options.seed))]
        body = [new_code_cell(cell.source) for cell in cells]
        nb = new_notebook(cells=setup + body + [new_code_cell(AGENT.read_text())])
        self.limits = replace(options.limits, notebook_seconds=max(1.0, deadline - time.monotonic()))
        self.client = BoundedClient(nb, sandbox, self.limits)
        self.sandbox = sandbox
        self.log = log
        self.on_gone = on_gone
        self.watchdog: Watchdog | None = None
        self.stack = ExitStack()

    def start(self) -> int | None:
        """Run the cells; the index of the one that stopped the kernel (0 is the seed cell), else None."""
        # cleanup_kc: nbclient cleans up a manager it was given only when asked to; without it, a worker
        # that grades a whole class kept each kernel's zmq channels, 5 threads and 20 files a kernel.
        self.stack.enter_context(self.client.setup_kernel(stdout=self.log, stderr=self.log, cleanup_kc=True))
        self.watchdog = Watchdog(self.client.km.pid(), self.limits, self.sandbox.scratch, on_gone=self.on_gone)
        self.watchdog.start()
        self.stack.callback(self.watchdog.kill, None)  # every process of the submission with it
        self.stack.callback(self.watchdog.stop)
        return run_cells(self.client, self.watchdog)

    def why(self, stopped: int) -> str:
        """Why the cell at `stopped` stopped the kernel, in words."""
        breach = self.watchdog.breach if self.watchdog else None
        if breach:
            return breach.message
        if self.client.exited == stopped:
            return "it called exit()"
        return "it could not be interrupted" if self.client.errors.get(stopped) else "the kernel died"

    @property
    def peak_memory(self) -> int:
        return self.watchdog.peak_memory if self.watchdog else 0

    def stop(self) -> None:
        self.stack.close()


class KernelSession:
    """The kernels of one submission: the notebook run until it runs to its end, then kept for the checks.

    A cell that kills the kernel (or wedges it, or breaks the memory, process or disk limit) is left
    out and the notebook run again in a new kernel, at most handshake.CELLS_LEFT_OUT times, so that
    what came before it is still graded. During the checks, revive() replaces a kernel that died
    with a fresh one that has run the same cells. close() kills every kernel and every process the
    submission started.
    """

    def __init__(self, cells: list[Cell], sandbox: Sandbox, private: Path, options: Options,
                 on_gone: Callable[[], None]):
        self.cells, self.sandbox, self.private, self.options, self.on_gone = cells, sandbox, private, options, on_gone
        self.started = time.monotonic()
        self.deadline = self.started + options.limits.notebook_seconds
        self.kept = list(range(len(cells)))  # indexes of the cells run; the others were left out
        self.runs: list[KernelRun] = []
        self.log = (private / "kernel.log").open("w")

    def run(self) -> int | None:
        """The kept cells in a fresh kernel: the index of the cell that stopped it (0 is the seed cell), else None."""
        self.runs.append(KernelRun([self.cells[i] for i in self.kept], self.sandbox, self.options, self.deadline,
                                   self.log, self.on_gone))
        return self.runs[-1].start()

    def run_until_stable(self, execution: Execution) -> None:
        """Run the notebook, leaving out each cell that stops the kernel, until it runs to its end or cannot."""
        while (stopped := self.run()) is not None:
            latest = self.runs[-1]
            latest.stop()
            why = latest.why(stopped)
            culprit = self.cells[self.kept[stopped - 1]] if 0 < stopped <= len(self.kept) else None
            breach = latest.watchdog.breach if latest.watchdog else None
            left_out = len(self.cells) - len(self.kept)
            if not culprit or culprit.origin == "setup" or left_out >= CELLS_LEFT_OUT or breach and breach.limit == "time":
                execution.ok = False
                execution.message = f"{where(culprit)} stopped the kernel ({why})" if culprit else \
                    f"the notebook could not be run to the end ({why})"
                break
            del self.kept[stopped - 1]
            execution.notes.append(f"{where(culprit)} stopped the kernel ({why}) and was left out")
            self.sandbox.clear_scratch()  # what the left-out cell wrote goes with it
        execution.seconds = time.monotonic() - self.started

    def record_errors(self, execution: Execution) -> None:
        """The errors the kept cells raised in the last run, and whether output was dropped."""
        client = self.runs[-1].client
        execution.cell_errors = [CellError(self.cells[self.kept[i - 1]], name, text)
                                 for i, (name, text) in sorted(client.errors.items()) if 0 < i <= len(self.kept)]
        execution.errors = [e.describe() for e in execution.cell_errors]
        if client.truncated:
            execution.notes.append(f"output beyond {self.options.limits.output_bytes:,} bytes was not kept")

    def revive(self) -> bool:
        """During the checks: replace the kernel with a fresh one that has run the same cells; whether it did."""
        self.runs[-1].stop()
        try:
            return self.run() is None
        except Exception:  # a kernel that cannot even start: the checks go on without one
            return False

    def python(self, argv: list[str], folder: str, seconds: float) -> tuple[int | None, str | None]:
        """During the checks: `python ARGV` in a fresh sandbox of its own, on a private copy of `folder` (a
        folder in this submission's scratch, copied without following a link, since the kernel is still
        running); its exit code and the copy, or (None, None) when it could not be run."""
        copy = Path(tempfile.mkdtemp(prefix="python-", dir=self.private))
        try:
            source = open_folder_inside(self.sandbox.scratch, Path(folder))
            try:
                copy_folder(source, copy / "scratch", self.options.limits.disk_bytes)
            finally:
                os.close(source)
            helper = replace(self.sandbox, scratch=copy / "scratch", runtime=copy / "run")
            return helper.run(argv, seconds, self.options.limits.disk_bytes).returncode, str(copy / "scratch")
        except Exception:  # not a folder of the scratch, or a sandbox that cannot start: no answer
            return None, None

    def close(self) -> int:
        """Kill every kernel and what it started; the peak memory any of them used."""
        for kernel in self.runs:
            kernel.stop()
        self.log.close()
        return max((kernel.peak_memory for kernel in self.runs), default=0)


def to_results(assignment, raw: list[dict], options: Options, seconds: float, execution: Execution,
               stubs: dict[str, set[str]] | None = None) -> Results:
    """The checks' records as Results: ordered by exercise, root causes found, the GPU-skip policy applied."""
    order = [exercise.id for exercise in assignment.exercises]
    raw = sorted(raw, key=lambda c: order.index(c["exercise"]) if c["exercise"] in order else len(order))
    causes = diagnose(raw, execution.cell_errors, stubs or {})
    tests = [options.gpu_skips.apply(TestResult.from_check(check)) for check in raw]
    margins = {check["name"]: check["margins"] for check in raw if check.get("margins")}
    return Results(assignment.id, tests, seconds, execution.summary(), {
        "errors": execution.errors, "peak_memory": execution.peak_memory, "seconds": round(execution.seconds, 2)},
        margins, causes)


def checks_folder(course: Course, assignment_id: str) -> Path:
    return (course.root / "exercises" / assignment_id).resolve()


def zygote_imports(course: Course, assignment_id: str, release, options: Options) -> tuple[tuple[str, ...], bool]:
    """What the zygote grading this assignment forks from imports once, and whether it forks the kernels too.

    pytest, the grader's check modules and the heavy libraries the checks import; where kernels can be
    forked into a sandbox here, also ipykernel and the heavy libraries the notebook imports (elsewhere
    bubblewrap starts each kernel).
    """
    imports = {*checkfork.PRELOAD, *checkfork.heavy_imports(checks_folder(course, assignment_id))}
    if not (options.sandbox and options.warm_kernels and forksandbox.available()):
        return tuple(sorted(imports)), False
    code = "\n".join(cell.source for cell in release.cells if cell.cell_type == "code")
    return tuple(sorted(imports | {*forksandbox.PRELOAD, *checkfork.heavy_imports_in(code)})), True


def zygote_env(options: Options) -> dict[str, str]:
    """The zygote's environment: the sandbox's, with the thread budget its kernels and checks get."""
    return forksandbox.zygote_env(thread_env(options.threads))


def warm_up(course: Course, assignment_id: str, options: Options) -> None:
    """Start the zygote that grading this assignment forks from, as grade() will ask for it: in a class's
    main process (forkserver.sharing), it imports while the workers start, and serves them all."""
    release = notebooks.read(course.assignment(assignment_id).path("release"))
    forkserver.zygote(zygote_imports(course, assignment_id, release, options)[0], zygote_env(options))


def grade(course: Course, assignment_id: str, submission: Path, options: Options | None = None,
          within: Path | None = None) -> Results:
    """Grade one submitted notebook for one assignment; never raises for a bad submission.

    `within`: the submissions folder the file came from; no folder below it may be a link.
    """
    options = options or Options()
    assignment = course.assignment(assignment_id)
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ag-"))
    try:
        release = notebooks.read(assignment.path("release"))
        preload, warm_kernels = zygote_imports(course, assignment_id, release, options)
        sandbox = Sandbox(scratch=work / "scratch", runtime=work / "run", enabled=options.sandbox,
                          threads=options.threads, warm=preload if warm_kernels else None)
        private = work / "private"
        private.mkdir()
        checker = CheckProcess(course, assignment_id, sandbox, private, options, preload)
        try:
            try:
                submitted = read_submission(submission, within)
                cells, stubs = cells_to_run(submitted, release), unchanged_stubs(submitted, release)
            except SubmissionError as err:
                execution, stubs = Execution(ok=False, message=str(err)), {}
                raw = checker.run(execution)
            else:
                execution = Execution(notes=notes(submission, submitted, release))
                session = KernelSession(cells, sandbox, private, options, on_gone=checker.handshake.gone)
                try:
                    session.run_until_stable(execution)
                    session.record_errors(execution)
                    raw = checker.run(execution, session if execution.ok else None)
                finally:
                    execution.peak_memory = session.close()
        finally:
            checker.close()
        return to_results(assignment, raw, options, time.monotonic() - start, execution, stubs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def grade_in_worker(root: Path, assignment_id: str, submission: Path, options: Options,
                    within: Path | None = None) -> Results:
    """grade() for a pool worker: this module is light to import, so workers start fast."""
    return grade(Course(root), assignment_id, submission, options, within)
