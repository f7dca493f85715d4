"""Hidden data for the minibatch checks, and the checks that fit_line_sgd and fit_line_keras share."""

import numpy as np

from autograder.bridge import Batches, numbers


def analytic_step(a, b, x, y, lr):
    """One gradient-descent step on the batch's mean squared error, in float64: (loss, a_new, b_new)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    residual = a + b * x - y
    return np.mean(residual**2), a - lr * np.mean(2 * residual), b - lr * np.mean(2 * residual * x)


def line(rng, n):
    a, b = rng.uniform(-2, 2), rng.uniform(-3, 3)
    x = rng.uniform(0, 1, size=n).astype(np.float32)
    return x, (a + b * x + rng.normal(0, 0.1, size=n)).astype(np.float32)


def fitted(submission, function, batches, **kwargs):
    """(a, b) from the student's minibatch loop over exactly these batches."""
    result = submission.call(function, Batches(batches), **kwargs).value
    numbers(result, 2, f"{function}'s result (a, b)")
    return result


def check_one_batch(submission, function, rng):
    x, y = line(rng, int(rng.integers(10, 40)))
    lr = float(rng.uniform(0.05, 0.5))
    a, b = numbers(fitted(submission, function, [(x, y)], lr=lr), 2, "(a, b)")
    _, a1, b1 = analytic_step(0.0, 0.0, x, y, lr)
    assert np.isclose(a, a1, rtol=1e-4, atol=1e-6) and np.isclose(b, b1, rtol=1e-4, atol=1e-6), \
        "one batch should give one gradient step from a = b = 0 on that batch's mean squared error, with rate lr"


def check_converges(submission, function, rng, margins):
    x, y = line(rng, 512)
    batches = []
    for _ in range(30):
        order = rng.permutation(len(x))
        batches += [(x[order[i:i + 32]], y[order[i:i + 32]]) for i in range(0, len(x), 32)]
    a, b = numbers(fitted(submission, function, batches), 2, "(a, b)")
    slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
    margins("|a - least squares|", abs(a - intercept), 0.1)
    margins("|b - least squares|", abs(b - slope), 0.15)
    assert abs(a - intercept) < 0.1 and abs(b - slope) < 0.15, \
        "after 30 epochs of batches of 32 with lr=0.25, (a, b) should be near the least-squares line"


def check_floats(submission, function, rng):
    a, b = fitted(submission, function, [line(rng, 16)])
    assert type(a) is float and type(b) is float, "return (a, b) as Python floats: float(a.numpy())"
