import pytest

from autograder.bridge import Model


def build(submission, *args):
    answer = submission.call("build_classifier", *args).value
    assert isinstance(answer, Model), "build_classifier should return a Keras model"
    return answer.load()


@pytest.mark.points(5)
def test_hidden_widths(submission, rng):
    """build_classifier: the parameter count of each layer for hidden widths"""
    widths = tuple(int(w) for w in rng.integers(2, 40, size=int(rng.integers(1, 4))))
    model = build(submission, widths)
    sizes = [2, *widths, 1]
    expected = [n * u + u for n, u in zip(sizes[:-1], sizes[1:])]
    assert [layer.count_params() for layer in model.layers] == expected, \
        "one Dense layer per hidden width, then one output unit, each with its biases"


@pytest.mark.points(2)
def test_default(submission):
    """build_classifier: the default hidden=(10, 10) gives 151 parameters"""
    assert build(submission).count_params() == 151, "with the default widths the model holds 151 parameters"


@pytest.mark.points(3)
def test_activations(submission):
    """build_classifier: relu hidden layers, one sigmoid output unit, Input((2,))"""
    model = build(submission, (6, 4))
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "sigmoid"], \
        "the hidden layers use relu and the output layer sigmoid"
    assert tuple(model.input_shape) == (None, 2), "the input is a point of the plane: Input((2,))"
