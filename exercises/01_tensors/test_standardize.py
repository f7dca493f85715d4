import numpy as np
import pytest

from autograder.bridge import Tensor


def data(rng, dtype=np.float32):
    """Columns on very different scales and offsets.

    Offsets stay within 20 standard deviations: farther, float32 itself cannot centre a column to
    the tolerance below (offsets of 10^4 std left means of 1e-3 even for the reference).
    """
    rows, cols = int(rng.integers(20, 60)), int(rng.integers(2, 6))
    scales = 10.0 ** rng.uniform(-2, 3, size=cols)
    offsets = scales * rng.uniform(-20, 20, size=cols)
    return (rng.normal(size=(rows, cols)) * scales + offsets).astype(dtype)


def standardized(submission, array):
    result = submission.call("standardize", Tensor(array, array.dtype.name, "")).value
    assert isinstance(result, Tensor), "standardize should return a tf.Tensor"
    return result


@pytest.mark.points(8)
def test_mean_and_std(submission, rng, margins):
    """standardize: each column has mean 0 and population std 1"""
    result = standardized(submission, data(rng)).value.astype(np.float64)
    margins("max |column mean|", np.max(np.abs(result.mean(axis=0))), 1e-4)
    margins("max |column std - 1|", np.max(np.abs(result.std(axis=0) - 1)), 1e-3)
    assert np.allclose(result.mean(axis=0), 0.0, atol=1e-4), "each column (axis 0) should have mean 0"
    assert np.allclose(result.std(axis=0), 1.0, atol=1e-3), \
        "each column should have standard deviation 1, with the population formula (divide by n)"


@pytest.mark.points(4)
def test_float32_for_integers(submission, rng):
    """standardize: returns float32, also for integer input"""
    integers = rng.integers(0, 1000, size=(30, 3)).astype(np.int32)
    result = standardized(submission, integers)
    assert result.dtype == "float32", "the result should be float32"
    assert np.allclose(result.value.astype(np.float64).mean(axis=0), 0.0, atol=1e-4), \
        "integer input should be standardised too"


@pytest.mark.points(3)
def test_shape(submission, rng):
    """standardize: keeps the shape"""
    array = data(rng)
    assert standardized(submission, array).value.shape == array.shape, "the result should have the input's shape"
