"""Reading a student's returned values in the check process: wrong forms fail with a message that names them."""

import numpy as np
import pytest

from autograder.bridge import Tensor, Unsupported, array, describe, number, numbers


@pytest.mark.parametrize("value, said", [
    (None, "it is None"),
    ("0.5", "it is a string"),
    (True, "it is a bool"),
    (Unsupported("Liar"), "it is a Liar object, which the grader does not read"),
    (np.array([1.0, 2.0]), "it is an array of shape (2,)"),
    ((1.0, 2.0), "it is a tuple of 2 items"),
    ({"a": 1}, "it is a dict"),
])
def test_a_value_that_is_not_a_number_is_named(value, said):
    with pytest.raises(AssertionError) as failure:
        number(value, "mse's result")
    assert str(failure.value) == f"mse's result should be a number; {said}"


@pytest.mark.parametrize("value, said", [(float("nan"), "NaN"), (np.float32("inf"), "infinite"),
                                         (Tensor(np.array(np.nan), "float32", ""), "NaN")])
def test_a_number_that_is_not_finite_fails(value, said):
    with pytest.raises(AssertionError, match=f"should be a finite number; it is {said}"):
        number(value, "the loss")


@pytest.mark.parametrize("value", [2, 2.0, np.float32(2), np.int64(2), np.array([[2.0]]),
                                   Tensor(np.array(2.0, np.float32), "float32", "/CPU:0")])
def test_numbers_in_any_honest_form_are_read(value):
    assert number(value, "x") == 2.0


def test_pairs_and_arrays():
    assert numbers((1, np.float32(2)), 2, "(a, b)") == [1.0, 2.0]
    with pytest.raises(AssertionError, match=r"\(a, b\) should be 2 numbers; it is None"):
        numbers(None, 2, "(a, b)")
    with pytest.raises(AssertionError, match="each of .* should be a number; it is a Liar object"):
        numbers((1.0, Unsupported("Liar")), 2, "(a, b)")
    assert array(Tensor(np.ones(3), "float64", ""), "x").sum() == 3
    with pytest.raises(AssertionError, match="x should hold finite numbers"):
        array(np.array([1.0, np.nan]), "x")
    assert np.isnan(array(np.array([np.nan]), "x", finite=False)[0])
    with pytest.raises(AssertionError, match="x should be an array or tensor of numbers; it is a list of 2 items"):
        array([1, 2], "x")
    assert describe(Unsupported("bytes")) == "a bytes object, which the grader does not read"
