"""The source notebooks keep the contract of SPEC.md: ids, exercise functions, points, layout."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from autograder import notebooks
from autograder.sanitize import names

# SPEC.md: assignment id -> (notebook, exercise functions with their parameter lists)
SPEC = {
    "01_tensors": ("tensors.ipynb", {
        "make_constants": "", "to_numpy": "t", "from_numpy": "arr",
        "replace_item": "t, index, value", "increment": "v, delta", "standardize": "t",
        "best_device": "", "on_device": "values, device",
    }),
    "02_gradient_tape": ("regression.ipynb", {
        "make_line_data": "n, a_true, b_true, noise, seed", "mse": "a, b, x, y",
        "train_step": "a, b, x, y, lr", "fit_line": "x, y, lr=0.5, epochs=100",
    }),
    "03_batched_training": ("batched.ipynb", {
        "make_dataset": "x, y, batch_size=32, epochs=100", "fit_line_sgd": "dataset, lr=0.25",
        "fit_line_keras": "dataset, lr=0.25", "make_fast_step": "lr",
    }),
    "04_keras_models": ("models.ipynb", {
        "build_linear_stack": "", "dense_param_count": "n_inputs, units, use_bias=True",
        "layer_report": "model", "manual_predict": "model, x", "collapse_linear": "model",
        "build_classifier": "hidden=(10, 10)", "build_functional_classifier": "hidden=(10, 10)",
        "sigmoid": "x", "relu": "x", "softmax": "x",
        "mse_loss": "y, p", "binary_crossentropy": "y, p", "categorical_crossentropy": "y, p",
        "build_transfer_model": "n_classes, input_shape=(64, 64, 3)",
    }),
    "05_train_and_save": ("planar.ipynb", {
        "make_square_data": "n, seed", "build_and_compile": "", "train_classifier": "x_train, y_train",
        "save_h5": "model, path", "save_keras": "model, path", "load": "path", "export_savedmodel": "model, path",
    }),
}


def signature(node: ast.FunctionDef) -> str:
    return ast.unparse(node.args)


def solution_functions(nb) -> dict[str, str]:
    found = {}
    for cell in nb.cells:
        if notebooks.is_solution(cell):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    found[node.name] = signature(node)
    return found


def test_assignment_ids_and_notebooks_match_the_spec(course):
    assert {a.id: a.notebook for a in course.assignments} == {k: v[0] for k, v in SPEC.items()}


def test_every_exercise_function_has_the_spec_signature(assignment):
    nb = notebooks.read(assignment.path("source"))
    assert solution_functions(nb) == SPEC[assignment.id][1]


def test_each_assignment_is_worth_100_points(assignment):
    assert sum(exercise.points for exercise in assignment.exercises) == 100


def test_every_solution_cell_is_followed_by_its_locked_grade_cell(assignment):
    """Demonstrations may sit between an exercise and its visible tests, nothing else."""
    cells = notebooks.read(assignment.path("source")).cells
    for index, cell in enumerate(cells):
        if notebooks.is_solution(cell):
            after = next(c for c in cells[index + 1:] if not notebooks.is_demo(c))
            meta = notebooks.nbgrader_meta(after)
            assert notebooks.is_grade(after) and meta["locked"], f"{assignment.id}: no grade cell after cell {index}"
            assert meta["grade_id"] == notebooks.nbgrader_meta(cell)["grade_id"] + "_tests"
            assert meta["points"] > 0


def test_exercise_prose_states_the_points_of_its_grade_cell(assignment):
    """Each exercise heading says '(N points)' and N is what its grade cell awards."""
    cells = notebooks.read(assignment.path("source")).cells
    for index, cell in enumerate(cells):
        if notebooks.is_grade(cell):
            heading = next(c for c in reversed(cells[:index]) if c.cell_type == "markdown" and "### Exercise" in c.source)
            points = notebooks.nbgrader_meta(cell)["points"]
            assert f"({points} points)" in heading.source, f"{assignment.id}: heading {heading.source.splitlines()[0]!r}"


def test_non_solution_cells_are_locked(assignment):
    for cell in notebooks.read(assignment.path("source")).cells:
        meta = notebooks.nbgrader_meta(cell)
        assert meta, "every cell carries nbgrader metadata"
        assert meta["locked"] != meta["solution"], f"cell {meta['grade_id']}: solution cells are open, others locked"


def test_only_demonstrations_and_setup_outside_exercises(assignment):
    """Untagged locked code cells are setup the exercises need; the rest are tagged demos."""
    cells = notebooks.read(assignment.path("source")).cells
    setup = [c for c in cells if c.cell_type == "code" and not (
        notebooks.is_demo(c) or notebooks.is_grade(c) or notebooks.is_solution(c))]
    assert 1 <= len(setup) <= 2, [c.source[:60] for c in setup]
    assert "import tensorflow as tf" in setup[0].source


@pytest.mark.parametrize("phrase", ["Input((2,))", "learning_rate=", "layer.input.shape", ".keras", "compile=False", "tf.device"])
def test_lecture_breakages_are_pointed_out(course, phrase):
    """SPEC.md lists the places where the TF 2.0 lecture's code breaks; each is explained somewhere."""
    notes = [
        cell.source
        for assignment in course.assignments
        for cell in notebooks.read(assignment.path("source")).cells
        if cell.cell_type == "markdown" and "The lecture and this notebook" in cell.source
    ]
    assert any(phrase in note for note in notes)


def test_solution_functions_have_docstrings(assignment):
    nb = notebooks.read(assignment.path("source"))
    for cell in nb.cells:
        if notebooks.is_solution(cell):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    assert inspect.cleandoc(ast.get_docstring(node) or ""), f"{node.name} needs a docstring"


def test_the_last_cell_checks_before_submit_and_knows_the_notebooks_names(assignment):
    """Its lists of exercise functions and illustration names are this notebook's, so it cannot drift."""
    cells = notebooks.read(assignment.path("source")).cells
    check = cells[-1]
    assert notebooks.nbgrader_meta(check).get("grade_id") == "code-check-before-submit"
    assert notebooks.is_demo(check) and notebooks.nbgrader_meta(check)["locked"], "locked, and never run by the grader"
    functions, illustrations = [], set()
    for cell in cells[:-1]:
        if notebooks.is_solution(cell):
            functions += [node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
        if notebooks.is_demo(cell):
            illustrations |= names(cell.source)[0]
    assert f"    functions = {functions!r}\n" in check.source
    listed = re.search(r"\n    illustrations = (\{.*\})\n", check.source).group(1)
    assert ast.literal_eval(listed) == illustrations
    assert "How this notebook is graded" in cells[1].source


def test_check_before_submit_finds_stubs_and_borrowed_names(tmp_path):
    """Run in a kernel after the release's setup and solution cells, one of them written to read x_test."""
    release = notebooks.read(Path(__file__).resolve().parents[1] / "release" / "05_train_and_save" / "planar.ipynb")
    cells = [c for c in release.cells if c.cell_type == "code" and not notebooks.is_grade(c)
             and (not notebooks.is_demo(c) or c is release.cells[-1])]
    for cell in cells:
        if notebooks.nbgrader_meta(cell).get("grade_id") == "train_classifier":
            cell.source = cell.source.replace("raise NotImplementedError()", "return x_test, y_test")
    release.cells = cells
    ran = notebooks.execute(release, tmp_path)
    said = "".join(o.get("text", "") for o in ran.cells[-1].outputs)
    assert "✓ train_classifier is written; it reads x_test, y_test from an illustration cell" in said, said
    assert "○ build_and_compile: not attempted yet" in said
    assert "Restart Kernel and Run All Cells" in said  # no saved notebook path outside JupyterLab
