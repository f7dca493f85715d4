"""The handshake between the grader and the check process: two pipes, messages as JSON lines.

Three processes grade one submission: the grader (runner.py), the notebook's kernel in the sandbox
(kernel.py starts it, agent.py answers in it) and the check process (pytest with checks.py, which
calls the student's functions in that kernel through bridge.py). Grader and checks talk over two
pipes that only they hold, so the sandbox can neither read nor forge a message. Every wait is a
blocking read with a deadline, never a polling loop:

1. The grader starts the check process, which imports and collects its checks while the grader
   runs the notebook in the kernel (runner.CheckProcess).
2. grader -> checks `ready` {ok, message}: the notebook has run; ok false: there is no kernel to call.
3. The checks call functions in the kernel over Jupyter's own messaging (bridge.Submission).
4. grader -> checks `gone`: the watchdog saw the kernel die, so a call fails at once rather than
   after the heartbeat's grace (bridge.HEARTBEAT_GRACE_SECONDS).
5. checks -> grader `revive`, after a call killed or wedged the kernel; grader -> checks `revived`
   {ok} once a fresh kernel has run the notebook again. At most REVIVALS times per submission.
6. checks -> grader `python` {argv, folder, seconds}: run `python ARGV` in a fresh sandbox of its
   own, on a private copy of `folder`, a folder in the submission's scratch (a SavedModel the
   student's code wrote is a graph that may read or write files); grader -> checks `ran` {code,
   folder}: its exit code and the copy, where it wrote (both null: it could not be run).
7. The checks write their report and exit; the grader kills every kernel and process of the submission.

The grader owns every time limit: the notebook's (Limits.notebook_seconds, cells that stop the
kernel left out at most CELLS_LEFT_OUT times) and the checks' (Limits.checks_seconds, counted from
`ready`, revivals and sandboxed runs included). The check process waits without a limit of its own: if the grader
dies, the pipe closes and the check process is killed with it (forkserver.die_with_parent).
"""

from __future__ import annotations

import json
import os
import select
import threading
import time

ENV_PIPES = "AUTOGRADER_HANDSHAKE"  # "READ_FD,WRITE_FD" in the check process
CELLS_LEFT_OUT = 3  # cells that stopped the kernel while the notebook ran, each left out and the notebook run again
REVIVALS = 5  # fresh kernels during the checks, one per call that killed one (02 calls make_line_data five times)

READY, GONE, REVIVE, REVIVED, PYTHON, RAN = "ready", "gone", "revive", "revived", "python", "ran"


class Line:
    """One direction of the handshake: whole JSON messages written and read on a pipe."""

    def __init__(self, read_fd: int | None = None, write_fd: int | None = None):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.buffer = b""
        self.closed = False
        self.lock = threading.Lock()  # the grader's watchdog thread says `gone` beside its main thread

    def send(self, kind: str, **data) -> None:
        message = (json.dumps({"kind": kind, **data}) + "\n").encode()
        with self.lock:
            if self.write_fd is None:
                return  # closed here
            try:
                os.write(self.write_fd, message)  # one small write: atomic on a pipe
            except (BrokenPipeError, OSError):
                pass  # the other side has gone: it has nothing left to be told

    def receive(self, timeout: float | None) -> dict | None:
        """The next message; None when none came within timeout (None: wait for ever) or the pipe closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.closed or self.read_fd is None:
                return None
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.read_fd], [], [], left)[0]:
                return None
            chunk = os.read(self.read_fd, 65536)
            self.closed = not chunk
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        """Close this end once: a number closed twice may by then be another file's."""
        with self.lock:
            for fd in (self.read_fd, self.write_fd):
                if fd is not None:
                    os.close(fd)
            self.read_fd = self.write_fd = None


class GraderSide:
    """The grader's end: says `ready` and `gone`, answers `revive` and `python` requests until the checks finish."""

    def __init__(self):
        to_checks_read, to_checks_write = os.pipe()  # not inheritable: the kernel never gets them
        from_checks_read, from_checks_write = os.pipe()
        self.child_fds = (to_checks_read, from_checks_write)
        self.line = Line(read_fd=from_checks_read, write_fd=to_checks_write)

    def env(self) -> dict[str, str]:
        return {ENV_PIPES: f"{self.child_fds[0]},{self.child_fds[1]}"}

    def started(self) -> None:
        """Once the check process holds its ends: close ours, so that its exit closes the pipe."""
        for fd in self.child_fds:
            os.close(fd)
        self.child_fds = ()

    def ready(self, ok: bool, message: str) -> None:
        self.line.send(READY, ok=ok, message=message)

    def gone(self) -> None:
        self.line.send(GONE)

    def serve(self, seconds: float, revive, python=lambda argv, folder, seconds: (None, None)) -> bool:
        """Answer `revive` with revive() and `python` with python(argv, folder, seconds) -> (code, copy),
        until the checks close their end (True) or `seconds` pass (False)."""
        deadline = time.monotonic() + seconds
        revivals = 0
        while True:
            message = self.line.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                return self.line.closed
            if message.get("kind") == REVIVE:
                revivals += 1
                ok = revivals <= REVIVALS and bool(revive())
                self.line.send(REVIVED, ok=ok)
            elif message.get("kind") == PYTHON:
                left = max(0.0, min(float(message.get("seconds", 0)), deadline - time.monotonic()))
                code, copy = python(list(map(str, message.get("argv", []))), str(message.get("folder")), left)
                self.line.send(RAN, code=code, folder=copy)

    @property
    def closed(self) -> bool:
        return self.line.read_fd is None

    def close(self) -> None:
        """Close our ends, and the check process's too if it never started."""
        self.started()
        self.line.close()


class ChecksSide:
    """The check process's end: waits for `ready`, hears `gone`, asks for fresh kernels and sandboxed runs."""

    def __init__(self, line: Line):
        self.line = line
        self.kernel_lost = False

    @classmethod
    def from_env(cls) -> ChecksSide:
        read_fd, write_fd = (int(fd) for fd in os.environ[ENV_PIPES].split(","))
        return cls(Line(read_fd=read_fd, write_fd=write_fd))

    def wait_ready(self) -> dict:
        """Block until the grader has run the notebook: {ok, message}."""
        while True:
            message = self.line.receive(None)
            if message is None:
                return {"ok": False, "message": "the grader stopped before the notebook had run"}
            if message.get("kind") == READY:
                return {"ok": bool(message.get("ok")), "message": str(message.get("message", ""))}

    def gone(self) -> bool:
        """Whether the grader has said, since the last fresh kernel, that the kernel died (never waits)."""
        while not self.kernel_lost:
            message = self.line.receive(0)
            if message is None:
                break
            self.kernel_lost = message.get("kind") == GONE
        return self.kernel_lost

    def revive(self) -> bool:
        """Ask for a fresh kernel that has run the notebook again; whether one came."""
        self.line.send(REVIVE)
        while True:
            message = self.line.receive(None)
            if message is None:
                return False
            if message.get("kind") == REVIVED:  # a `gone` before it was about the old kernel
                self.kernel_lost = False
                return bool(message.get("ok"))

    def python(self, argv: list[str], folder: str, seconds: float) -> tuple[int | None, str | None]:
        """`python ARGV` in a fresh sandbox, on a copy of `folder`: its exit code and the copy (None: not run)."""
        self.line.send(PYTHON, argv=argv, folder=folder, seconds=seconds)
        while True:
            message = self.line.receive(None)
            if message is None:
                return None, None
            if message.get("kind") == RAN:
                return message.get("code"), message.get("folder")
            self.kernel_lost = self.kernel_lost or message.get("kind") == GONE
