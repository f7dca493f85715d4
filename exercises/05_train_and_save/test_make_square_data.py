import numpy as np
import pytest
from planar_data import HALF_SIDE


@pytest.fixture
def data(submission, rng):
    n, seed = int(rng.integers(3000, 5000)), int(rng.integers(0, 10**6))
    answer = submission.call("make_square_data", n, seed).value
    assert isinstance(answer, tuple) and len(answer) == 2, "return a pair (x, y)"
    x, y = (np.asarray(getattr(part, "value", part)) for part in answer)
    return n, seed, x, y


@pytest.mark.points(3)
def test_shapes(data):
    """make_square_data: x of shape (n, 2) and y of shape (n,), float32"""
    n, _, x, y = data
    assert x.shape == (n, 2) and y.shape == (n,), "x should have shape (n, 2) and y shape (n,)"
    assert x.dtype == np.float32 and y.dtype == np.float32, "x and y should be float32"


@pytest.mark.points(4)
def test_labels(data):
    """make_square_data: y is 1 inside the centred square of half-side 1/√8, else 0"""
    *_, x, y = data
    inside = np.max(np.abs(x.astype(np.float64) - 0.5), axis=1) < HALF_SIDE
    assert np.array_equal(y, inside.astype(np.float32)), "label 1.0 exactly inside the centred square, 0.0 outside"


@pytest.mark.points(2)
def test_uniform(data, margins):
    """make_square_data: points uniform in the unit square"""
    *_, x, _ = data  # y is the labels check's business: a wrong square must not cost twice
    margins("max |mean(x) - 1/2|", np.max(np.abs(x.mean(axis=0) - 0.5)), 0.03)
    assert x.min() >= 0 and x.max() < 1, "points should lie in the unit square"
    assert np.all(np.abs(x.mean(axis=0) - 0.5) < 0.03), "points should be spread uniformly"


@pytest.mark.points(1)
def test_seed(submission, data):
    """make_square_data: the same seed gives the same data"""
    n, seed, x, _ = data
    again = submission.call("make_square_data", n, seed).value
    assert np.array_equal(np.asarray(getattr(again[0], "value", again[0])), x), "the same seed should give the same data"
