"""Benchmark: grading sample classes with `grade-class` against `nbgrader autograde`, side by side.

For each assignment's sample class (`sample_class/submitted/*/ID/`), from one run on this machine:

- the class graded by `autograder grade-class --jobs N` and by `nbgrader autograde` (serial), each
  timed as a whole command: wall time, the whole machine's CPU time (from /proc/stat, so that
  processes killed inside the sandbox count too; less this script's own, spent sampling), and
  peak memory per worker: the proportional set size of the command's whole process tree at its
  largest (grader, workers, the zygote and the kernels and checks forked from it; pages shared after
  a fork count once, split among their sharers), divided by the workers (nbgrader has one);
- with `--per-submission`, each notebook graded alone by `autograder grade` and executed plainly
  with nbclient; the difference is the grader's overhead beyond the student's own code.

Run it on an otherwise idle machine: the CPU figure is the machine's, not the command's.

    .venv/bin/python bench/grading.py [--assignment 03_batched_training ...] [--jobs 2] [--per-submission]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autograder.course import Course, tool_env  # noqa: E402

DEFAULT_ASSIGNMENTS = ("02_gradient_tape", "03_batched_training", "05_train_and_save")
TARGETS = {"speed-up": 1.8, "cpu ratio": 0.8, "GiB per worker": 1.5}
PLAIN_RUN = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
               extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
"""


@dataclass
class Measure:
    wall: float
    cpu: float  # seconds of the whole machine's busy CPU time
    peak: int  # bytes: the whole tree at its largest


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, every process, dead or alive)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def tree_memory(process: psutil.Process) -> int:
    """Proportional set size of a process and all its descendants; 0 for a tree that is gone."""
    try:
        tree = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in tree:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def measure(command: list[str], cwd: Path, check: bool = True) -> Measure:
    """Run a command to its end; sample its process tree's memory every 250 ms."""
    busy, own = machine_busy_seconds(), time.process_time()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.wait(0.25):
            peak = max(peak, tree_memory(root))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    cpu = machine_busy_seconds() - busy - (time.process_time() - own)
    if check and returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... exited with {returncode}")
    return Measure(wall, cpu, peak)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def per_submission(autograder: list[str], assignment, notebooks: list[Path], tmp: Path) -> float:
    """Print each notebook graded alone and run plainly; the mean overhead of grading, in seconds."""
    print(f"  {'student':8s} {'grade wall':>10s} {'cpu':>7s} | {'plain wall':>10s} {'cpu':>7s} | overhead")
    overheads = []
    for notebook in notebooks:
        student = notebook.parents[1].name
        g = measure([*autograder, "grade", str(notebook), "--assignment", assignment.id,
                     "--results", str(tmp / f"{student}.json")], tmp)
        p = measure([sys.executable, "-c", PLAIN_RUN, str(notebook)], tmp, check=False)  # a file that is no notebook fails
        overheads.append(g.wall - p.wall)
        print(f"  {student:8s} {g.wall:9.1f}s {g.cpu:6.1f}s | {p.wall:9.1f}s {p.cpu:6.1f}s | {g.wall - p.wall:+6.1f}s")
    mean = sum(overheads) / len(overheads)
    print(f"  mean overhead per submission: {mean:.1f} s")
    return mean


def nbgrader_course(assignment, submitted: Path, tmp: Path) -> Path:
    """A copy of the course with this assignment generated and its submissions in place, for nbgrader."""
    course = tmp / "nbgrader-course"
    course.mkdir()
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for notebook in submitted.glob(f"*/{assignment.id}/{assignment.notebook}"):
        target = course / "submitted" / notebook.parents[1].name / assignment.id
        target.mkdir(parents=True)
        shutil.copyfile(notebook, target / notebook.name)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment.id, "--force"],
                   cwd=course, env=tool_env(), capture_output=True, check=True)
    return course


def bench(assignment, jobs: int, with_per_submission: bool) -> dict:
    submitted = ROOT / "sample_class" / "submitted"
    notebooks = sorted(submitted.glob(f"*/{assignment.id}/{assignment.notebook}"))
    autograder = [sys.executable, "-m", "autograder.cli", "--course", str(ROOT)]
    cores = psutil.cpu_count()
    print(f"\n{assignment.id}: {len(notebooks)} submissions, --jobs {jobs}, {cores} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        overhead = per_submission(autograder, assignment, notebooks, tmp) if with_per_submission else None
        ours = measure([*autograder, "grade-class", assignment.id, "--submitted", str(submitted), "--jobs", str(jobs),
                        "--out", str(tmp / "class"), "--db", f"sqlite:///{tmp / 'class.db'}"], tmp)
        course = nbgrader_course(assignment, submitted, tmp)
        # nbgrader exits 1 when a submission is not a notebook (02's grace): it has still graded the others
        theirs = measure([sys.executable, "-m", "nbgrader", "autograde", assignment.id, "--force"], course, check=False)
    n = len(notebooks)
    print(f"  {'':28s} {'wall':>8s} {'machine CPU':>12s} {'s/notebook':>11s} {'subm./h/core':>13s} {'peak/worker':>12s}")
    for name, m in ((f"autograder grade-class -j{jobs}", ours), ("nbgrader autograde", theirs)):
        print(f"  {name:28s} {m.wall:7.1f}s {m.cpu:11.1f}s {m.wall / n:10.1f}s {3600 * n / m.wall / cores:13.0f} "
              f"{gib(m.peak / (jobs if m is ours else 1)):>12s}")
    figures = {"speed-up": theirs.wall / ours.wall, "cpu ratio": ours.cpu / theirs.cpu,
               "GiB per worker": ours.peak / jobs / 2**30, "overhead": overhead}
    print(f"  nbgrader wall / ours: {figures['speed-up']:.2f}x (target >= {TARGETS['speed-up']}); "
          f"our CPU / nbgrader's: {figures['cpu ratio']:.2f} (target <= {TARGETS['cpu ratio']}); "
          f"peak per worker {figures['GiB per worker']:.2f} GiB (target <= {TARGETS['GiB per worker']})")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", help="default: " + ", ".join(DEFAULT_ASSIGNMENTS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--per-submission", action="store_true", help="also grade and run each notebook alone")
    args = parser.parse_args()
    course = Course(ROOT)
    for assignment_id in args.assignment or DEFAULT_ASSIGNMENTS:
        bench(course.assignment(assignment_id), args.jobs, args.per_submission)
    return 0


if __name__ == "__main__":
    sys.exit(main())
