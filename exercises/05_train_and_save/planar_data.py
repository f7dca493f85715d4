"""Hidden data for the planar classifier, drawn by the grader, never by the student's code."""

import numpy as np

HALF_SIDE = 1 / np.sqrt(8)


def square_data(rng, n):
    x = rng.uniform(0.0, 1.0, size=(n, 2)).astype(np.float32)
    return x, (np.max(np.abs(x - 0.5), axis=1) < HALF_SIDE).astype(np.float32)
