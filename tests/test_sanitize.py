"""The sanitizer: what runs is the release's trusted cells plus the student's code, nothing else."""

import copy
import json
import os
import socket
import stat
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder import notebooks
from autograder.sanitize import SubmissionError, cells_to_run, names, read_submission


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


def plain_notebook(path):
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    return path


def link_to_reference(tmp_path):
    os.symlink(Path(__file__).resolve().parents[1] / "source" / "02_gradient_tape" / "regression.ipynb",
               tmp_path / "submission.ipynb")


@pytest.mark.parametrize("make, message", [
    (link_to_reference, "is a symbolic link"),
    (lambda d: os.link(plain_notebook(d / "elsewhere.ipynb"), d / "submission.ipynb"), "is a hard link"),
    (lambda d: os.mkfifo(d / "submission.ipynb"), "is a named pipe"),
    (lambda d: os.mknod(d / "submission.ipynb", 0o600 | stat.S_IFCHR, os.makedev(1, 3)), "is a device"),
    (lambda d: socket.socket(socket.AF_UNIX).bind(str(d / "submission.ipynb")), "is a socket"),
    (lambda d: (d / "submission.ipynb").mkdir(), "is a folder"),
    (lambda d: os.truncate(plain_notebook(d / "submission.ipynb"), 60_000_000), "60 MB"),
])
def test_untrusted_files_are_refused_before_they_are_opened(tmp_path, make, message):
    make(tmp_path)
    started = time.monotonic()
    with pytest.raises(SubmissionError, match=message) as err:
        read_submission(tmp_path / "submission.ipynb", within=tmp_path)
    assert "\n" not in str(err.value) and time.monotonic() - started < 1


def test_a_linked_student_folder_is_refused(tmp_path):
    (tmp_path / "submitted" / "mallory").mkdir(parents=True)
    other = tmp_path / "elsewhere" / "02_gradient_tape"
    other.mkdir(parents=True)
    plain_notebook(other / "regression.ipynb")
    os.symlink(other, tmp_path / "submitted" / "mallory" / "02_gradient_tape")
    with pytest.raises(SubmissionError, match="folder 02_gradient_tape/ is a symbolic link"):
        read_submission(tmp_path / "submitted" / "mallory" / "02_gradient_tape" / "regression.ipynb",
                        within=tmp_path / "submitted")


def test_code_that_uses_an_illustrations_names_gets_that_illustration_and_no_other():
    root = Path(__file__).resolve().parents[1]
    release = nbformat.read(root / "release" / "05_train_and_save" / "planar.ipynb", as_version=4)
    source = nbformat.read(root / "source" / "05_train_and_save" / "planar.ipynb", as_version=4)
    submitted = copy.deepcopy(release)
    for cell, reference in zip(submitted.cells, source.cells):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = reference.source
    plain = cells_to_run(submitted, release)
    assert not [c for c in plain if c.origin == "demo"], "the reference needs no illustration"

    cell = next(c for c in submitted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "train_classifier")
    cell.source = cell.source.replace("validation_data=val", "validation_data=(x_test[:200], y_test[:200])")
    demos = [c for c in cells_to_run(submitted, release) if c.origin == "demo"]
    assert len(demos) == 1 and "x_test, y_test = make_square_data(20_000, seed=1)" in demos[0].source
    assert "train_classifier(x_train, y_train)" not in "".join(c.source for c in demos), "no training twice"


def test_names_reads_functions_and_ignores_builtins_and_locals():
    defined, needed = names("import numpy as np\ndef f(x):\n    y = len(x)\n    return np.mean(x_test) + y\nz = w\n")
    assert defined == {"np", "f", "z"} and needed == {"x_test", "w"}
    assert names("def broken(:\n    pass\nx = 1\n") == ({"broken"}, set()), "a cell that does not compile binds its defs"
