"""The sanitizer: what runs is the release's trusted cells plus the student's code, nothing else."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder import notebooks
from autograder.sanitize import SubmissionError, cells_to_run, read_submission


@pytest.fixture(scope="module")
def release(course):
    return notebooks.read(course.assignment("02_gradient_tape").path("release"))


def student_copy(release):
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        if notebooks.is_solution(cell):
            cell.source = cell.source.replace("raise NotImplementedError()", f"return '{notebooks.nbgrader_meta(cell)['grade_id']}'")
    return nb


def test_runs_setup_and_solutions_but_no_demos_or_visible_tests(release):
    run = cells_to_run(student_copy(release), release)
    assert [c.origin for c in run] == ["setup"] + ["solution"] * 4
    assert all("NotImplementedError" not in c.source for c in run)


def test_edited_locked_cells_and_tags_are_undone(release):
    nb = student_copy(release)
    setup = next(c for c in nb.cells if c.cell_type == "code" and not notebooks.is_solution(c))
    setup.source = "import os; os.system('rm -rf /')"
    for cell in nb.cells:
        cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    run = cells_to_run(nb, release)
    assert "rm -rf" not in "".join(c.source for c in run)
    assert run[0].source.startswith("import os\nos.environ")


def test_added_cells_keep_their_place_and_deleted_solutions_run_nothing(release):
    nb = student_copy(release)
    mse_index = next(i for i, c in enumerate(nb.cells) if notebooks.nbgrader_meta(c).get("grade_id") == "mse")
    del nb.cells[mse_index]
    nb.cells.insert(mse_index, new_code_cell("def mse(a, b, x, y):\n    return 0.0"))
    nb.cells.insert(0, new_code_cell("HELPER = 1"))
    nb.cells.append(new_markdown_cell("my notes"))
    run = cells_to_run(nb, release)
    assert [c.origin for c in run] == ["student", "setup", "solution", "student", "solution", "solution"]
    assert run[3].source.startswith("def mse")


def test_reordered_solution_cells_run_in_release_order(release):
    nb = student_copy(release)
    nb.cells.reverse()
    run = cells_to_run(nb, release)
    assert [c.grade_id for c in run if c.origin == "solution"] == ["make_line_data", "mse", "train_step", "fit_line"]


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n", "not JSON text"),
    (b"[1, 2, 3]", "has no cells"),
    (b'{"cells": 5, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a readable notebook"),
    (b"", "not JSON text"),
])
def test_files_that_are_not_notebooks_get_one_line(tmp_path, content, message):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message) as err:
        read_submission(path)
    assert "\n" not in str(err.value)


def test_nbformat_3_is_upgraded(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python"}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb = read_submission(path)
    assert nb.nbformat == 4 and nb.cells[0].source == "x = 1"
