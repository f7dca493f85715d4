"""The course on disk: where the notebooks live and what nbgrader's config says."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import notebooks

CONFIG_FILE = "nbgrader_config.py"


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder, from `start` up, holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / CONFIG_FILE).is_file() and (folder / "source").is_dir():
            return folder
    raise FileNotFoundError(f"no {CONFIG_FILE} with a source/ folder beside it in {here} or above")


@dataclass(frozen=True)
class Exercise:
    """One exercise: the solution cell the student answers in, and the locked grade cell after it.

    The hidden checks of `exercises/ASSIGNMENT/test_<id>.py` grade it; the gradebook records its
    score under the grade cell's id.
    """

    id: str  # the solution cell's grade_id, e.g. "fit_line"
    grade_cell: str  # the grade cell's grade_id, e.g. "fit_line_tests"
    points: float


@dataclass(frozen=True)
class Assignment:
    """One assignment: its nbgrader id and its notebook's file name."""

    course: Course
    id: str
    notebook: str

    def path(self, folder: str) -> Path:
        """The notebook's path under one of the course's top folders (source, release, solutions)."""
        return self.course.root / folder / self.id / self.notebook

    @cached_property
    def exercises(self) -> list[Exercise]:
        """The exercises of the source notebook, in order: each grade cell with the solution cell before it."""
        nb = nbformat.read(self.path("source"), as_version=4)
        found, solution = [], None
        for cell in nb.cells:
            meta = notebooks.nbgrader_meta(cell)
            if notebooks.is_solution(cell):
                solution = meta["grade_id"]
            elif notebooks.is_grade(cell):
                found.append(Exercise(solution or meta["grade_id"], meta["grade_id"], float(meta["points"])))
                solution = None
        return found

    def exercise(self, grade_id: str) -> Exercise | None:
        """The exercise whose solution cell or grade cell has this grade_id."""
        return next((e for e in self.exercises if grade_id in (e.id, e.grade_cell)), None)


@dataclass(frozen=True)
class Course:
    """The course folder: source notebooks, generated folders and the nbgrader config."""

    root: Path

    @cached_property
    def config(self) -> Config:
        return PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()

    @cached_property
    def assignments(self) -> list[Assignment]:
        """Every assignment under source/, in id order (one notebook each)."""
        found = []
        for folder in sorted(p for p in (self.root / "source").iterdir() if p.is_dir()):
            books = sorted(folder.glob("*.ipynb"))
            if len(books) != 1:
                raise ValueError(f"{folder} should hold exactly one notebook, it holds {len(books)}")
            found.append(Assignment(self, folder.name, books[0].name))
        return found

    def assignment(self, assignment_id: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        known = ", ".join(a.id for a in self.assignments)
        raise KeyError(f"unknown assignment {assignment_id!r}; the course has {known}")


def tool_env() -> dict[str, str]:
    """Environment for nbgrader and Jupyter subprocesses: this interpreter's bin folder first.

    nbgrader runs `alembic` by name, so the venv's bin folder must be on PATH even when the
    venv is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
