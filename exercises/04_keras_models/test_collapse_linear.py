import numpy as np
import pytest
from hidden_models import dense_stack


def check(submission, rng, model, n_inputs):
    answer = submission.call("collapse_linear", model).value
    assert isinstance(answer, tuple) and len(answer) == 2, "collapse_linear should return a pair (W, b)"
    W, b = (np.asarray(getattr(part, "value", part), dtype=np.float64) for part in answer)
    n_outputs = model.layers[-1].units
    assert W.shape == (n_inputs, n_outputs) and b.shape == (n_outputs,), "W should be (n_inputs, n_outputs), b (n_outputs,)"
    x = rng.normal(size=(20, n_inputs))
    assert np.allclose(x @ W + b, model.predict(x.astype(np.float32), verbose=0), rtol=1e-3, atol=1e-3), \
        "x @ W + b should equal the model's output"


@pytest.mark.points(8)
def test_hidden_stacks(submission, rng):
    """collapse_linear: x @ W + b equals the model on hidden linear stacks"""
    n = int(rng.integers(2, 6))
    check(submission, rng, dense_stack(rng, n, [int(w) for w in rng.integers(2, 7, size=int(rng.integers(2, 5)))]), n)


@pytest.mark.points(4)
def test_without_bias(submission, rng):
    """collapse_linear: layers without a bias"""
    n = int(rng.integers(2, 6))
    check(submission, rng, dense_stack(rng, n, [4, 3, 2], biases=[False, True, False]), n)
