"""Fixtures for the hidden checks of this assignment."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def reference():
    """A small compiled classifier of the grader's own, with weights the student never saw (drawn, not
    trained: the checks compare what it predicts before and after saving), and points to predict."""
    import keras

    rng = np.random.default_rng(11)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(int(rng.integers(3, 9)), activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.set_weights([rng.normal(0.0, 1.0, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model, rng.uniform(size=(50, 2)).astype(np.float32)
