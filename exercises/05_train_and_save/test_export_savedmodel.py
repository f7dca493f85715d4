import json
from pathlib import Path

import numpy as np
import pytest
from planar_data import predicted

from autograder.bridge import ScratchFile

# Run by the grader in a fresh sandbox of its own: a SavedModel is a graph that the student's code
# wrote, and a graph can hold operations that read or write files.
SERVE = """import json, sys
import numpy as np
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
np.save(sys.argv[3], np.asarray(served.serve(tf.constant(json.loads(sys.argv[2]), dtype=tf.float32))), allow_pickle=False)
"""


@pytest.fixture(scope="module")
def exported(submission, reference):
    model, _ = reference
    return submission.call("export_savedmodel", model, ScratchFile("exported")).folder / "exported"


def served(grader, folder, points) -> np.ndarray | None:
    """What the SavedModel's serve signature predicts for points, or None when it cannot be loaded or called.

    The grader runs it on its own copy of the folder: the student's kernel still runs and may touch theirs.
    """
    code, copy = grader.python(["-c", SERVE, folder.name, json.dumps(points.tolist()), "served.npy"],
                               str(folder.parent), 120)
    if code != 0 or not (Path(copy) / "served.npy").is_file():
        return None
    return np.load(Path(copy) / "served.npy", allow_pickle=False)


@pytest.mark.points(3)
def test_folder(exported):
    """export_savedmodel: writes a SavedModel folder"""
    assert exported.is_dir() and not exported.is_symlink() and (exported / "saved_model.pb").is_file(), \
        "export_savedmodel should write a folder at the path given, with saved_model.pb inside: use model.export(path)"


@pytest.mark.points(7)
def test_serves_the_models_predictions(exported, reference, grader):
    """export_savedmodel: its serve signature, loaded with tf.saved_model.load, predicts as the model"""
    model, points = reference
    predictions = served(grader, exported, points)
    assert predictions is not None, "the folder should load with tf.saved_model.load and answer serve(x)"
    assert predictions.shape == (len(points), 1) and np.allclose(predictions, predicted(model, points), atol=1e-5), \
        "serve(x) should predict what the model given to export_savedmodel predicts"
