"""End to end: real notebooks graded in the real sandbox, with the hidden checks in their own process."""

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from autograder import forkserver, notebooks, runner
from autograder.calibrate import calibrate, worst_margins
from autograder.diagnose import NOT_ATTEMPTED
from autograder.results import GpuSkipPolicy
from autograder.runner import Options
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]
GRADED = ["01_tensors", "02_gradient_tape", "03_batched_training", "04_keras_models", "05_train_and_save"]


def grade(course, assignment_id, path, **options):
    return runner.grade(course, assignment_id, path, Options(**options))


@pytest.mark.parametrize("assignment_id", GRADED)
def test_reference_notebook_earns_full_marks(course, assignment_id):
    results = grade(course, assignment_id, course.assignment(assignment_id).path("source"))
    failed = [(t.name, t.output) for t in results.tests if t.status != "passed"]
    assert failed == []
    assert results.score == results.max_score == 100
    assert results.output == "your notebook ran without errors"


@pytest.mark.parametrize("assignment_id", GRADED)
def test_release_notebook_earns_zero_without_crashing(course, assignment_id):
    before = set(psutil.Process().children(recursive=True))
    results = grade(course, assignment_id, course.assignment(assignment_id).path("release"), gpu_skips=GpuSkipPolicy(earns=False))
    zygotes = {z.process.pid for z in forkserver.ZYGOTES.values() if z.process}  # the worker's, kept for the next
    leftovers = [p.name() for p in set(psutil.Process().children(recursive=True)) - before if p.pid not in zygotes]
    assert leftovers == [], "no process of the submission (or of its checks) outlives its grading"
    assert results.score == 0 and results.max_score == 100
    assert all(t.output for t in results.tests), "every lost point comes with a reason"
    assert {t.output for t in results.tests if not t.skipped} == {NOT_ATTEMPTED}, "a stub is not attempted yet"


def test_reference_notebooks_earn_full_marks_on_other_seeds(course):
    """CI tries two more grading seeds on the stochastic assignments; `autograder calibrate` tries twenty."""
    runs = calibrate(course, ["02_gradient_tape", "03_batched_training", "05_train_and_save"], seeds=[1, 2])
    assert [(run.assignment, run.seed, run.results.score) for run in runs if run.results.score < 100] == []
    margins = worst_margins(runs)
    for margin in margins:
        print(margin, f"slack {margin.slack:.4g}")
    assert {m.what for m in margins} >= {"test accuracy", "training seconds", "|a - least squares|"}
    assert all(m.slack > 0 for m in margins)


def test_same_notebook_twice_gives_the_same_score(course):
    path = course.assignment("02_gradient_tape").path("source")
    first, second = (grade(course, "02_gradient_tape", path, seed=7) for _ in range(2))
    assert [(t.name, t.score) for t in first.tests] == [(t.name, t.score) for t in second.tests]


def test_a_worker_keeps_no_files_or_threads_of_the_submissions_it_graded(course):
    """A worker grades a whole class: what one grading opens must not pile up (zmq contexts did, 5 threads each)."""
    source = course.assignment("02_gradient_tape").path("source")
    grade(course, "02_gradient_tape", source)  # the first starts the warm check process
    held = []
    for _ in range(2):
        grade(course, "02_gradient_tape", source)
        held.append((len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))))
    assert held[0] == held[1], f"(open files, threads) grew from {held[0]} to {held[1]}"


def test_a_common_mistake_loses_exactly_its_points(course, tmp_path):
    """The lecture's slip of updating a alone: train_step's b check fails, and fit_line's with it."""
    nb = notebooks.read(course.assignment("02_gradient_tape").path("source"))
    step = next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == "train_step")
    step.source = step.source.replace("    b.assign_sub(lr * grad_b)\n", "")
    path = tmp_path / "a-only.ipynb"
    notebooks.write(nb, path)
    results = grade(course, "02_gradient_tape", path)
    assert {t.name for t in results.tests if t.status == "failed"} == {
        "train_step: moves b by lr·mean(2(a+bx−y)x)",
        "fit_line: matches least squares on hidden data",
        "fit_line: with epochs=1, equals one analytic step from (0, 0)",
    }
    message = next(t.output for t in results.tests if t.name.startswith("train_step: moves b"))
    assert message == "b should move by lr·mean(2(a+bx−y)x); it did not change"
    shown = json.dumps(results.to_gradescope())
    check_code = [line.strip() for module in (course.root / "exercises" / "02_gradient_tape").glob("*.py")
                  for line in module.read_text().splitlines() if len(line.strip()) > 25 and '"' not in line]
    assert not [line for line in check_code if line in shown], "feedback must not show the checks' code"


def test_a_file_that_is_not_a_notebook_scores_zero_with_one_line(course, tmp_path):
    path = tmp_path / "essay.ipynb"
    path.write_text("Dear professor, ...")
    results = grade(course, "01_tensors", path)
    assert results.score == 0
    assert results.output == "essay.ipynb is not a notebook: it is not JSON text"
    assert all(t.output == "not graded: essay.ipynb is not a notebook: it is not JSON text" for t in results.tests
               if not t.skipped)


def test_grade_command_writes_results_and_exits_zero(course, tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "--course", str(course.root), "grade",
         str(course.assignment("01_tensors").path("release")), "--assignment", "01_tensors",
         "--results", str(out), "--junit", str(tmp_path / "junit.xml"), "--feedback", str(tmp_path / "feedback")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "Points 10/100"  # the GPU check, skipped here, earns by default
    data = json.loads(out.read_text())
    assert {"score", "max_score", "execution_time", "tests"} <= set(data)
    assert (tmp_path / "feedback" / "feedback.html").exists() and (tmp_path / "junit.xml").exists()


def test_grade_command_refuses_an_unknown_assignment(course, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "--course", str(course.root), "grade", "x.ipynb",
         "--assignment", "06_nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("autograder: unknown assignment '06_nope'; the course has 01_tensors, "
                                   "02_gradient_tape, 03_batched_training, 04_keras_models, 05_train_and_save")


@pytest.mark.parametrize("make, says", [
    (lambda path, course: os.symlink(course.assignment("02_gradient_tape").path("source"), path), "is a symbolic link"),
    (lambda path, course: os.mkfifo(path), "is a named pipe"),
    (lambda path, course: os.truncate(path.open("w").name, 3 * 2**30), "MB; notebooks over"),
], ids=["link-to-reference", "named-pipe", "3-GiB-file"])
def test_grade_command_refuses_untrusted_files_fast_and_small(course, tmp_path, make, says):
    """A link to the reference earns nothing, a pipe hangs nothing, a huge file is never read."""
    path = tmp_path / "regression.ipynb"
    make(path, course)
    started = time.monotonic()
    measured = ("import resource, sys; from autograder.cli import main; code = main(sys.argv[1:]); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")
    done = subprocess.run(
        [sys.executable, "-c", measured, "--course", str(course.root), "grade", str(path),
         "--assignment", "02_gradient_tape", "--results", str(tmp_path / "results.json")],
        capture_output=True, text=True, timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "Points 0/100"
    assert says in json.loads((tmp_path / "results.json").read_text())["output"]
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    assert seconds < 10 and peak_kib < 2**20, f"{seconds:.1f} s, grader peak {peak_kib / 2**20:.2f} GiB"


def test_warm_and_cold_kernels_grade_alike(course):
    """A kernel forked from the warm zygote (where the grader is root) and one started under bubblewrap
    (elsewhere, or with --cold-kernels) give every check the same score."""
    path = next((course.root / "sample_class" / "submitted" / "bob" / "05_train_and_save").glob("*.ipynb"))
    warm, cold = (grade(course, "05_train_and_save", path, warm_kernels=warm) for warm in (True, False))
    assert [(t.name, t.score) for t in warm.tests] == [(t.name, t.score) for t in cold.tests]
    assert 0 < warm.score < 100, "a submission with a mistake: some checks pass, some fail"
