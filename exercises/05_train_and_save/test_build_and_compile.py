import json
import zipfile

import pytest

from autograder.bridge import Model


@pytest.fixture(scope="module")
def built(submission):
    answer = submission.call("build_and_compile").value
    assert isinstance(answer, Model), "build_and_compile should return a Keras model"
    with zipfile.ZipFile(answer.path) as archive:  # read the settings as data, run nothing
        config = json.loads(archive.read("config.json"))
    return answer.load(), config.get("compile_config") or {}


@pytest.mark.points(4)
def test_shapes(built):
    """build_and_compile: maps a point of the plane to one probability"""
    model, _ = built
    assert tuple(model.input_shape) == (None, 2), "the input is a point of the plane: Input((2,))"
    assert tuple(model.output_shape) == (None, 1), "the output is one unit"
    assert model.layers[-1].activation.__name__ == "sigmoid", "the output unit should use a sigmoid"


@pytest.mark.points(4)
def test_loss(built):
    """build_and_compile: compiled with binary cross-entropy"""
    _, compiled = built
    assert compiled, "compile the model before returning it"
    loss = json.dumps(compiled.get("loss")).lower().replace("binarycrossentropy", "binary_crossentropy")
    assert "binary_crossentropy" in loss, 'compile with loss="binary_crossentropy"'


@pytest.mark.points(2)
def test_accuracy(built):
    """build_and_compile: reports the accuracy metric"""
    _, compiled = built
    assert "accuracy" in json.dumps(compiled.get("metrics")), 'compile with metrics=["accuracy"]'
