import numpy as np
import pytest

from autograder.bridge import Variable


def incremented(submission, array, delta):
    answer = submission.call("increment", Variable(array, array.dtype.name, ""), delta)
    return answer, answer.args_after[0]


@pytest.mark.points(4)
def test_number(submission, rng):
    """increment: adds a number to every element, in place"""
    array = rng.integers(-20, 20, size=int(rng.integers(3, 9))).astype(np.int32)
    delta = int(rng.integers(2, 9))
    _, after = incremented(submission, array, delta)
    assert np.array_equal(after.value, array + delta), "every element of the variable should grow by delta"


@pytest.mark.points(3)
def test_array(submission, rng):
    """increment: adds an array element by element, in place"""
    array = rng.normal(size=(2, 3)).astype(np.float32)
    delta = rng.normal(size=(2, 3)).astype(np.float32)
    _, after = incremented(submission, array, delta)
    assert np.allclose(after.value, array + delta, atol=1e-6), "each element should grow by its own delta"


@pytest.mark.points(3)
def test_same_object(submission, rng):
    """increment: returns the very same Variable"""
    answer, _ = incremented(submission, np.arange(4, dtype=np.float32), 1.0)
    assert isinstance(answer.value, Variable), "return the tf.Variable"
    assert answer.same_as_arg == 0, "return the same Variable object that was passed in, not a new one"
