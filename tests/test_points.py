"""The hidden checks share out exactly the points of the visible grade cells, cell by cell."""

import ast

import pytest

from conftest import ROOT
from autograder.course import Course

WITH_CHECKS = [a for a in Course(ROOT).assignments if (ROOT / "exercises" / a.id).is_dir()]


def check_points(module) -> dict[str, float]:
    """Points of each test function in a check module, read from its @pytest.mark.points(n)."""
    found = {}
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.points":
                    found[node.name] = float(ast.literal_eval(decorator.args[0]))
            assert node.name in found, f"{module.name}::{node.name} has no points marker"
            assert ast.get_docstring(node), f"{module.name}::{node.name} needs a docstring: the check's name"
    return found


def test_every_assignment_has_hidden_checks():
    assert WITH_CHECKS == Course(ROOT).assignments


@pytest.mark.parametrize("checked", WITH_CHECKS, ids=[a.id for a in WITH_CHECKS])
def test_checks_award_exactly_the_grade_cells_points(checked):
    folder = ROOT / "exercises" / checked.id
    hidden = {m.stem.removeprefix("test_"): sum(check_points(m).values()) for m in folder.glob("test_*.py")}
    assert hidden == {exercise.id: exercise.points for exercise in checked.exercises}


@pytest.mark.parametrize("checked", WITH_CHECKS, ids=[a.id for a in WITH_CHECKS])
def test_check_names_start_with_the_function_they_check(checked):
    folder = ROOT / "exercises" / checked.id
    for module in folder.glob("test_*.py"):
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                name = ast.get_docstring(node).splitlines()[0]
                function = name.split(":")[0]
                assert function.isidentifier() and ": " in name, f"{module.name}: {name!r}"
