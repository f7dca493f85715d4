import numpy as np
import pytest

from autograder.bridge import array


def applied(submission, name, x, finite=True):
    value = array(submission.call(name, x).value, f"{name}'s result", finite).astype(np.float64)
    assert value.shape == x.shape, f"{name} should keep the input's shape"
    return value


def reference(name, x):
    import keras

    return np.asarray(getattr(keras.activations, name)(x.astype(np.float32)), dtype=np.float64)


@pytest.mark.points(3)
def test_sigmoid(submission, rng):
    """sigmoid: equals keras.activations.sigmoid on hidden inputs"""
    x = rng.normal(0, 4, size=(int(rng.integers(2, 6)), 7))
    assert np.allclose(applied(submission, "sigmoid", x), reference("sigmoid", x), atol=1e-6), "sigmoid(x) = 1 / (1 + e^-x)"


@pytest.mark.points(2)
def test_relu(submission, rng):
    """relu: equals keras.activations.relu on hidden inputs"""
    x = rng.normal(0, 4, size=(3, 4, 5))
    assert np.allclose(applied(submission, "relu", x), reference("relu", x), atol=1e-6), "relu(x) = max(x, 0)"


@pytest.mark.points(3)
def test_softmax(submission, rng):
    """softmax: equals keras.activations.softmax over the last axis"""
    x = rng.normal(0, 3, size=(2, 3, int(rng.integers(3, 8))))
    assert np.allclose(applied(submission, "softmax", x), reference("softmax", x), atol=1e-6), \
        "softmax should work over the last axis"


@pytest.mark.points(2)
def test_stable(submission):
    """softmax: stays finite at inputs of ±1000, and so does sigmoid"""
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]])
    s, p = applied(submission, "sigmoid", x, finite=False), applied(submission, "softmax", x, finite=False)
    assert np.all(np.isfinite(s)) and np.allclose(s, reference("sigmoid", x), atol=1e-6), "sigmoid should stay finite at ±1000"
    assert np.all(np.isfinite(p)) and np.allclose(p, [[1, 0, 0], [1 / (2 + np.e), 1 / (2 + np.e), np.e / (2 + np.e)]], atol=1e-6), \
        "softmax should stay finite at ±1000: subtract the maximum first"
