import numpy as np
import pytest
from conftest import analytic_step, line

from autograder.bridge import Batches, numbers


def fit(submission, batches, **kwargs):
    result = submission.call("fit_line_sgd", Batches(batches), **kwargs).value
    numbers(result, 2, "fit_line_sgd's result (a, b)")
    return result


@pytest.mark.points(12)
def test_one_batch(submission, rng):
    """fit_line_sgd: one batch gives exactly one analytic step from (0, 0)"""
    x, y = line(rng, int(rng.integers(10, 40)))
    lr = float(rng.uniform(0.05, 0.5))
    a, b = numbers(fit(submission, [(x, y)], lr=lr), 2, "(a, b)")
    _, a1, b1 = analytic_step(0.0, 0.0, x, y, lr)
    assert np.isclose(a, a1, rtol=1e-4, atol=1e-6) and np.isclose(b, b1, rtol=1e-4, atol=1e-6), \
        "one batch should give one gradient step from a = b = 0 on that batch's mean squared error"


@pytest.mark.points(8)
def test_two_batches(submission, rng):
    """fit_line_sgd: two batches give two steps, in order, each on its own batch"""
    x, y = line(rng, 40)
    lr = float(rng.uniform(0.05, 0.5))
    a, b = numbers(fit(submission, [(x[:25], y[:25]), (x[25:], y[25:])], lr=lr), 2, "(a, b)")
    _, a1, b1 = analytic_step(0.0, 0.0, x[:25], y[:25], lr)
    _, a2, b2 = analytic_step(a1, b1, x[25:], y[25:], lr)
    assert np.isclose(a, a2, rtol=1e-4, atol=1e-5) and np.isclose(b, b2, rtol=1e-4, atol=1e-5), \
        "each batch should give one step on its own mean squared error, starting where the last step ended"


@pytest.mark.points(10)
def test_converges(submission, rng, margins):
    """fit_line_sgd: converges near least squares on hidden data"""
    x, y = line(rng, 512)
    batches = []
    for _ in range(30):
        order = rng.permutation(len(x))
        batches += [(x[order[i:i + 32]], y[order[i:i + 32]]) for i in range(0, len(x), 32)]
    a, b = numbers(fit(submission, batches), 2, "(a, b)")
    slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
    margins("|a - least squares|", abs(a - intercept), 0.1)
    margins("|b - least squares|", abs(b - slope), 0.15)
    assert abs(a - intercept) < 0.1 and abs(b - slope) < 0.15, \
        "after 30 epochs of batches of 32 with lr=0.25, (a, b) should be near the least-squares line"


@pytest.mark.points(5)
def test_floats(submission, rng):
    """fit_line_sgd: returns two Python floats"""
    a, b = fit(submission, [line(rng, 16)])
    assert type(a) is float and type(b) is float, "return (a, b) as Python floats: float(a.numpy())"
