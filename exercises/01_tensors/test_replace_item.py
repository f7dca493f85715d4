import numpy as np
import pytest

from autograder.bridge import Tensor


def replaced(submission, array, index, value):
    result = submission.call("replace_item", Tensor(array, array.dtype.name, ""), index, value).value
    assert isinstance(result, Tensor), "replace_item should return a tf.Tensor"
    return result


@pytest.mark.points(6)
def test_one_dimensional(submission, rng):
    """replace_item: sets one element of a 1-D tensor (int index)"""
    array = rng.integers(-50, 50, size=int(rng.integers(4, 12))).astype(np.int32)
    index = int(rng.integers(0, len(array)))
    result = replaced(submission, array, index, 777)
    expected = array.copy()
    expected[index] = 777
    assert np.array_equal(result.value, expected), "only the element at the index should change, to the value given"


@pytest.mark.points(8)
def test_n_dimensional(submission, rng):
    """replace_item: sets one element of an N-d tensor (tuple index)"""
    for ndim in (2, 3):
        array = rng.normal(size=tuple(rng.integers(2, 5, size=ndim))).astype(np.float32)
        index = tuple(int(rng.integers(0, n)) for n in array.shape)
        result = replaced(submission, array, index, -2.5)
        expected = array.copy()
        expected[index] = -2.5
        assert np.array_equal(result.value, expected), \
            "with a tuple index, exactly the element at that position should change"


@pytest.mark.points(6)
def test_keeps_dtype_and_shape(submission, rng):
    """replace_item: returns a tensor of t's dtype and shape"""
    for dtype in (np.float32, np.int64):
        array = rng.integers(0, 9, size=(3, 4)).astype(dtype)
        result = replaced(submission, array, (1, 2), 5)
        assert result.dtype == np.dtype(dtype).name, "the new tensor should keep t's dtype"
        assert result.value.shape == array.shape, "the new tensor should keep t's shape"
