"""Benchmark: grading the sample class against plain execution and against nbgrader autograde.

Prints, from one run on this machine: wall time, CPU time and peak memory (of the whole process
tree) per submission and for the class; the same notebooks executed plainly with nbclient; and
`nbgrader autograde` over the same class. Every figure is a whole-process measurement.

    .venv/bin/python bench/grading.py [--assignment 02_gradient_tape] [--jobs 2]
"""

from __future__ import annotations

import argparse
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
    cpu: float
    peak: int  # bytes, the whole process tree at its largest


def measure(command: list[str], cwd: Path) -> Measure:
    """Run a command; sample its process tree every 50 ms for memory and CPU.

    CPU is summed from the last sample of every process seen, so that processes killed rather
    than waited for (the grader kills each sandbox when its checks are done) still count.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    cpu_seen: dict[int, float] = {}
    done = threading.Event()

    def sample():
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            memory = 0
            for p in tree:
                try:
                    with p.oneshot():
                        memory += p.memory_info().rss
                        times = p.cpu_times()
                        cpu_seen[p.pid] = times.user + times.system
                except psutil.Error:
                    pass
            peak = max(peak, memory)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measure(wall, sum(cpu_seen.values()), peak)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="02_gradient_tape")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    course = Course(ROOT)
    assignment = course.assignment(args.assignment)
    submitted = ROOT / "sample_class" / "submitted"
    students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment.id}"))
    autograder = [sys.executable, "-m", "autograder.cli", "--course", str(ROOT)]

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"{assignment.id}: {len(students)} submissions, {args.jobs} jobs, {psutil.cpu_count()} cores\n")
        print(f"{'student':10s} {'grade wall':>10s} {'cpu':>7s} {'peak':>10s} | {'plain wall':>10s} {'cpu':>7s} {'peak':>10s} | ratio")
        graded, plain = [], []
        for student in students:
            notebook = submitted / student / assignment.id / assignment.notebook
            g = measure([*autograder, "grade", str(notebook), "--assignment", assignment.id,
                         "--results", str(tmp / f"{student}.json")], tmp)
            p = measure([sys.executable, "-c", PLAIN_RUN, str(notebook)], tmp)
            graded.append(g)
            plain.append(p)
            print(f"{student:10s} {g.wall:9.1f}s {g.cpu:6.1f}s {gib(g.peak):>10s} | {p.wall:9.1f}s {p.cpu:6.1f}s "
                  f"{gib(p.peak):>10s} | {g.wall / p.wall:.2f}")
        total_g, total_p = sum(m.wall for m in graded), sum(m.wall for m in plain)
        print(f"{'sum':10s} {total_g:9.1f}s {sum(m.cpu for m in graded):6.1f}s {gib(max(m.peak for m in graded)):>10s} | "
              f"{total_p:9.1f}s {sum(m.cpu for m in plain):6.1f}s {gib(max(m.peak for m in plain)):>10s} | {total_g / total_p:.2f}")

        klass = measure([*autograder, "grade-class", assignment.id, "--submitted", str(submitted), "--jobs",
                         str(args.jobs), "--out", str(tmp / "class"), "--db", f"sqlite:///{tmp / 'class.db'}"], tmp)

        course_copy = tmp / "nbgrader-course"
        course_copy.mkdir()
        for name in ["source", "nbgrader_config.py"]:
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copyfile)(ROOT / name, course_copy / name)
        shutil.copytree(submitted, course_copy / "submitted")
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment.id, "--force"],
                       cwd=course_copy, env=tool_env(), capture_output=True, check=True)
        nbgrader = measure([sys.executable, "-m", "nbgrader", "autograde", assignment.id, "--force"], course_copy)

    print(f"\nclass, autograder grade-class --jobs {args.jobs}: {klass.wall:.1f} s wall, {klass.cpu:.1f} s CPU, "
          f"peak {gib(klass.peak)} ({gib(klass.peak // args.jobs)} per worker)")
    print(f"class, nbgrader autograde (serial):        {nbgrader.wall:.1f} s wall, {nbgrader.cpu:.1f} s CPU, peak {gib(nbgrader.peak)}")
    print(f"\ngrading / plain execution, per submission: {min(g.wall / p.wall for g, p in zip(graded, plain)):.2f} "
          f"to {max(g.wall / p.wall for g, p in zip(graded, plain)):.2f} (target <= 1.3)")
    print(f"nbgrader autograde / grade-class --jobs {args.jobs}: {nbgrader.wall / klass.wall:.2f}x (target >= 1.8)")
    print(f"peak memory per submission graded: {gib(max(m.peak for m in graded))} (target <= 1.5 GiB per worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
