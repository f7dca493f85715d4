import pytest

from autograder.bridge import Model


@pytest.fixture(scope="module")
def stack(submission):
    answer = submission.call("build_linear_stack").value
    assert isinstance(answer, Model), "build_linear_stack should return a Keras model"
    return answer.load()


@pytest.mark.points(4)
def test_parameters(stack):
    """build_linear_stack: per-layer parameters [9, 12, 4], 25 in all"""
    assert [layer.count_params() for layer in stack.layers] == [9, 12, 4], \
        "the three Dense layers should hold 9, 12 and 4 parameters"
    assert stack.count_params() == 25, "the model should hold 25 parameters in all"


@pytest.mark.points(2)
def test_shapes(stack):
    """build_linear_stack: Input((2,)), then Dense layers of 3, 3 and 1 units"""
    assert [getattr(layer, "units", None) for layer in stack.layers] == [3, 3, 1], "Dense(3), Dense(3), Dense(1)"
    assert tuple(stack.input_shape) == (None, 2), "the input is Input((2,))"


@pytest.mark.points(2)
def test_linear(stack):
    """build_linear_stack: no activations"""
    assert all(layer.activation.__name__ == "linear" for layer in stack.layers), "the layers have no activation"
