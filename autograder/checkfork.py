"""Each submission's check process, forked from a warm one that has imported pytest, NumPy and Keras once.

Starting Python, pytest and (for checks that load models) TensorFlow costs 0.5 to 4 s of CPU per
submission. A zygote process pays it once per grading process: it is a fresh `python -P` started
in `/` (so no folder of the grader's is on its path) that imports only the grader's own check
modules and the libraries the hidden checks use, never runs a check and never sees a submission.
For each submission it forks a child, which takes that submission's environment, working folder
and handshake pipes (sent over a Unix socket with SCM_RIGHTS) and runs pytest. So every submission's checks still start from the same clean
state, as a new process would, and nothing of one submission reaches another's.

TensorFlow starts no thread pools at import, so forking after the import is safe; each child
creates its own, with the thread budget of its environment.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

# The check process's first code: imports, then one fork per request. Its argv: the control
# socket's fd, then the modules to import once.
ZYGOTE = r"""
import ctypes, json, os, signal, socket, sys
control = socket.socket(fileno=int(sys.argv[1]))
import numpy, pytest
import autograder.checks
from autograder.handshake import ENV_PIPES
for name in sys.argv[2:]:
    __import__(name)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped at once; each writes its own exit status
prctl = ctypes.CDLL(None).prctl  # looked up before any fork: a child loads nothing
zygote = os.getpid()
while True:
    try:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
    except OSError:
        break
    if not message:
        break  # the grader is gone
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlive the zygote
            if os.getppid() != zygote:
                os._exit(3)  # it died before the line above
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in fds:
                os.set_inheritable(fd, False)  # a process the checks start never holds the handshake
            control.close()
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"], **{ENV_PIPES: ",".join(map(str, fds))})
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            code = int(pytest.main(request["args"]))
            with open(request["exit"], "w") as f:
                f.write(str(code))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"pid": pid}).encode())
"""

FORK_SECONDS = 300  # for the zygote's imports (TensorFlow's take seconds) and then its answer
MODULES_CHECKS_MAY_IMPORT = ("keras", "tensorflow", "h5py")
IMPORT = re.compile(r"^\s*(?:import|from)\s+(%s)\b" % "|".join(MODULES_CHECKS_MAY_IMPORT), re.MULTILINE)
GPU_FIXTURE = re.compile(r"^def test_\w+\([^)]*\b(?:gpu|has_gpu)\b", re.MULTILINE)


def heavy_imports(folder: Path) -> tuple[str, ...]:
    """The heavy libraries an assignment's hidden checks import (read from their text, never run)."""
    found = set()
    for module in sorted(folder.glob("*.py")):
        text = module.read_text()
        found.update(IMPORT.findall(text))
        if GPU_FIXTURE.search(text):
            found.add("tensorflow")  # the gpu fixtures ask TensorFlow for the devices
    return tuple(sorted(found))


class Zygote:
    """A warm check process that forks one child per submission."""

    def __init__(self, preload: tuple[str, ...], env: dict[str, str], die_with_parent):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile()  # what it says if it cannot start
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-c", ZYGOTE, str(theirs.fileno()), *preload], pass_fds=[theirs.fileno()],
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env}, cwd="/", stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log, preexec_fn=die_with_parent)
        theirs.close()
        ours.settimeout(FORK_SECONDS)
        self.control = ours

    def fork(self, args: list[str], env: dict[str, str], cwd: Path, log: Path, exit_file: Path,
             fds: tuple[int, int]) -> int:
        """Start one submission's checks: the child's pid. Raises OSError if the zygote has died."""
        request = {"args": args, "env": env, "cwd": str(cwd), "log": str(log), "exit": str(exit_file)}
        socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
        reply = self.control.recv(4096)  # socket.timeout, an OSError, when it hangs
        if not reply:
            self.log.seek(0)
            raise OSError(f"the check zygote has exited: {self.log.read()[-2000:].decode(errors='replace')}")
        return int(json.loads(reply)["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.log.close()


class ChildChecks:
    """A forked check process: killed by pid, its exit status read from the file it writes last."""

    def __init__(self, pid: int, exit_file: Path):
        self.pid = pid
        self.exit_file = exit_file

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @property
    def returncode(self) -> int | None:
        """pytest's exit code; None when the process was killed or died before it ended."""
        try:
            return int(self.exit_file.read_text())
        except (OSError, ValueError):
            return None
