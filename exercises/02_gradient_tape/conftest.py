"""Fixtures for the hidden checks of this assignment."""

import pytest

from regression_data import line_data


@pytest.fixture
def line(rng):
    return line_data(rng)
