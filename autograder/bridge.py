"""Check-side half of the bridge: call a student's function in the sandboxed kernel, get data back.

Arguments go to the kernel as JSON and `.npy` files in a fresh folder of the scratch area;
answers come back the same way and are decoded here without pickle. Models are loaded with
`safe_mode=True`, so code stored in a model file never runs in the grader.
"""

from __future__ import annotations

import json
import math
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jupyter_client import BlockingKernelClient

from . import structure
from .handshake import ChecksSide
from .sandbox import Limits


HEARTBEAT_GRACE_SECONDS = 10.0


class StudentError(Exception):
    """The student's function raised, or the kernel could not answer."""

    def __init__(self, kind: str, message: str, function: str | None = None):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message
        self.function = function  # the student's function it was raised in, when known


@dataclass
class Tensor:
    value: np.ndarray
    dtype: str
    device: str


@dataclass
class Variable(Tensor):
    pass


@dataclass
class Model:
    path: Path
    devices: list[str]
    type: str

    def load(self):
        import keras

        return keras.models.load_model(self.path, safe_mode=True)


@dataclass
class History:
    history: dict[str, list[float]]


@dataclass
class Dataset:
    elements: list[Any]
    truncated: bool


@dataclass
class Handle:
    id: int
    type: str
    tf_function: bool


@dataclass
class Unsupported:
    type: str


def describe(value: Any) -> str:
    """What kind of thing a returned value is, in words (never its content): for check messages."""
    if value is None:
        return "None"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "infinite"
    if isinstance(value, Unsupported):
        return f"a {value.type} object, which the grader does not read"
    if isinstance(value, Tensor):
        return f"a tensor of shape {value.value.shape}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return {str: "a string", bool: "a bool", dict: "a dict"}.get(type(value), f"a {type(value).__name__}")


def number(value: Any, what: str) -> float:
    """A finite number from an answer (a Python or NumPy number, or a one-element tensor or array).

    Anything else fails the check with a message that says what came back instead.
    """
    raw = value.value if isinstance(value, Tensor) else value
    if isinstance(raw, (int, float, np.number)) and not isinstance(raw, bool):
        raw = np.asarray(raw)
    if not (isinstance(raw, np.ndarray) and raw.size == 1 and raw.dtype.kind in "iuf"):
        raise AssertionError(f"{what} should be a number; it is {describe(value)}")
    result = float(raw.reshape(()))
    if not math.isfinite(result):
        raise AssertionError(f"{what} should be a finite number; it is {describe(result)}")
    return result


def numbers(value: Any, count: int, what: str) -> list[float]:
    """`count` finite numbers from a returned tuple or list."""
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise AssertionError(f"{what} should be {count} numbers; it is {describe(value)}")
    return [number(item, f"each of {what}") for item in value]


def array(value: Any, what: str, finite: bool = True) -> np.ndarray:
    """A numeric array (finite, unless the check looks at that itself) from a returned array or tensor."""
    raw = value.value if isinstance(value, Tensor) else value
    if not (isinstance(raw, np.ndarray) and raw.dtype.kind in "biuf"):
        raise AssertionError(f"{what} should be an array or tensor of numbers; it is {describe(value)}")
    if finite and not np.all(np.isfinite(raw)):
        raise AssertionError(f"{what} should hold finite numbers; it holds NaN or infinity")
    return raw


@dataclass
class Answer:
    """What one call returned: the value, and what became of the arguments."""

    value: Any
    seconds: float
    same_as_arg: int | None
    args_after: list[Any] = field(default_factory=list)
    folder: Path | None = None  # where the call's files are: a ScratchFile argument lands here


def decode(spec: dict, folder: Path) -> Any:
    kind = next(iter(spec))
    if kind == "json":
        return spec["json"]
    if kind == "float":
        return float(spec["float"])
    if kind == "array":
        array = np.load(folder / Path(spec["array"]).name, allow_pickle=False)
        return array[()] if spec.get("scalar") else array
    if kind in ("tensor", "variable"):
        array = np.load(folder / Path(spec[kind]).name, allow_pickle=False)
        cls = Variable if kind == "variable" else Tensor
        return cls(array, str(spec.get("dtype")), str(spec.get("device")))
    if kind in ("list", "tuple"):
        items = [decode(item, folder) for item in spec[kind]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {str(k): decode(v, folder) for k, v in spec["dict"].items()}
    if kind == "model":
        return Model(folder / Path(spec["model"]).name, [str(d) for d in spec.get("devices", [])], str(spec.get("type")))
    if kind == "history":
        return History({str(k): [float(x) for x in v] for k, v in spec["history"].items()})
    if kind == "dataset":
        return Dataset([decode(e, folder) for e in spec["dataset"]], bool(spec.get("truncated")))
    if kind == "handle":
        return Handle(int(spec["handle"]), str(spec.get("type")), bool(spec.get("tf_function")))
    return Unsupported(str(spec.get("unsupported", kind)))


class Encoder:
    """Writes the arguments of one call into its folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    def file(self, suffix: str) -> Path:
        self.count += 1
        return self.folder / f"in{self.count}{suffix}"

    def array(self, value) -> str:
        path = self.file(".npy")
        np.save(path, np.asarray(value), allow_pickle=False)
        return path.name

    def __call__(self, value) -> dict:
        if isinstance(value, Variable):
            return {"variable": self.array(value.value), "dtype": value.dtype}
        if isinstance(value, Tensor):
            return {"tensor": self.array(value.value), "dtype": value.dtype}
        if isinstance(value, (np.ndarray, np.generic)):
            return {"array": self.array(value), "scalar": isinstance(value, np.generic)}
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("checks send finite floats only")
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"json": value}
        if isinstance(value, (list, tuple)):
            return {type(value).__name__: [self(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {k: self(v) for k, v in value.items()}}
        if isinstance(value, Batches):  # one file per part, not per batch: a dataset may hold thousands of batches
            parts = [np.concatenate([np.asarray(batch[i]) for batch in value.batches]) for i in range(len(value.batches[0]))]
            return {"batches": {"parts": [self(part) for part in parts],
                                "sizes": [len(batch[0]) for batch in value.batches]}}
        if isinstance(value, ScratchFile):
            return {"path": value.name}
        if _is_keras_model(value):
            path = self.file(".keras")
            value.save(path)
            return {"model": path.name}
        raise TypeError(f"cannot send {type(value).__name__} to the kernel")


@dataclass
class Batches:
    """A dataset to build in the kernel: exactly these batches, in this order."""

    batches: list[tuple[np.ndarray, ...]]


@dataclass
class ScratchFile:
    """A file name in the call's folder, for functions that write files (save_h5, save_keras)."""

    name: str


def _is_keras_model(value) -> bool:
    return type(value).__module__.startswith("keras") and hasattr(value, "save") and hasattr(value, "layers")


class Submission:
    """The student's notebook, already executed in its kernel, as functions the checks can call."""

    def __init__(self, connection_file: Path, scratch: Path, call_seconds: float = Limits.cell_seconds,
                 grader: ChecksSide | None = None):
        self.connection_file = connection_file
        self.grader = grader  # hears that the kernel died; asks for a fresh one
        self.scratch = scratch
        self.call_seconds = call_seconds
        self.calls = 0
        self.stuck = ""
        self.client = self._connect()

    def _connect(self) -> BlockingKernelClient:
        client = BlockingKernelClient(connection_file=str(self.connection_file))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=30)
        # The checks read answers from files, never from output: stop listening to it, so that a
        # function printing without end cannot fill this process's memory.
        client.iopub_channel.stop()
        return client

    def _lost_kernel(self, what: str) -> str:
        """The kernel died or hangs: get a fresh one for the next checks if the grader gives one."""
        if self.grader:
            self.client.stop_channels()
            if self.grader.revive():
                self.client = self._connect()
                return f"{what}; the notebook was run again in a new kernel for the next checks"
        self.stuck = "the notebook's kernel was lost during an earlier check"
        return what

    def close(self) -> None:
        self.client.stop_channels()

    def call(self, function: str, *args, **kwargs) -> Answer:
        """Call `function(*args, **kwargs)` in the kernel; raise StudentError if it raised."""
        return self._request({"function": function}, args, kwargs)

    def call_handle(self, handle: Handle, *args, **kwargs) -> Answer:
        """Call a function the student's code returned earlier (a handle to it)."""
        return self._request({"handle": handle.id}, args, kwargs)

    def code(self, function: str) -> structure.Code:
        """How `function` is written: the syntax trees of it and of the notebook functions it calls."""
        def source_of(name: str) -> str | None:
            try:
                return self._request({"function": name, "source": True}, (), {}).value
            except StudentError:
                return None
        return structure.read(function, source_of)

    def _request(self, head: dict, args, kwargs) -> Answer:
        self.calls += 1
        folder = self.scratch / "calls" / f"{self.calls:04d}"
        folder.mkdir(parents=True)
        encode = Encoder(folder)
        request = {**head, "args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}
        (folder / "request.json").write_text(json.dumps(request))
        self._execute(f"__autograder_call__({str(folder)!r})")
        response_file = folder / "response.json"
        if not response_file.exists():
            raise StudentError("KernelError", "the notebook's kernel did not answer")
        try:
            answer = json.loads(response_file.read_text())
        except ValueError:
            raise StudentError("KernelError", "the notebook's kernel gave an unreadable answer")
        if "error" in answer:
            error = answer["error"]
            function = error.get("function")
            raise StudentError(str(error.get("type")), str(error.get("message", ""))[:500],
                               function if isinstance(function, str) else None)
        if "unreadable" in answer:
            raise StudentError("Unreadable", f"the grader could not read what your code returned ({str(answer['unreadable'])[:300]})")
        return Answer(
            value=decode(answer["result"], folder),
            seconds=float(answer.get("seconds", 0.0)),
            same_as_arg=answer.get("same_as_arg"),
            args_after=[decode(a, folder) if a else None for a in answer.get("args_after", [])],
            folder=folder,
        )

    def _execute(self, code: str) -> None:
        if self.stuck:
            raise StudentError("Timeout", self.stuck)
        msg_id = self.client.execute(code, silent=True, store_history=False)
        if not self._wait_for_reply(msg_id, self.call_seconds):
            # Interrupt the call, so that the next checks can go on; a kernel that ignores it is stuck.
            self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
            message = f"the call took longer than {self.call_seconds:.0f} s and was stopped"
            if not self._wait_for_reply(msg_id, 10.0):
                message = self._lost_kernel(f"{message}; the kernel did not answer after that")
            raise StudentError("Timeout", message)

    def _wait_for_reply(self, msg_id: str, seconds: float) -> bool:
        """Whether the reply came in time; a kernel whose heartbeat stays silent for a while is dead.

        One missed heartbeat means nothing: on a busy machine a live kernel misses beats. The grader
        says `gone` when it sees the kernel die.
        """
        deadline = time.monotonic() + seconds
        silent_since = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                reply = self.client.get_shell_msg(timeout=min(remaining, 1.0))
            except queue.Empty:
                if self.client.is_alive():
                    silent_since = None
                elif silent_since is None:
                    silent_since = time.monotonic()
                if self.grader and self.grader.gone() or \
                        silent_since is not None and time.monotonic() - silent_since > HEARTBEAT_GRACE_SECONDS:
                    raise StudentError("KernelDied", self._lost_kernel("the notebook's kernel died while your code ran"))
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return True
