import numpy as np
import pytest

from autograder.bridge import array, describe


def make(submission, n, a, b, noise, seed):
    answer = submission.call("make_line_data", n, a, b, noise, seed).value
    assert isinstance(answer, tuple) and len(answer) == 2, f"return a pair (x, y); it is {describe(answer)}"
    return array(answer[0], "x"), array(answer[1], "y")


@pytest.fixture
def params(rng):
    return int(rng.integers(3000, 6000)), rng.uniform(-3, 3), rng.uniform(-4, 4), rng.uniform(0.1, 0.5), int(rng.integers(1, 10**6))


@pytest.mark.points(4)
def test_shape_and_dtype(submission, params):
    """make_line_data: x and y are float32 arrays of shape (n,)"""
    n = params[0]
    x, y = make(submission, *params)
    assert x.shape == (n,) and y.shape == (n,), "x and y should both have shape (n,)"
    assert x.dtype == np.float32 and y.dtype == np.float32, "x and y should be float32"


@pytest.mark.points(3)
def test_uniform_inputs(submission, params, margins):
    """make_line_data: x is uniform on [0, 1)"""
    x, _ = make(submission, *params)
    margins("|mean(x) - 1/2|", abs(x.mean() - 0.5), 0.03)
    margins("|std(x) - 1/sqrt(12)|", abs(x.std() - np.sqrt(1 / 12)), 0.03)
    assert x.min() >= 0 and x.max() < 1, "x should lie in [0, 1)"
    assert abs(x.mean() - 0.5) < 0.03 and abs(x.std() - np.sqrt(1 / 12)) < 0.03, "x should be spread uniformly over [0, 1)"


@pytest.mark.points(5)
def test_line_and_noise(submission, params, margins):
    """make_line_data: y lies on a_true + b_true*x with Gaussian noise of std noise"""
    n, a, b, noise, seed = params
    x, y = make(submission, *params)
    residual = y.astype(np.float64) - (a + b * x.astype(np.float64))
    margins("|mean residual|", abs(residual.mean()), 4 * noise / np.sqrt(n) + 1e-3)
    margins("|std(residual)/noise - 1|", abs(residual.std() / noise - 1), 0.1)
    assert abs(residual.mean()) < 4 * noise / np.sqrt(n) + 1e-3, "y should be centred on the line a_true + b_true*x"
    assert abs(residual.std() / noise - 1) < 0.1, "the noise should have standard deviation `noise`"


@pytest.mark.points(3)
def test_seed(submission, params):
    """make_line_data: the same seed gives the same data, another seed other data"""
    n, a, b, noise, seed = params
    first, again, other = make(submission, *params), make(submission, *params), make(submission, n, a, b, noise, seed + 1)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1]), "the same seed should give the same data"
    assert not np.array_equal(first[0], other[0]), "another seed should give other data"
