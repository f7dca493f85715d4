"""Small facts about notebook cells, and running a notebook with a real Jupyter kernel."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

DEMO_TAG = "demo"

# No history database, and no kernel log lines (ipykernel warns about TCP on every start).
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_grade(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("grade"))


def is_solution(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_demo(cell: NotebookNode) -> bool:
    """A demonstration cell: it illustrates, and nothing an exercise needs depends on it."""
    return DEMO_TAG in cell.get("metadata", {}).get("tags", [])


def execute(nb: NotebookNode, cwd: Path, timeout: int = 120, allow_errors: bool = True) -> NotebookNode:
    """Run every code cell of a copy of `nb` in a fresh python3 kernel; return the executed copy."""
    nb = copy.deepcopy(nb)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        record_timing=False,
        extra_arguments=KERNEL_ARGUMENTS,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def errors(nb: NotebookNode) -> list[tuple[int, str, str]]:
    """(cell index, exception name, message) for every error output of an executed notebook."""
    return [
        (index, output.ename, output.evalue)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


def read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
