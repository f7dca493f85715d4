"""The wire between the check process (bridge.py) and the kernel (agent.py), without a kernel.

The agent's text is executed in a plain namespace, as the kernel executes it after the notebook;
a call goes through the same files: bridge.Encoder writes the request, the agent answers, and
bridge.decode reads the answer. Every kind of value crosses both ways.
"""

import json
import linecache
import math
from pathlib import Path

import numpy as np
import pytest

from autograder import bridge
from autograder.runner import AGENT


@pytest.fixture(scope="module")
def kernel():
    """A namespace holding the agent and a few student functions, as a notebook's kernel would."""
    namespace = {"__name__": "__main__"}
    cell("import json\n"
         "def echo(*args, **kwargs):\n    return args if not kwargs else (args, kwargs)\n"
         "def fails(x):\n    return helper(x)\n"
         "def helper(x):\n    raise ValueError('no good')\n"
         "def broken_float():\n    return float('nan')\n"
         "def maker():\n    return echo\n"
         "def odd():\n    return object()\n"
         "def batches_of(dataset):\n    return [tuple(part.numpy() for part in batch) for batch in dataset]\n",
         namespace, "<cell-1>")
    exec(compile(AGENT.read_text(), str(AGENT), "exec"), namespace)
    return namespace


def cell(source: str, namespace: dict, name: str) -> None:
    """Run a cell as IPython does: its text is kept where inspect.getsource finds it."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), namespace)


def call(kernel, folder: Path, function: str, *args, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    encode = bridge.Encoder(folder)
    request = {"function": function, "args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}
    (folder / "request.json").write_text(json.dumps(request))
    kernel["__autograder_call__"](str(folder))
    return json.loads((folder / "response.json").read_text())


@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, "text", [1, 2.0, "x"], (1, (2, 3)), {"a": [1, 2], "b": None},
    np.arange(6, dtype=np.int32).reshape(2, 3), np.float32(1.5), np.array([0.5, -1.0]),
], ids=lambda v: type(v).__name__)
def test_plain_values_cross_both_ways_unchanged(kernel, tmp_path, value):
    answer = call(kernel, tmp_path, "echo", value)
    (back,) = bridge.decode(answer["result"], tmp_path)
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        assert np.asarray(back).dtype == np.asarray(value).dtype and np.array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_tensors_and_variables_keep_dtype_and_device(kernel, tmp_path):
    answer = call(kernel, tmp_path, "echo", bridge.Tensor(np.ones((2, 2), np.float32), "float32", ""),
                  bridge.Variable(np.arange(3.0), "float64", ""))
    tensor, variable = bridge.decode(answer["result"], tmp_path)
    assert isinstance(tensor, bridge.Tensor) and tensor.dtype == "float32" and tensor.device.endswith("CPU:0")
    assert isinstance(variable, bridge.Variable) and variable.dtype == "float64"
    assert np.array_equal(variable.value, np.arange(3.0))
    assert answer["args_after"][1] and not answer["args_after"][0], "variables are reported after the call"


def test_keyword_arguments_and_results_that_are_functions(kernel, tmp_path):
    answer = call(kernel, tmp_path, "echo", 1, scale=2.0)
    assert bridge.decode(answer["result"], tmp_path) == ((1,), {"scale": 2.0})
    handle = bridge.decode(call(kernel, tmp_path / "h", "maker")["result"], tmp_path / "h")
    assert isinstance(handle, bridge.Handle) and handle.type == "function" and not handle.tf_function


def test_batches_arrive_as_a_dataset_of_exactly_those_batches(kernel, tmp_path):
    x, y = np.arange(10, dtype=np.float32), np.arange(10, 20, dtype=np.int64)
    sent = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 10, 4)]  # sizes 4, 4, 2
    answer = call(kernel, tmp_path, "batches_of", bridge.Batches(sent))
    received = bridge.decode(answer["result"], tmp_path)
    assert len(list(tmp_path.glob("in*.npy"))) == 2, "one file per part, however many batches"
    assert len(received) == len(sent)
    for got, want in zip(received, sent):
        assert all(g.dtype == w.dtype and np.array_equal(g, w) for g, w in zip(got, want))


def test_errors_name_their_kind_and_the_function_they_came_from(kernel, tmp_path):
    error = call(kernel, tmp_path / "a", "fails", 1)["error"]
    assert (error["type"], error["message"], error["function"]) == ("ValueError", "no good", "helper")
    error = call(kernel, tmp_path / "b", "missing")["error"]
    assert (error["type"], error["message"], error["function"]) == ("NameError", "name 'missing' is not defined", None)


def test_non_finite_floats_and_unknown_objects_arrive_as_what_they_are(kernel, tmp_path):
    assert math.isnan(bridge.decode(call(kernel, tmp_path / "a", "broken_float")["result"], tmp_path / "a"))
    value = bridge.decode(call(kernel, tmp_path / "b", "odd")["result"], tmp_path / "b")
    assert isinstance(value, bridge.Unsupported) and "which the grader does not read" in bridge.describe(value)


def test_source_is_given_only_for_the_notebooks_own_functions(kernel, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "request.json").write_text(json.dumps({"function": "echo", "source": True}))
    kernel["__autograder_call__"](str(folder))
    assert json.loads((folder / "response.json").read_text())["result"]["json"].startswith("def echo(")
    (folder / "request.json").write_text(json.dumps({"function": "json", "source": True}))  # a module, not theirs
    kernel["__autograder_call__"](str(folder))
    assert json.loads((folder / "response.json").read_text())["error"]["type"] == "TypeError"
