import numpy as np
import pytest
from minibatch import analytic_step, check_converges, check_floats, check_one_batch, fitted, line

from autograder.bridge import numbers


@pytest.mark.points(9)
def test_one_batch(submission, rng):
    """fit_line_sgd: one batch gives exactly one analytic step from (0, 0)"""
    check_one_batch(submission, "fit_line_sgd", rng)


@pytest.mark.points(5)
def test_two_batches(submission, rng):
    """fit_line_sgd: two batches give two steps, in order, each on its own batch"""
    x, y = line(rng, 40)
    lr = float(rng.uniform(0.05, 0.5))
    a, b = numbers(fitted(submission, "fit_line_sgd", [(x[:25], y[:25]), (x[25:], y[25:])], lr=lr), 2, "(a, b)")
    _, a1, b1 = analytic_step(0.0, 0.0, x[:25], y[:25], lr)
    _, a2, b2 = analytic_step(a1, b1, x[25:], y[25:], lr)
    assert np.isclose(a, a2, rtol=1e-4, atol=1e-5) and np.isclose(b, b2, rtol=1e-4, atol=1e-5), \
        "each batch should give one step on its own mean squared error, starting where the last step ended"


@pytest.mark.points(7)
def test_converges(submission, rng, margins):
    """fit_line_sgd: converges near least squares on hidden data"""
    check_converges(submission, "fit_line_sgd", rng, margins)


@pytest.mark.points(4)
def test_floats(submission, rng):
    """fit_line_sgd: returns two Python floats"""
    check_floats(submission, "fit_line_sgd", rng)
