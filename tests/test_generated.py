"""release/ and solutions/ are generated from source/, hide what they must, and are not stale."""

import ast
import shutil

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import build, notebooks
from autograder.course import Course
from autograder.solutions import make_solution

MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME"]


def solution_bodies(source_nb) -> list[str]:
    """The statements between the solution markers of every solution cell, one string each."""
    bodies = []
    for cell in source_nb.cells:
        if notebooks.is_solution(cell):
            inside, body = False, []
            for line in cell.source.splitlines():
                if "BEGIN SOLUTION" in line:
                    inside, body = True, []
                elif "END SOLUTION" in line:
                    inside = False
                    bodies.append("\n".join(body))
                elif inside and line.strip() and not line.strip().startswith("#"):
                    body.append(line.strip())
    return bodies


def test_release_holds_no_solution_code_and_no_markers(assignment):
    released = assignment.path("release").read_text()
    for marker in MARKERS:
        assert marker not in released
    release = notebooks.read(assignment.path("release"))
    student_cells = "\n".join(cell.source for cell in release.cells if notebooks.is_solution(cell))
    student_lines = {line.strip() for line in student_cells.splitlines()}
    bodies = solution_bodies(notebooks.read(assignment.path("source")))
    for body in bodies:
        leaked = [line for line in body.splitlines() if line in student_lines and len(line) > 3]
        assert not leaked, f"solution lines left in the student's cells: {leaked}"
    assert student_cells.count("raise NotImplementedError()") == len(bodies), "every solution region becomes a stub"


def test_release_has_no_outputs(assignment):
    for cell in notebooks.read(assignment.path("release")).cells:
        assert not cell.get("outputs"), "release notebooks are handed out clean"


def test_solutions_are_executed_without_errors(assignment):
    nb = notebooks.read(assignment.path("solutions"))
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "every code cell of a solution notebook has run"
    assert not notebooks.errors(nb)
    for marker in MARKERS:
        assert marker not in assignment.path("solutions").read_text()


def test_solutions_show_the_plots(course):
    figures = sum(
        "image/png" in output.get("data", {})
        for assignment in course.assignments
        for cell in notebooks.read(assignment.path("solutions")).cells
        for output in cell.get("outputs", [])
    )
    assert figures >= 8


def test_make_solution_keeps_the_code_and_drops_markers_and_hidden_tests():
    cell = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "f", "schema_version": 3}
    tests = new_code_cell("assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() != 2\n### END HIDDEN TESTS")
    tests.metadata["nbgrader"] = {"solution": False, "grade": True, "locked": True, "points": 1, "grade_id": "t",
                                  "schema_version": 3}
    solution = make_solution(new_notebook(cells=[cell, tests]))
    assert solution.cells[1].source == "def f():\n    return 1"
    assert "f() != 2" not in solution.cells[2].source and "assert f() == 1" in solution.cells[2].source
    assert "nbgrader" not in solution.cells[1].metadata
    compile(solution.cells[1].source, "solution", "exec")


def test_generated_folders_match_source(course):
    assert build.drift(course) == []


@pytest.fixture
def course_copy(course, tmp_path):
    for name in ["source", "release", "solutions", "nbgrader_config.py"]:
        src = course.root / name
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, tmp_path / name)
    return Course(tmp_path)


def test_an_edited_source_makes_both_generated_notebooks_stale(course_copy):
    assignment = course_copy.assignment("02_gradient_tape")
    nb = notebooks.read(assignment.path("source"))
    first_markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    first_markdown.source += "\n\nOne more sentence."
    notebooks.write(nb, assignment.path("source"))
    stale = {str(d.path.relative_to(course_copy.root)) for d in build.drift(course_copy)}
    assert stale == {"release/02_gradient_tape/regression.ipynb", "solutions/02_gradient_tape/regression.ipynb"}


def test_a_hand_edited_release_is_stale(course_copy):
    path = course_copy.assignment("04_keras_models").path("release")
    path.write_text(path.read_text().replace("Keras builds networks", "Keras makes networks"))
    assert [d.path for d in build.release_drift(course_copy)] == [path]


def test_released_stubs_are_valid_python(assignment):
    for cell in notebooks.read(assignment.path("release")).cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)
