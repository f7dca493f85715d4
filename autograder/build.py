"""Regenerate release/ and solutions/ from source/, find drift, and validate with nbgrader."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nbformat import NotebookNode
from nbgrader.validator import Validator

from . import notebooks
from .course import Assignment, Course, tool_env
from .solutions import make_solution


def generate_release(course: Course, dest: Path) -> None:
    """Run nbgrader generate_assignment for every assignment, writing the student notebooks under dest."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force",
            f"--CourseDirectory.root={course.root}",
            f"--CourseDirectory.release_directory={dest}",
            f"--CourseDirectory.db_url=sqlite:///{scratch}/gradebook.db",
        ]
        done = subprocess.run(command, cwd=course.root, env=tool_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stderr[-3000:]}")


def cell_content(nb: NotebookNode) -> list[tuple]:
    """What a notebook says, without outputs or execution records: the basis for drift checks."""
    return [
        (
            cell.cell_type,
            cell.get("id"),
            cell.source,
            {k: v for k, v in cell.metadata.items() if k != "execution"},
        )
        for cell in nb.cells
    ]


@dataclass
class Drift:
    """A generated notebook that does not match what source/ says it should be."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def sync_release(course: Course, write: bool, log: Callable[[str], None] = lambda line: None) -> list[Drift]:
    """Compare release/ with a fresh nbgrader generation (byte for byte); with write, replace what differs."""
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp) / "release"
        generate_release(course, fresh_root)
        for assignment in course.assignments:
            fresh = fresh_root / assignment.id / assignment.notebook
            target = assignment.path("release")
            if target.exists() and target.read_bytes() == fresh.read_bytes():
                log(f"release/{assignment.id}: up to date")
                continue
            stale.append(Drift(target, "differs from nbgrader generate_assignment of source/" if target.exists() else "missing"))
            if write:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(fresh, target)
                log(f"release/{assignment.id}: regenerated")
    return stale


def release_drift(course: Course) -> list[Drift]:
    return sync_release(course, write=False)


def solution_drift(assignment: Assignment) -> Drift | None:
    """Why the committed solution notebook is stale, or None when it matches source/."""
    committed = assignment.path("solutions")
    if not committed.exists():
        return Drift(committed, "missing")
    expected = make_solution(notebooks.read(assignment.path("source")))
    if cell_content(notebooks.read(committed)) != cell_content(expected):
        return Drift(committed, "cells differ from the solutions generated from source/")
    return None


def drift(course: Course) -> list[Drift]:
    """Every generated notebook that is stale against source/."""
    found = release_drift(course)
    found += [d for d in map(solution_drift, course.assignments) if d]
    return found


def build_solution(assignment: Assignment, force: bool, log: Callable[[str], None]) -> None:
    """Write the executed solution notebook when it is stale (or always, with force)."""
    if not force and solution_drift(assignment) is None:
        log(f"solutions/{assignment.id}: up to date")
        return
    solution = make_solution(notebooks.read(assignment.path("source")))
    with tempfile.TemporaryDirectory() as scratch:
        executed = notebooks.execute(solution, cwd=Path(scratch), allow_errors=False)
    notebooks.write(executed, assignment.path("solutions"))
    log(f"solutions/{assignment.id}: regenerated and executed")


def build(course: Course, force: bool = False, log: Callable[[str], None] = print) -> None:
    """Bring release/ and solutions/ up to date with source/."""
    sync_release(course, write=True, log=log)
    for assignment in course.assignments:
        build_solution(assignment, force, log)


def failed_grade_cells(course: Course, notebook: Path) -> int:
    """How many grade cells fail when nbgrader validate runs the notebook (0: it passes)."""
    validator = Validator(config=course.config)
    results = validator.validate(str(notebook))
    problems = results.get("failed", []) + results.get("changed", []) + results.get("type_changed", [])
    return len(problems)


def validate(course: Course, log: Callable[[str], None] = print) -> bool:
    """Source notebooks must pass nbgrader validate and release notebooks must fail it."""
    ok = True
    for assignment in course.assignments:
        source_failures = failed_grade_cells(course, assignment.path("source"))
        release_failures = failed_grade_cells(course, assignment.path("release"))
        good = source_failures == 0 and release_failures > 0
        ok &= good
        log(
            f"validate {assignment.id}: source {'passes' if source_failures == 0 else f'FAILS {source_failures} cells'}, "
            f"release {'fails as it should' if release_failures else 'PASSES with stubs'}"
        )
    return ok
