"""Each submission's check process, forked from a warm zygote that has imported pytest, NumPy and Keras once.

Starting Python, pytest and (for checks that load models) TensorFlow costs 0.5 to 4 s of CPU per
submission. The zygote (autograder.forkserver) pays it once per class. Of the checks it imports only
the grader's own modules and the libraries the hidden checks use; it never runs a check and never
sees a submission. Each child takes its submission's environment, working folder and handshake pipes, and
runs pytest; so every submission's checks still start from the same clean state, as a new process
would, and nothing of one submission reaches another's.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from .handshake import ENV_PIPES

ENTRY = "autograder.checkfork:run_checks"
PRELOAD = ("numpy", "pytest", "autograder.checks", "autograder.handshake")
HEAVY_MODULES = ("keras", "tensorflow", "h5py")
IMPORT = re.compile(r"^\s*(?:import|from)\s+(%s)\b" % "|".join(HEAVY_MODULES), re.MULTILINE)
GPU_FIXTURE = re.compile(r"^def test_\w+\([^)]*\b(?:gpu|has_gpu)\b", re.MULTILINE)


def heavy_imports_in(code: str) -> set[str]:
    """The heavy libraries this code imports (read from its text, never run)."""
    return set(IMPORT.findall(code))


def heavy_imports(folder: Path) -> tuple[str, ...]:
    """The heavy libraries an assignment's hidden checks import."""
    found = set()
    for module in sorted(folder.glob("*.py")):
        text = module.read_text()
        found |= heavy_imports_in(text)
        if GPU_FIXTURE.search(text):
            found.add("tensorflow")  # the gpu fixtures ask TensorFlow for the devices
    return tuple(sorted(found))


def run_checks(request: dict, fds: list[int]) -> int:
    """In the forked child: pytest over the checks, with the handshake pipes `fds`; pytest's exit code."""
    for fd in fds:
        os.set_inheritable(fd, False)  # a process the checks start never holds the handshake
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"], **{ENV_PIPES: ",".join(map(str, fds))})
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        return int(pytest.main(request["args"]))
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
