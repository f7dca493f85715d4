"""Turn a submitted file into the cells the grader runs: trusted cells from release/, the student's code.

Everything the student could change to alter execution is dropped: tags such as
`skip-execution` or `raises-exception`, cell metadata, outputs. Locked cells come from the
release notebook as the student received them (a student cannot edit or delete a test or a
setup cell); the student's solution cells are matched by nbgrader grade_id, and cells the
student added keep their place after the cell they followed.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import stat
import symtable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import notebooks

MAX_NOTEBOOK_BYTES = 50_000_000
MAX_CELL_CHARS = 200_000
LARGE_NOTEBOOK_BYTES = 5_000_000


class SubmissionError(Exception):
    """The submitted file cannot be graded at all; the message says why in one line."""


@dataclass
class Cell:
    """A code cell to run: its source and where it came from."""

    source: str
    origin: str  # "setup", "solution", "student" (a cell the student added) or "demo" (an illustration it needs)
    grade_id: str | None = None
    position: int | None = None  # 1-based, in the student's notebook (their own cells only)


def untrusted_file(path: Path, within: Path | None = None) -> os.stat_result:
    """The status of a file from a submission folder, never following a link.

    Anything but a plain file of its own is refused with a one-line reason: a symbolic link (to
    the reference notebook, say), a hard link, a pipe, a device, a socket, a folder, and a file
    over the size limit. With `within`, no folder between it and the file may be a link either.
    """
    if within is not None:
        parts = path.relative_to(within).parts
        for depth in range(1, len(parts)):
            folder = within.joinpath(*parts[:depth])
            if folder.is_symlink():
                raise SubmissionError(f"the folder {folder.name}/ is a symbolic link; submissions must be real folders")
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        raise SubmissionError(f"no {path.name} was submitted")
    except OSError as err:
        raise SubmissionError(f"cannot read {path.name}: {err.strerror}")
    mode = status.st_mode
    if stat.S_ISLNK(mode):
        raise SubmissionError(f"{path.name} is a symbolic link; submit the notebook file itself, not a link to one")
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "not a regular file")
        raise SubmissionError(f"{path.name} is {kind}, not a notebook file")
    if status.st_nlink > 1:
        raise SubmissionError(f"{path.name} is a hard link to another file; submit a copy of the notebook")
    if status.st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is {status.st_size / 1e6:.0f} MB; notebooks over "
                              f"{MAX_NOTEBOOK_BYTES // 10**6} MB are not graded")
    return status


def read_bytes(path: Path, within: Path | None = None) -> bytes:
    """A submitted file's bytes, if untrusted_file lets it through and it is still that file when opened."""
    status = untrusted_file(path, within)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        raise SubmissionError(f"cannot read {path.name}: {err.strerror}")
    with os.fdopen(fd, "rb") as f:
        opened = os.fstat(f.fileno())
        if (opened.st_dev, opened.st_ino) != (status.st_dev, status.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise SubmissionError(f"{path.name} changed while it was read")
        return f.read(MAX_NOTEBOOK_BYTES + 1)[:MAX_NOTEBOOK_BYTES]


def read_submission(path: Path, within: Path | None = None) -> NotebookNode:
    """The submission as an nbformat 4 notebook, or a SubmissionError that says what is wrong."""
    data = read_bytes(path, within)
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SubmissionError(f"{path.name} is not a notebook: it is not JSON text")
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SubmissionError(f"{path.name} is not a notebook: it has no cells")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:  # nbformat raises many kinds for malformed notebooks
        raise SubmissionError(f"{path.name} is not a readable notebook ({type(err).__name__})")
    if not all(isinstance(cell.get("source", ""), str) for cell in nb.cells):
        raise SubmissionError(f"{path.name} is not a readable notebook: a cell's source is not text")
    return nb


def notes(path: Path, submitted: NotebookNode, release: NotebookNode) -> list[str]:
    """What the student should know about how their file was read: one short phrase each."""
    said = []
    kernel = submitted.get("metadata", {}).get("kernelspec", {})
    name = kernel.get("name") if isinstance(kernel, dict) else None
    if isinstance(name, str) and name != "python3":
        said.append(f"the notebook asks for the {name[:40]!r} kernel; it was run with Python 3")
    size = os.lstat(path).st_size
    if size > LARGE_NOTEBOOK_BYTES:
        said.append(f"{path.name} is {size / 1e6:.0f} MB; the outputs saved in it were ignored")
    solutions = {grade_id(c) for c in release.cells if notebooks.is_solution(c)}
    ids = [grade_id(c) for c in submitted.cells if grade_id(c) in solutions]
    if not ids:
        said.append("none of the released solution cells were found (start from the released notebook); "
                    "only code you added was run")
    for gid in sorted({gid for gid in ids if ids.count(gid) > 1}):
        said.append(f"the {gid} cell appears {ids.count(gid)} times; the first one was graded")
    return said


def grade_id(cell: NotebookNode) -> str | None:
    meta = cell.get("metadata", {})
    value = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta.get("nbgrader"), dict) else None
    return value if isinstance(value, str) else None


@dataclass
class Answers:
    """The student's cells matched against the release: solutions by grade_id, added code by place."""

    solutions: dict[str, NotebookNode]  # grade_id -> the student's first cell of that id and type
    added_after: dict[str | None, list[NotebookNode]]  # grade_id of the locked cell before (None: top)


def match(submitted: NotebookNode, release: NotebookNode) -> Answers:
    """Which of the submitted cells answer which released solution cell, and which the student added."""
    release_ids = {grade_id(c): c for c in release.cells if grade_id(c)}
    solution_types = {gid: c.cell_type for gid, c in release_ids.items() if notebooks.is_solution(c)}
    answers = Answers({}, {})
    anchor = None
    for cell in submitted.cells:
        gid = grade_id(cell)
        if gid in release_ids:
            if solution_types.get(gid) == cell.get("cell_type") and gid not in answers.solutions:
                answers.solutions[gid] = cell
            anchor = gid
        elif cell.get("cell_type") == "code" and cell.source.strip():
            answers.added_after.setdefault(anchor, []).append(cell)
    return answers


def names(source: str) -> tuple[set[str], set[str]]:
    """(defined, needed): the globals a cell binds, and those its code (functions included) reads from outside.

    Read with Python's own symbol tables, which compile but never run the code. A cell that does
    not compile needs nothing, and binds the functions it plainly meant to define (`def name(`).
    """
    try:
        top = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(re.findall(r"^def\s+([A-Za-z_]\w*)", source, flags=re.MULTILINE)), set()
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    needed = {s.get_name() for s in top.get_symbols() if s.is_referenced() and not s.is_assigned()}
    tables = list(top.get_children())
    while tables:
        table = tables.pop()
        tables += table.get_children()
        needed |= {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.is_global()}
    return defined, needed - defined - set(dir(builtins))


def demos_needed(release: NotebookNode, own: list[str]) -> set[int]:
    """Indices of the release's illustration cells whose names the student's code (or such a cell) reads.

    Code that works in Jupyter may use a name an illustration defined (`x_test`, say); the grader
    runs just those illustrations, and those they need in turn, not the expensive rest.
    """
    demos = {i: names(c.source) for i, c in enumerate(release.cells) if c.cell_type == "code" and notebooks.is_demo(c)}
    bound = set().union(*(names(source)[0] for source in own))
    needed = set().union(*(names(source)[1] for source in own)) - bound
    chosen: set[int] = set()
    while True:
        more = {i for i, (defined, _) in demos.items() if i not in chosen and defined & needed}
        if not more:
            return chosen
        chosen |= more
        needed |= set().union(*(demos[i][1] for i in more)) - bound


def cells_to_run(submitted: NotebookNode, release: NotebookNode) -> list[Cell]:
    """The code cells to execute, in order: setup, student code, and the illustrations that code needs.

    Visible tests are not run (the hidden checks score everything), nor illustrations that no
    student code needs (their training is not paid for twice).
    """
    found = match(submitted, release)
    position = {id(cell): i for i, cell in enumerate(submitted.cells, start=1)}
    answers = {gid: cell for gid, cell in found.solutions.items() if cell.cell_type == "code"}
    solution_ids = {grade_id(c) for c in release.cells if notebooks.is_solution(c)}
    setup = [c.source for c in release.cells
             if c.cell_type == "code" and not (notebooks.is_demo(c) or notebooks.is_grade(c) or grade_id(c) in solution_ids)]
    own = [c.source for c in answers.values()] + [c.source for cells in found.added_after.values() for c in cells]
    demos = demos_needed(release, setup + own)

    def added(anchor):
        return [Cell(cell.source, "student", None, position[id(cell)]) for cell in found.added_after.get(anchor, [])]

    run = added(None)
    for index, cell in enumerate(release.cells):
        gid = grade_id(cell)
        if cell.cell_type == "code" and gid in solution_ids:
            if gid in answers:  # a deleted solution cell runs nothing: an added cell may define it
                run.append(Cell(answers[gid].source, "solution", gid, position[id(answers[gid])]))
        elif index in demos:
            run.append(Cell(cell.source, "demo", gid))
        elif cell.cell_type == "code" and not (notebooks.is_demo(cell) or notebooks.is_grade(cell)):
            run.append(Cell(cell.source, "setup", gid))
        run += added(gid)
    for item in run:
        if len(item.source) > MAX_CELL_CHARS:
            item.source = f"raise SyntaxError('this cell holds more than {MAX_CELL_CHARS:,} characters; it was not run')"
    return run
