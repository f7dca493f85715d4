import numpy as np
import pytest

from autograder.bridge import Dataset, Tensor


@pytest.fixture
def stream(submission, rng):
    """A hidden data set of distinct values, piped through make_dataset: (x, y, batches, epochs)."""
    n, batch_size, epochs = int(rng.integers(40, 70)), int(rng.integers(5, 12)), 3
    x = rng.permutation(np.arange(n)).astype(np.float64) + 0.5  # distinct, float64 on purpose
    y = 3 * x - 1
    ds = submission.call("make_dataset", x, y, batch_size=batch_size, epochs=epochs).value
    assert isinstance(ds, Dataset), "make_dataset should return a tf.data.Dataset"
    batches = []
    for element in ds.elements:
        assert isinstance(element, tuple) and len(element) == 2, "each element should be a pair (x_batch, y_batch)"
        batches.append(element)
    return x, y, batches, epochs, batch_size


def examples(batches):
    return np.concatenate([np.asarray(xb.value, np.float64).ravel() for xb, _ in batches])


@pytest.mark.points(9)
def test_epochs_are_permutations(stream):
    """make_dataset: every epoch is a permutation of the data, x and y kept together"""
    x, _, batches, epochs, _ = stream
    seen = examples(batches)
    assert len(seen) == len(x) * epochs, "the stream should hold every example `epochs` times"
    for epoch in range(epochs):
        chunk = seen[epoch * len(x):(epoch + 1) * len(x)]
        assert np.array_equal(np.sort(chunk), np.sort(x)), "each epoch should hold every example exactly once"
    ys = np.concatenate([np.asarray(yb.value, np.float64).ravel() for _, yb in batches])
    assert np.allclose(ys, 3 * seen - 1), "x and y must stay paired"


@pytest.mark.points(7)
def test_reshuffled(stream):
    """make_dataset: shuffles, and draws a new order every epoch"""
    x, _, batches, epochs, _ = stream
    seen = examples(batches)
    orders = [tuple(seen[e * len(x):(e + 1) * len(x)]) for e in range(epochs)]
    assert orders[0] != tuple(x), "the examples should be shuffled"
    assert len(set(orders)) == epochs, "every epoch should have a new order (shuffle before repeat, reshuffled)"


@pytest.mark.points(6)
def test_whole_set_shuffle(stream, margins):
    """make_dataset: shuffles over the whole set, not a small buffer"""
    x, _, batches, epochs, _ = stream
    seen = examples(batches)
    rank = {value: i for i, value in enumerate(x)}
    reach = [max(rank[v] for v in seen[e * len(x):e * len(x) + 8]) for e in range(epochs)]
    margins("furthest rank among an epoch's first 8", max(reach), len(x) // 2, higher_is_better=True)
    assert max(reach) > len(x) // 2, "a small shuffle buffer keeps examples near their place: use the whole set"


@pytest.mark.points(4)
def test_batch_sizes(stream):
    """make_dataset: batches hold batch_size examples, except perhaps the last"""
    *_, batches, _, batch_size = stream
    sizes = [len(np.asarray(xb.value).ravel()) for xb, _ in batches]
    assert all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size, \
        "every batch should hold batch_size examples; only the last may hold fewer"


@pytest.mark.points(4)
def test_float32(stream):
    """make_dataset: elements are float32 tensors, also for float64 input"""
    *_, batches, _, _ = stream
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor), "the batches should be tensors"
    assert xb.dtype == "float32" and yb.dtype == "float32", "cast x and y to float32"
