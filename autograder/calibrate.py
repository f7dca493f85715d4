"""Train the reference classifier on many seeds: the worst accuracy is what the grader can promise."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

from . import notebooks
from .course import Course
from .sanitize import cells_to_run

ASSIGNMENT = "05_train_and_save"
TEST_POINTS = 100_000

# Runs in the kernel after the notebook's definitions. The data are drawn here, not with the
# notebook's make_square_data, so that a slip there cannot flatter the classifier.
CALIBRATION_CELL = """
import json as _json, time as _time
import numpy as _np
import keras as _keras

def _square_data(n, seed):
    rng = _np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 2)).astype(_np.float32)
    return x, (_np.max(_np.abs(x - 0.5), axis=1) < 1 / _np.sqrt(8)).astype(_np.float32)

_runs = []
for _seed in {seeds!r}:
    _keras.utils.set_random_seed(_seed)
    _x, _y = _square_data(512, 1_000_000 + _seed)
    _x_test, _y_test = _square_data({test_points}, 2_000_000 + _seed)
    _start = _time.perf_counter()
    _model, _history = train_classifier(_x, _y)
    _seconds = _time.perf_counter() - _start
    _p = _model.predict(_x_test, verbose=0, batch_size=8192)[:, 0]
    _runs.append({{"seed": _seed, "accuracy": float(_np.mean((_p > 0.5) == _y_test)),
                  "seconds": _seconds, "epochs": len(_history.history["loss"])}})
print("CALIBRATION" + _json.dumps(_runs))
"""


@dataclass
class Run:
    seed: int
    accuracy: float
    seconds: float
    epochs: int


def calibrate(course: Course, seeds: list[int]) -> list[Run]:
    """Train the source notebook's train_classifier once per seed and score it on fresh data."""
    source = notebooks.read(course.assignment(ASSIGNMENT).path("source"))
    cells = [new_code_cell(cell.source) for cell in cells_to_run(source, source)]  # what the grader would run
    cells.append(new_code_cell(CALIBRATION_CELL.format(seeds=list(seeds), test_points=TEST_POINTS)))
    nb = new_notebook(cells=cells)
    with tempfile.TemporaryDirectory() as scratch:
        executed = notebooks.execute(nb, cwd=Path(scratch), timeout=60 * len(seeds) + 60, allow_errors=False)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.output_type == "stream")
    payload = text[text.index("CALIBRATION") + len("CALIBRATION"):].splitlines()[0]
    return [Run(**run) for run in json.loads(payload)]
