"""Warm processes that fork: a zygote imports the heavy libraries once, then forks one child per request.

Starting Python and importing TensorFlow, pytest or ipykernel costs 0.5 to 4 s of CPU, paid again for
every submission by a process started fresh. A zygote pays it once per grading worker: it is a fresh
`python -P -m autograder.forkserver` started in `/` with the environment it is given (so no folder of
the grader's is on its path), imports the modules named, and then only forks. Each child calls the
zygote's entry function with its request (JSON) and the file descriptors sent with it (SCM_RIGHTS over
a Unix socket), and ends with the exit code the entry returns. So every child starts from the same
clean state, as a new process would, and nothing of one child reaches another.

The grader knows a child by a pidfd, which stays its own after the zygote has reaped it, and reads its
exit code from a pipe that the child writes last (a killed child writes nothing). TensorFlow starts no
thread pools at import, so forking after the import is safe; each child creates its own.

    python -P -m autograder.forkserver CONTROL_FD [MODULE_TO_IMPORT ...]
"""

from __future__ import annotations

import array
import ctypes
import gc
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from typing import Callable

PR_SET_PDEATHSIG = 1
FORK_SECONDS = 300  # for the zygote's imports (TensorFlow's take seconds) and then its answer
MAX_FDS = 8  # file descriptors sent with one request
MAX_REQUEST = 1 << 20  # bytes
LIBC = ctypes.CDLL(None, use_errno=True)  # looked up before any fork: a child loads nothing to die with its parent


def die_with_parent() -> None:
    """In a child process: be killed when the parent dies, so that nothing outlives a killed grader (Linux)."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def entry(name: str) -> Callable[[dict, list[int]], int]:
    module, function = name.split(":")
    return getattr(importlib.import_module(module), function)


def receive(control: socket.socket, buffer: bytearray) -> tuple[int, list[int]]:
    """One request into buffer: its length (0: the grader is gone) and the descriptors sent with it."""
    size, ancillary, _, _ = control.recvmsg_into([buffer], socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize))
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return size, list(fds)


def serve(control: socket.socket) -> None:
    """The zygote's loop: one child per request, each reaped when its pidfd says it has ended.

    A request is read into one buffer, parsed only in the child, and wiped once the child is forked:
    a check's request carries the grader's environment, and every later kernel starts as a copy of
    this process's memory.
    """
    zygote = os.getpid()
    children: dict[int, int] = {}  # pidfd -> pid
    buffer = bytearray(MAX_REQUEST)
    while True:
        ready = select.select([control, *children], [], [])[0]
        for pidfd in ready:
            if pidfd in children:
                os.waitpid(children.pop(pidfd), 0)
                os.close(pidfd)
        if control not in ready:
            continue
        try:
            size, fds = receive(control, buffer)
        except OSError:
            break
        if not size:
            break  # the grader is gone
        status, *given = fds
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                die_with_parent()
                if os.getppid() != zygote:
                    os._exit(code)  # it died before the line above
                control.close()
                for pidfd in children:
                    os.close(pidfd)
                request = json.loads(buffer[:size])
                code = entry(request.pop("entry"))(request, given)
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    os.write(status, str(code).encode())
                finally:
                    os._exit(code)
        buffer[:size] = bytes(size)
        pidfd = os.pidfd_open(pid)
        children[pidfd] = pid
        socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
        for fd in fds:
            os.close(fd)


class Child:
    """A forked child, known by its pidfd; its exit code is what it wrote to its status pipe."""

    def __init__(self, pid: int, pidfd: int, status: int):
        self.pid, self.pidfd, self.status = pid, pidfd, status
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the child has ended (-9 when it was killed before it could say), else None."""
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait up to timeout seconds (None: for ever) for the child to end: its exit code, else None."""
        if self.returncode is None and select.select([self.pidfd], [], [], timeout)[0]:
            said = os.read(self.status, 32) if select.select([self.status], [], [], 0)[0] else b""
            self.returncode = int(said) if said.strip() else -signal.SIGKILL
        return self.returncode

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        for fd in (self.pidfd, self.status):
            try:
                os.close(fd)
            except OSError:
                pass


class Zygote:
    """A warm process that has imported `preload` under `env`, and forks one child per request."""

    def __init__(self, preload: tuple[str, ...], env: dict[str, str]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile()  # what it says if it cannot start
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "autograder.forkserver", str(theirs.fileno()), *preload],
            pass_fds=[theirs.fileno()], env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, preexec_fn=die_with_parent)
        theirs.close()
        ours.settimeout(FORK_SECONDS)
        self.control = ours

    def fork(self, entry: str, request: dict, fds: list[int] = ()) -> Child:
        """Start one child that runs `entry` (MODULE:FUNCTION) with the request. Raises OSError if the zygote
        has died or does not answer."""
        status, write_end = os.pipe()
        try:
            socket.send_fds(self.control, [json.dumps({**request, "entry": entry}).encode()], [write_end, *fds])
            reply, pidfds, _, _ = socket.recv_fds(self.control, 4096, 1)  # socket.timeout, an OSError, when it hangs
        except BaseException:
            os.close(status)
            raise
        finally:
            os.close(write_end)
        if not reply:
            os.close(status)
            self.log.seek(0)
            raise OSError(f"the zygote has exited: {self.log.read()[-2000:].decode(errors='replace')}")
        return Child(int(json.loads(reply)["pid"]), pidfds[0], status)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.log.close()


ZYGOTES: dict[tuple, Zygote] = {}


def zygote(preload: tuple[str, ...], env: dict[str, str], fresh: bool = False) -> Zygote:
    """This process's zygote with `preload` imported under `env` (one per grading worker)."""
    key = (preload, tuple(sorted(env.items())))
    if fresh or key not in ZYGOTES or not ZYGOTES[key].alive():
        if key in ZYGOTES:
            ZYGOTES.pop(key).close()
        ZYGOTES[key] = Zygote(preload, env)
    return ZYGOTES[key]


def fork(preload: tuple[str, ...], env: dict[str, str], entry: str, request: dict, fds: list[int] = ()) -> Child:
    """Fork one child from this process's zygote, starting a new zygote if it has died (killed from outside, say)."""
    try:
        return zygote(preload, env).fork(entry, request, fds)
    except OSError:
        return zygote(preload, env, fresh=True).fork(entry, request, fds)


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[0]))
    for name in argv[1:]:
        importlib.import_module(name)
    # Out of the collector's reach: a child's collections then neither walk TensorFlow's hundreds of
    # thousands of objects nor copy the pages they sit on.
    gc.freeze()
    serve(control)


if __name__ == "__main__":
    main(sys.argv[1:])
