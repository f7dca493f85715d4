"""Hidden data for the planar classifier, drawn by the grader, never by the student's code; and how the
checks read a model's predictions."""

import numpy as np

HALF_SIDE = 1 / np.sqrt(8)


def square_data(rng, n):
    x = rng.uniform(0.0, 1.0, size=(n, 2)).astype(np.float32)
    return x, (np.max(np.abs(x - 0.5), axis=1) < HALF_SIDE).astype(np.float32)


def predicted(model, x) -> np.ndarray:
    """What a Keras model predicts for a few points, by calling it: predict() traces a function for
    every model, ten times the work here."""
    return np.asarray(model(x, training=False))
