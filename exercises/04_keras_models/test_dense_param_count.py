import pytest


@pytest.mark.points(4)
def test_with_bias(submission, rng):
    """dense_param_count: weights and biases, on hidden sizes"""
    for _ in range(3):
        n, units = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        assert submission.call("dense_param_count", n, units).value == n * units + units, \
            "a Dense layer holds n_inputs × units weights plus one bias per unit"


@pytest.mark.points(2)
def test_without_bias(submission, rng):
    """dense_param_count: without a bias, the weights only"""
    n, units = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    assert submission.call("dense_param_count", n, units, use_bias=False).value == n * units, \
        "with use_bias=False there are no biases to count"


@pytest.mark.points(1)
def test_int(submission, rng):
    """dense_param_count: returns an int"""
    assert type(submission.call("dense_param_count", 3, 4).value) is int, "return a Python int"
