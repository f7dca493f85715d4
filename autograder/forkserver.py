"""Warm processes that fork: a zygote imports the heavy libraries once, then forks one child per request.

Starting Python and importing TensorFlow, pytest or ipykernel costs 0.5 to 4 s of CPU, paid again for
every submission by a process started fresh. A zygote pays it once per class: it is a fresh
`python -m autograder.forkserver` started in `/` with the environment it is given, which takes `/` off
its path first thing (so no folder of the grader's is on it; not `-P`, which IPython would read and
then keep a kernel's own folder off its path), imports the modules named, and then only forks. Each
child calls the entry function its request names with the request (JSON) and the file descriptors
sent with it (SCM_RIGHTS over a Unix socket), and ends with the exit code the entry returns. So every child starts from the same
clean state, as a new process would, and nothing of one child reaches another.

The grader knows a child by a pidfd, which stays its own after the zygote has reaped it, and reads its
exit code from a pipe that the child writes last (a killed child writes nothing). TensorFlow starts no
thread pools at import, so forking after the import is safe; each child creates its own.

    python -m autograder.forkserver LISTENING_SOCKET_FD [MODULE_TO_IMPORT ...]
"""

from __future__ import annotations

import array
import atexit
import contextlib
import ctypes
import functools
import gc
import hashlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
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


def serve(listener: socket.socket) -> None:
    """The zygote's loop: one child per request, from any connection; each child reaped when its pidfd
    says it has ended, and killed when the connection that asked for it goes (its worker died: no
    watchdog is left to bound it). A worker's failure ends only its own connection.
    """
    connections: dict[socket.socket, set[int]] = {}  # connection -> pidfds of the children it asked for
    children: dict[int, int] = {}  # pidfd -> pid
    buffer = bytearray(MAX_REQUEST)
    while True:
        ready = select.select([listener, *connections, *children], [], [])[0]
        for pidfd in [fd for fd in ready if fd in children]:
            os.waitpid(children.pop(pidfd), 0)
            os.close(pidfd)
            for asked in connections.values():
                asked.discard(pidfd)
        if listener in ready:
            try:
                connections[listener.accept()[0]] = set()
            except OSError:
                pass  # out of descriptors, say: that worker's connect fails and it starts a zygote of its own
        for connection in [c for c in connections if c in ready]:
            try:
                answer(connection, buffer, listener, connections, children)
            except OSError:  # the worker is gone, or went mid-request
                for pidfd in connections.pop(connection):
                    kill(pidfd)
                connection.close()


def answer(connection: socket.socket, buffer: bytearray, listener: socket.socket,
           connections: dict[socket.socket, set[int]], children: dict[int, int]) -> None:
    """Fork the child one request asks for and send its pid and pidfd back (or why it could not be forked).

    The request is read into one buffer, parsed only in the child, and wiped once the child is forked:
    a check's request carries the grader's environment, and every later kernel starts as a copy of
    this process's memory.
    """
    size, fds = receive(connection, buffer)
    if not size:
        raise ConnectionResetError("the worker is gone")
    zygote = os.getpid()
    try:
        try:
            pid = os.fork()
        except OSError as err:  # no process left to fork, say
            connection.send(json.dumps({"error": str(err)}).encode())
            return
        if pid == 0:
            run_child(zygote, buffer[:size], fds, (listener, *connections), children)
        pidfd = os.pidfd_open(pid)
        children[pidfd] = pid
        connections[connection].add(pidfd)
    finally:
        buffer[:size] = bytes(size)
        for fd in fds:
            os.close(fd)
    socket.send_fds(connection, [json.dumps({"pid": pid}).encode()], [pidfd])


def run_child(zygote: int, message: bytes, fds: list[int], held: tuple[socket.socket, ...],
              children: dict[int, int]) -> None:
    """In the forked child: run the request's entry, write its exit code to the status pipe, and exit."""
    status, *given = fds
    code = 70
    try:
        die_with_parent()
        if os.getppid() != zygote:
            os._exit(code)  # it died before the line above
        for sock in held:
            sock.close()
        for pidfd in children:
            os.close(pidfd)
        request = json.loads(message)
        code = entry(request.pop("entry"))(request, given)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            os.write(status, str(code).encode())
        finally:
            os._exit(code)


def kill(pidfd: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass


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
        kill(self.pidfd)

    def close(self) -> None:
        for fd in (self.pidfd, self.status):
            try:
                os.close(fd)
            except OSError:
                pass


class Zygote:
    """A connection to a warm process that has imported `preload` under `env` and forks one child per
    request; the process is this one's own (`start`), or one a parent process shares (`connect`)."""

    def __init__(self, control: socket.socket, process: subprocess.Popen | None = None, log=None,
                 address: Path | None = None):
        control.settimeout(FORK_SECONDS)
        self.control, self.process, self.log, self.address = control, process, log, address

    @classmethod
    def start(cls, preload: tuple[str, ...], env: dict[str, str], address: Path) -> Zygote:
        """A new zygote listening at `address` (in a folder only root can enter), connected to."""
        address.unlink(missing_ok=True)  # a zygote of ours that died there
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(str(address))
        listener.listen()
        log = tempfile.TemporaryFile()  # what it says if it cannot start
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "autograder.forkserver", str(listener.fileno()), *preload],
                pass_fds=[listener.fileno()], env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, preexec_fn=die_with_parent)
        finally:
            listener.close()
        return cls(cls.dial(address), process, log, address)

    @classmethod
    def connect(cls, address: Path) -> Zygote:
        return cls(cls.dial(address))

    @staticmethod
    def dial(address: Path) -> socket.socket:
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.connect(str(address))
        return control

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
        answer = json.loads(reply) if reply else {"error": f"it has exited: {self.said()}"}
        if "error" in answer:
            os.close(status)
            raise OSError(f"the zygote could not fork: {answer['error']}")
        return Child(int(answer["pid"]), pidfds[0], status)

    def said(self) -> str:
        """The end of what the zygote wrote, where it is this process's own."""
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read()[-2000:].decode(errors="replace")

    def alive(self) -> bool:
        return self.control.fileno() != -1 and (self.process is None or self.process.poll() is None)

    def close(self) -> None:
        self.control.close()
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.log.close()
            self.address.unlink(missing_ok=True)


ENV_SHARED = "AUTOGRADER_ZYGOTES"  # a folder of zygotes a grading process shares with its workers
ZYGOTES: dict[str, Zygote] = {}


def address(folder: Path, preload: tuple[str, ...], env: dict[str, str]) -> Path:
    """Where the zygote for `preload` under `env` listens: named by a digest of both."""
    digest = hashlib.sha256(json.dumps([preload, sorted(env.items())]).encode()).hexdigest()[:16]
    return folder / f"{digest}.sock"


@functools.cache
def own_folder() -> Path:
    """This process's folder for the zygotes it starts (only root may enter /tmp's mkdtemp folders)."""
    folder = Path(tempfile.mkdtemp(prefix="ag-zygotes-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def zygote(preload: tuple[str, ...], env: dict[str, str], fresh: bool = False) -> Zygote:
    """The zygote for `preload` under `env`: the one a parent process shares (ENV_SHARED) if it has one,
    else this process's own (one per grading worker); `fresh`: a new one of this process's."""
    shared = os.environ.get(ENV_SHARED)
    if shared and not fresh and (path := address(Path(shared), preload, env)).exists():
        try:
            return held(path, Zygote.connect)
        except OSError:  # it has just ended
            pass
    return held(address(own_folder(), preload, env), lambda path: Zygote.start(preload, env, path), fresh)


def held(path: Path, make: Callable[[Path], Zygote], fresh: bool = False) -> Zygote:
    """This process's connection to the zygote at path, made anew when it is gone or `fresh` is asked."""
    key = str(path)
    if fresh or key not in ZYGOTES or not ZYGOTES[key].alive():
        if key in ZYGOTES:
            ZYGOTES.pop(key).close()
        ZYGOTES[key] = make(path)
    return ZYGOTES[key]


def fork(preload: tuple[str, ...], env: dict[str, str], entry: str, request: dict, fds: list[int] = ()) -> Child:
    """Fork one child from the zygote, starting a new one of this process's if it has died (killed from outside, say)."""
    try:
        return zygote(preload, env).fork(entry, request, fds)
    except OSError:
        return zygote(preload, env, fresh=True).fork(entry, request, fds)


@contextlib.contextmanager
def sharing():
    """Zygotes this process starts meanwhile serve the workers it starts too (they inherit ENV_SHARED):
    a class is graded with one TensorFlow import, not one a worker. They end with it."""
    before = set(ZYGOTES)
    os.environ[ENV_SHARED] = str(own_folder())
    try:
        yield
    finally:
        del os.environ[ENV_SHARED]
        for key in set(ZYGOTES) - before:
            ZYGOTES.pop(key).close()


def main(argv: list[str]) -> None:
    if sys.path[0] == os.getcwd():
        del sys.path[0]  # `/`, which `python -m` put first
    listener = socket.socket(fileno=int(argv[0]))
    for name in argv[1:]:
        importlib.import_module(name)
    # Out of the collector's reach: a child's collections then neither walk TensorFlow's hundreds of
    # thousands of objects nor copy the pages they sit on.
    gc.freeze()
    serve(listener)


if __name__ == "__main__":
    main(sys.argv[1:])
