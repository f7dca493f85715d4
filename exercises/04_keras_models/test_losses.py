import numpy as np
import pytest

from autograder.bridge import number

EPSILON = 1e-7


def loss(submission, name, y, p):
    return number(submission.call(name, y, p).value, f"{name} (also where p is exactly 0 or 1)")


def bce(y, p):
    """Binary cross-entropy as Keras computes it (p clipped to [eps, 1 - eps]), in float64."""
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def one_hot(rng, rows, classes):
    return np.eye(classes)[rng.integers(0, classes, size=rows)]


@pytest.mark.points(3)
def test_mse(submission, rng):
    """mse_loss: equals keras.losses.MeanSquaredError on hidden data"""
    y, p = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert np.isclose(loss(submission, "mse_loss", y, p), np.mean((y - p) ** 2), rtol=1e-5), "the mean of (y - p)**2"


@pytest.mark.points(3)
def test_binary(submission, rng):
    """binary_crossentropy: equals Keras's on hidden labels and probabilities"""
    y = (rng.random(50) > 0.5).astype(float)
    p = rng.uniform(0.01, 0.99, size=50)
    assert np.isclose(loss(submission, "binary_crossentropy", y, p), bce(y, p), rtol=1e-4), \
        "-mean(y log p + (1 - y) log(1 - p))"


@pytest.mark.points(3)
def test_categorical(submission, rng):
    """categorical_crossentropy: equals Keras's on hidden one-hot labels"""
    classes = int(rng.integers(3, 7))
    y = one_hot(rng, 30, classes)
    p = rng.dirichlet(np.ones(classes), size=30)
    expected = -np.mean(np.sum(y * np.log(p), axis=-1))
    assert np.isclose(loss(submission, "categorical_crossentropy", y, p), expected, rtol=1e-4), \
        "-mean over rows of sum(y log p)"


@pytest.mark.points(2)
def test_edges(submission, rng):
    """binary_crossentropy: no inf or NaN at p = 0 and p = 1, clipped as Keras clips; categorical too"""
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.0, 1.0, 1.0, 0.0])
    assert np.isclose(loss(submission, "binary_crossentropy", y, p), bce(y, p), rtol=1e-3), \
        "clip p to [1e-7, 1 - 1e-7] before the logarithms"
    yc, pc = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert np.isclose(loss(submission, "categorical_crossentropy", yc, pc), -np.log(EPSILON) / 2, rtol=1e-3), \
        "clip p to [1e-7, 1 - 1e-7] before the logarithm"
