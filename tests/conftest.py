"""Shared fixtures: the course in this checkout."""

from pathlib import Path

import pytest

from autograder.course import Course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)


def pytest_generate_tests(metafunc):
    """Parametrize any test that takes `assignment` over every assignment of the course."""
    if "assignment" in metafunc.fixturenames:
        assignments = Course(ROOT).assignments
        metafunc.parametrize("assignment", assignments, ids=[a.id for a in assignments])
