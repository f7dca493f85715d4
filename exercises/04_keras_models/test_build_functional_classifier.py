import numpy as np
import pytest

from autograder.bridge import Model


def build(submission, function, *args):
    answer = submission.call(function, *args).value
    assert isinstance(answer, Model), f"{function} should return a Keras model"
    return answer


@pytest.mark.points(3)
def test_functional(submission):
    """build_functional_classifier: a functional keras.Model, not a Sequential"""
    model = build(submission, "build_functional_classifier")
    assert model.type != "Sequential", "build it with keras.Input, layers called on tensors and keras.Model(inputs, outputs)"


@pytest.mark.points(3)
def test_parameter_counts(submission, rng):
    """build_functional_classifier: the parameter count of each layer, for hidden and default widths"""
    widths = tuple(int(w) for w in rng.integers(2, 40, size=int(rng.integers(1, 4))))
    sizes = [2, *widths, 1]
    expected = [n * u + u for n, u in zip(sizes[:-1], sizes[1:])]
    model = build(submission, "build_functional_classifier", widths).load()
    counts = [layer.count_params() for layer in model.layers if layer.count_params()]
    assert counts == expected, "one Dense layer per hidden width, then one output unit, each with its biases"
    assert build(submission, "build_functional_classifier").load().count_params() == 151, \
        "with the default widths the model holds 151 parameters"


@pytest.mark.points(2)
def test_activations(submission):
    """build_functional_classifier: relu hidden layers, one sigmoid output unit, Input((2,))"""
    model = build(submission, "build_functional_classifier", (6, 4)).load()
    dense = [layer for layer in model.layers if layer.count_params()]
    assert [getattr(layer.activation, "__name__", "") for layer in dense] == ["relu", "relu", "sigmoid"], \
        "the hidden layers use relu and the output layer sigmoid"
    assert tuple(model.input_shape) == (None, 2), "the input is a point of the plane: keras.Input((2,))"


@pytest.mark.points(2)
def test_same_as_sequential(submission, rng):
    """build_functional_classifier: predicts as build_classifier given the same weights"""
    widths = tuple(int(w) for w in rng.integers(2, 12, size=2))
    functional = build(submission, "build_functional_classifier", widths).load()
    sequential = build(submission, "build_classifier", widths).load()
    weights = [rng.normal(size=np.shape(w)).astype(np.float32) for w in sequential.get_weights()]
    sequential.set_weights(weights)
    assert [np.shape(w) for w in functional.get_weights()] == [w.shape for w in weights], \
        "it should hold the same weights as build_classifier, in the same order"
    functional.set_weights(weights)
    points = rng.uniform(-1, 2, size=(64, 2)).astype(np.float32)
    assert np.allclose(functional.predict(points, verbose=0), sequential.predict(points, verbose=0), atol=1e-5), \
        "given the same weights, it should predict what build_classifier predicts"
