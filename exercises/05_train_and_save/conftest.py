"""Hidden data for the planar classifier, drawn by the grader, never by the student's code; a model to save."""

import numpy as np
import pytest

HALF_SIDE = 1 / np.sqrt(8)


def square_data(rng, n):
    x = rng.uniform(0.0, 1.0, size=(n, 2)).astype(np.float32)
    return x, (np.max(np.abs(x - 0.5), axis=1) < HALF_SIDE).astype(np.float32)


@pytest.fixture(scope="module")
def reference():
    """A small trained classifier of the grader's own, with weights the student never saw, and points to predict."""
    import keras

    rng = np.random.default_rng(11)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(int(rng.integers(3, 9)), activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = square_data(rng, 64)
    model.fit(x, y, epochs=1, verbose=0)
    return model, rng.uniform(size=(50, 2)).astype(np.float32)
