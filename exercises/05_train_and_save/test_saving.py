import h5py
import numpy as np
import pytest

from planar_data import predicted

from autograder.bridge import Model, ScratchFile


@pytest.fixture(scope="module")
def saved(submission, reference):
    model, _ = reference
    keras_file = submission.call("save_keras", model, ScratchFile("model.keras"))
    h5_file = submission.call("save_h5", model, ScratchFile("model.h5"))
    return keras_file.folder / "model.keras", h5_file.folder / "model.h5"


@pytest.mark.points(7)
def test_h5_contents(saved, reference):
    """save_h5: writes an HDF5 file holding the architecture and the weights"""
    _, h5_path = saved
    assert h5_path.exists() and h5py.is_hdf5(h5_path), "save_h5 should write an HDF5 file at the path given"
    with h5py.File(h5_path, "r") as f:
        assert "model_config" in f.attrs, "the HDF5 file should hold the architecture (model_config)"
        weights = []
        f["model_weights"].visititems(lambda name, obj: weights.append(obj[()]) if isinstance(obj, h5py.Dataset) else None)
    expected = reference[0].get_weights()
    assert len(weights) == len(expected), "the HDF5 file should hold every weight of the model"
    assert all(any(np.array_equal(w, e) for w in weights) for e in expected), "the stored weights should be the model's"


def same_predictions(path, reference):
    import keras

    model, points = reference
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    return np.allclose(predicted(loaded, points), predicted(model, points), atol=1e-6)


@pytest.mark.points(3)
def test_h5_loads(saved, reference):
    """save_h5: the file loads in a clean process with safe_mode=True and predicts the same"""
    _, h5_path = saved
    assert h5_path.exists() and same_predictions(h5_path, reference), "the .h5 file should load and predict as the model"


@pytest.mark.points(5)
def test_keras_file(saved, reference):
    """save_keras: writes a .keras file that loads with safe_mode=True and predicts the same"""
    keras_path, _ = saved
    assert keras_path.exists(), "save_keras should write a .keras file at the path given"
    assert same_predictions(keras_path, reference), "the .keras file should load and predict as the model"


@pytest.mark.points(5)
def test_load(submission, saved, reference):
    """load: loads both files back"""
    model, points = reference
    for path in saved:
        loaded = submission.call("load", ScratchFile(f"../{path.parent.name}/{path.name}")).value
        assert isinstance(loaded, Model), f"load should return a Keras model for a {path.suffix} file"
        assert np.allclose(predicted(loaded.load(), points), predicted(model, points), atol=1e-6), \
            f"the model loaded from the {path.suffix} file should predict as the original"
