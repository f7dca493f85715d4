import numpy as np
import pytest
from regression_data import analytic_step

from autograder.bridge import numbers


@pytest.fixture(scope="module")
def uses_gradient_tape(submission):
    """Whether fit_line's code, or a notebook function it calls (train_step), uses tf.GradientTape."""
    return submission.code("fit_line").uses("GradientTape")


def fit(submission, uses_gradient_tape, x, y, **kwargs):
    """fit_line's (a, b) on hidden data; it earns nothing unless tf.GradientTape does the work."""
    result = submission.call("fit_line", x, y, **kwargs).value
    numbers(result, 2, "fit_line's result (a, b)")
    if not uses_gradient_tape:
        pytest.fail("fit_line must compute its gradients with tf.GradientTape (directly or through a function "
                    "it calls, such as train_step); an answer found another way earns none of these points")
    return result


@pytest.mark.points(20)
def test_least_squares(submission, uses_gradient_tape, rng, margins):
    """fit_line: matches least squares on hidden data"""
    n = int(rng.integers(100, 300))
    a_true, b_true = rng.uniform(-2, 2), rng.uniform(-2, 2)
    x = rng.uniform(0, 1, size=n).astype(np.float32)
    y = (a_true + b_true * x + rng.normal(0, 0.1, size=n)).astype(np.float32)
    a, b = numbers(fit(submission, uses_gradient_tape, x, y), 2, "(a, b)")
    slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
    margins("|a - least squares|", abs(a - intercept), 0.05)
    margins("|b - least squares|", abs(b - slope), 0.05)
    assert abs(a - intercept) < 0.05 and abs(b - slope) < 0.05, \
        "after 100 epochs with lr=0.5, (a, b) should be close to the least-squares line of the data"


@pytest.mark.points(10)
def test_one_epoch(submission, uses_gradient_tape, line, rng):
    """fit_line: with epochs=1, equals one analytic step from (0, 0)"""
    x, y = line
    lr = float(rng.uniform(0.1, 0.6))
    a, b = numbers(fit(submission, uses_gradient_tape, x, y, lr=lr, epochs=1), 2, "(a, b)")
    _, a1, b1 = analytic_step(0.0, 0.0, x, y, lr)
    assert np.isclose(a, a1, rtol=1e-4, atol=1e-6) and np.isclose(b, b1, rtol=1e-4, atol=1e-6), \
        "one epoch should be exactly one gradient step from a = b = 0"


@pytest.mark.points(10)
def test_gradient_tape(submission, uses_gradient_tape, line):
    """fit_line: trains with tf.GradientTape"""
    submission.call("fit_line", *line, epochs=3)  # a method earns points only in code that runs
    assert uses_gradient_tape, "fit_line should compute its gradients with tf.GradientTape (directly or through train_step)"


@pytest.mark.points(5)
def test_floats(submission, uses_gradient_tape, line):
    """fit_line: returns two Python floats"""
    a, b = fit(submission, uses_gradient_tape, *line, epochs=3)
    assert type(a) is float and type(b) is float, "return (a, b) as Python floats: float(a.numpy())"
