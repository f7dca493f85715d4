import numpy as np
import pytest

from autograder.bridge import Tensor


def samples(rng):
    """Arrays of several shapes and dtypes, drawn fresh for each grading."""
    return [
        rng.normal(size=tuple(rng.integers(1, 5, size=3))).astype(np.float32),
        rng.integers(-100, 100, size=int(rng.integers(1, 9))).astype(np.int64),
        rng.normal(size=(int(rng.integers(1, 4)), 2)),  # float64
        rng.random(size=(2, 2)) > 0.5,
    ]


@pytest.mark.points(7)
def test_to_numpy(submission, rng):
    """to_numpy: gives a NumPy array with the tensor's values, dtype and shape"""
    for array in samples(rng):
        result = submission.call("to_numpy", Tensor(array, array.dtype.name, "")).value
        assert isinstance(result, np.ndarray), "to_numpy should return a NumPy array"
        assert result.dtype == array.dtype, "to_numpy should keep the tensor's dtype"
        assert result.shape == array.shape, "to_numpy should keep the tensor's shape"
        assert np.array_equal(result, array), "to_numpy should keep the tensor's values"


@pytest.mark.points(8)
def test_from_numpy(submission, rng):
    """from_numpy: gives a tensor with the array's values, dtype and shape"""
    for array in samples(rng):
        result = submission.call("from_numpy", array).value
        assert isinstance(result, Tensor), "from_numpy should return a tf.Tensor"
        assert result.dtype == array.dtype.name, "from_numpy should keep the array's dtype (float64 stays float64)"
        assert result.value.shape == array.shape, "from_numpy should keep the array's shape"
        assert np.array_equal(result.value, array), "from_numpy should keep the array's values"
