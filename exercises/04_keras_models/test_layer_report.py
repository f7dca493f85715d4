import pytest
from hidden_models import dense_stack


@pytest.fixture
def model_and_report(submission, rng):
    widths = [int(w) for w in rng.integers(1, 20, size=int(rng.integers(2, 5)))]
    model = dense_stack(rng, int(rng.integers(1, 9)), widths, biases=[bool(b) for b in rng.random(len(widths)) > 0.3])
    report = submission.call("layer_report", model).value
    assert isinstance(report, list) and len(report) == len(model.layers), "return a list with one dict per layer"
    assert all(isinstance(entry, dict) for entry in report), "each entry should be a dict"
    return model, report


def shape(value):
    return tuple(None if v is None else int(v) for v in value) if isinstance(value, (list, tuple)) else value


@pytest.mark.points(5)
def test_names_units_params(model_and_report):
    """layer_report: one entry per layer with its name, units and parameters"""
    model, report = model_and_report
    for layer, entry in zip(model.layers, report):
        assert entry.get("units") == layer.units, "units should be each layer's number of units"
        assert entry.get("params") == layer.count_params(), "params should be what count_params() gives"
        assert isinstance(entry.get("name"), str) and entry["name"], "name should be the layer's name"


@pytest.mark.points(5)
def test_shapes(model_and_report):
    """layer_report: input and output shapes as summary() shows them"""
    model, report = model_and_report
    for layer, entry in zip(model.layers, report):
        assert shape(entry.get("input_shape")) == tuple(layer.input.shape), "input_shape should be like (None, n)"
        assert shape(entry.get("output_shape")) == tuple(layer.output.shape), "output_shape should be like (None, units)"
