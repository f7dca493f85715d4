import numpy as np
import pytest

from autograder.bridge import Tensor, number


@pytest.mark.points(7)
def test_value(submission, line, rng):
    """mse: equals the mean squared error of the line on hidden data"""
    x, y = line
    a, b = float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2))
    loss = submission.call("mse", a, b, Tensor(x, "float32", ""), Tensor(y, "float32", "")).value
    value = number(loss, "mse's result")
    expected = np.mean((a + b * x.astype(np.float64) - y) ** 2)
    assert np.isclose(value, expected, rtol=1e-4), "mse should be the mean of (a + b*x - y)**2"


@pytest.mark.points(3)
def test_scalar_tensor(submission, line):
    """mse: returns a scalar tensor"""
    x, y = line
    loss = submission.call("mse", 0.5, -0.5, Tensor(x, "float32", ""), Tensor(y, "float32", "")).value
    assert isinstance(loss, Tensor) and loss.value.shape == (), "mse should return a scalar tf.Tensor"
