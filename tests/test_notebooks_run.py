"""Every notebook runs with real kernels: source cleanly and fast, release failing only at the stubs."""

import ast
import re
import time

import pytest

from autograder import build, notebooks

pytestmark = pytest.mark.slow

SOURCE_TIME_LIMIT = 60  # seconds, kernel start included, on 2 CPU cores


def assigned_names(source: str) -> set[str]:
    """Names a cell binds at any depth (assignments, loop targets, with ... as)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def errors_not_from_stubs(executed) -> list[str]:
    """Errors other than a stub's NotImplementedError, or a NameError for a value a failed cell never made."""
    never_made: set[str] = set()
    unexplained = []
    for index, cell in enumerate(executed.cells):
        failures = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if not failures:
            continue
        error = failures[0]
        missing = re.fullmatch(r"name '(\w+)' is not defined", error.evalue or "")
        if error.ename != "NotImplementedError" and not (error.ename == "NameError" and missing and missing[1] in never_made):
            unexplained.append(f"cell {index}: {error.ename}: {error.evalue}")
        never_made |= assigned_names(cell.source)
    return unexplained


def test_source_notebook_runs_cleanly_within_the_time_limit(assignment, tmp_path):
    start = time.perf_counter()
    executed = notebooks.execute(notebooks.read(assignment.path("source")), cwd=tmp_path)
    seconds = time.perf_counter() - start
    print(f"{assignment.id}: {seconds:.1f} s")
    assert notebooks.errors(executed) == []
    assert seconds < SOURCE_TIME_LIMIT


def test_release_notebook_fails_only_at_the_stubs(assignment, tmp_path):
    executed = notebooks.execute(notebooks.read(assignment.path("release")), cwd=tmp_path)
    assert notebooks.errors(executed), "a release notebook with stubs must raise somewhere"
    assert errors_not_from_stubs(executed) == []


def test_error_rule_rejects_a_real_error():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    def failed(source, ename, evalue):
        cell = new_code_cell(source)
        cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[])]
        return cell

    nb = new_notebook(cells=[
        failed("x, y = make()", "NotImplementedError", ""),
        failed("plot(x)", "NameError", "name 'x' is not defined"),
        failed("plot(z)", "NameError", "name 'z' is not defined"),
        failed("1 / 0", "ZeroDivisionError", "division by zero"),
    ])
    assert errors_not_from_stubs(nb) == ["cell 2: NameError: name 'z' is not defined",
                                         "cell 3: ZeroDivisionError: division by zero"]


def test_nbgrader_validate_passes_source_and_fails_release(course, assignment):
    assert build.failed_grade_cells(course, assignment.path("source")) == 0
    assert build.failed_grade_cells(course, assignment.path("release")) == len(assignment.exercises)
