import numpy as np
import pytest

from autograder.bridge import Tensor


@pytest.fixture(scope="module")
def constants(submission):
    return submission.call("make_constants").value


@pytest.mark.points(5)
def test_a(constants):
    """make_constants: a is the int32 scalar 3"""
    assert isinstance(constants, tuple) and len(constants) == 2, "return a pair (a, b)"
    a = constants[0]
    assert isinstance(a, Tensor), "a should be a tf.Tensor"
    assert a.dtype == "int32" and a.value.shape == (), "a should be an int32 scalar"
    assert a.value == 3, "a should hold the value 3"


@pytest.mark.points(5)
def test_b(constants):
    """make_constants: b is the float32 matrix [[3, 1, 4], [1, 5, 9]]"""
    assert isinstance(constants, tuple) and len(constants) == 2, "return a pair (a, b)"
    b = constants[1]
    assert isinstance(b, Tensor), "b should be a tf.Tensor"
    assert b.dtype == "float32" and b.value.shape == (2, 3), "b should be a float32 matrix of shape (2, 3)"
    assert np.array_equal(b.value, [[3, 1, 4], [1, 5, 9]]), "b should hold [[3, 1, 4], [1, 5, 9]]"
