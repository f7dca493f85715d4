import numpy as np
import pytest
from hidden_models import dense_stack


def compare(submission, rng, model, n_inputs):
    x = rng.normal(size=(int(rng.integers(5, 30)), n_inputs)).astype(np.float32)
    got = submission.call("manual_predict", model, x).value
    got = getattr(got, "value", got)
    assert isinstance(got, np.ndarray), "manual_predict should return a NumPy array"
    expected = model.predict(x, verbose=0)
    assert got.shape == expected.shape, "the prediction should have shape (examples, units of the last layer)"
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-4), "the values differ from the model's own prediction"


@pytest.mark.points(8)
def test_relu_stacks(submission, rng):
    """manual_predict: equals the model's prediction on hidden models and inputs"""
    n = int(rng.integers(2, 6))
    widths = [int(w) for w in rng.integers(2, 9, size=3)]
    compare(submission, rng, dense_stack(rng, n, widths, activations=["relu", "relu", None]), n)


@pytest.mark.points(4)
def test_other_activations(submission, rng):
    """manual_predict: applies each layer's own activation, with or without a bias"""
    n = int(rng.integers(2, 6))
    model = dense_stack(rng, n, [5, 4, 3], activations=["tanh", None, "sigmoid"], biases=[True, False, True])
    compare(submission, rng, model, n)
