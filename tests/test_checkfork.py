"""The warm check process: each submission's checks run in a fresh fork, which starts clean."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from autograder import checkfork, forkserver
from autograder.forkserver import Zygote
from autograder.handshake import GraderSide

ROOT = Path(__file__).resolve().parents[1]

# A check that fails if anything of an earlier run is left in the process, then leaves something.
STATEFUL_CHECK = """import builtins, os, sys

def test_starts_clean():
    assert not hasattr(builtins, "left_by_an_earlier_submission")
    assert "test_state" not in sys.modules or sys.modules["test_state"].__file__ == __file__
    assert os.getcwd() == os.environ["EXPECTED_CWD"] and "AUTOGRADER_HANDSHAKE" in os.environ
    builtins.left_by_an_earlier_submission = True
"""


def fork_checks(zygote, folder, env, cwd, handshake):
    request = dict(args=[str(folder), "-q", "-p", "no:cacheprovider"], env=env, cwd=str(cwd), log=str(cwd / "log"))
    child = zygote.fork(checkfork.ENTRY, request, handshake.child_fds)
    handshake.started()
    return child


def test_each_fork_starts_from_the_zygote_not_from_the_last_submission(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_state.py").write_text(STATEFUL_CHECK)
    zygote = Zygote.start(checkfork.PRELOAD, {}, tmp_path / "zygote.sock")
    try:
        for run in range(2):
            private = tmp_path / f"private{run}"
            private.mkdir()
            handshake = GraderSide()
            child = fork_checks(zygote, tmp_path / "checks", {"EXPECTED_CWD": str(private)}, private, handshake)
            assert handshake.serve(60, lambda: False), "the pipe closes when the child exits"
            assert child.wait(10) == 0, (private / "log").read_text()
            handshake.close()
            child.close()
        assert zygote.alive()
    finally:
        zygote.close()


def test_a_killed_child_has_no_exit_status(tmp_path):
    (tmp_path / "test_sleeps.py").write_text("import time\n\ndef test_sleeps():\n    time.sleep(60)\n")
    zygote = Zygote.start(checkfork.PRELOAD, {}, tmp_path / "zygote.sock")
    try:
        handshake = GraderSide()
        child = fork_checks(zygote, tmp_path, {}, tmp_path, handshake)
        assert not handshake.serve(1, lambda: False) and child.poll() is None
        child.kill()
        assert handshake.serve(10, lambda: False) and child.wait(10) == -9
        child.kill()  # once it has ended and been reaped, its pidfd still names it: no one else is hit
        handshake.close()
        child.close()
    finally:
        zygote.close()


# A pool worker's part: ask for the zygote, run a check in a child of it, say how it got the zygote.
WORKER = """import sys
from pathlib import Path
from autograder import checkfork, forkserver
from autograder.handshake import GraderSide
zygote = forkserver.zygote(checkfork.PRELOAD, {})
handshake = GraderSide()
request = dict(args=[sys.argv[1], "-q", "-p", "no:cacheprovider"], env={}, cwd=sys.argv[1], log=sys.argv[1] + "/log")
child = zygote.fork(checkfork.ENTRY, request, handshake.child_fds)
handshake.started()
handshake.serve(60, lambda: False)
print("connected" if zygote.process is None else "started", child.wait(30))
"""


def test_workers_share_the_zygote_of_the_process_that_started_them(tmp_path):
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    zygotes = lambda: {p.pid for p in psutil.Process().children() if "autograder.forkserver" in " ".join(p.cmdline())}  # noqa: E731
    before = zygotes()
    with forkserver.sharing():
        own = forkserver.zygote(checkfork.PRELOAD, {})
        workers = [subprocess.run([sys.executable, "-c", WORKER, str(tmp_path)], capture_output=True, text=True,
                                  timeout=120) for _ in range(2)]
        assert own.alive(), "a worker that leaves does not end the zygote"
    assert [w.stdout.split() for w in workers] == [["connected", "0"]] * 2, workers[0].stderr
    assert zygotes() - before <= {own.process.pid}, "one zygote, this process's: the workers started none"
    assert not own.alive() and own.process.pid not in zygotes(), "the class's zygote ends with it"


def test_a_worker_that_goes_takes_only_its_own_children_with_it(tmp_path):
    """A worker that dies (or leaves mid-request) has its children killed, for no watchdog bounds them any
    more; the zygote goes on serving the other workers."""
    (tmp_path / "test_sleeps.py").write_text("import time\n\ndef test_sleeps():\n    time.sleep(60)\n")
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    own = Zygote.start(checkfork.PRELOAD, {}, tmp_path / "zygote.sock")
    try:
        gone = Zygote.connect(tmp_path / "zygote.sock")
        handshake = GraderSide()
        orphan = fork_checks(gone, tmp_path, {}, tmp_path, handshake)
        leaving = Zygote.dial(tmp_path / "zygote.sock")  # asks, then leaves before the answer
        read_end, write_end = os.pipe()
        socket.send_fds(leaving, [json.dumps({"entry": checkfork.ENTRY, "args": []}).encode()], [write_end])
        leaving.close()
        gone.close()
        assert orphan.wait(10) == -9, "a child of a worker that is gone is killed"
        handshake.close()
        quick = GraderSide()
        child = fork_checks(own, tmp_path / "quick", {}, tmp_path / "quick", quick)
        assert quick.serve(60, lambda: False) and child.wait(10) == 0, "the other workers are still served"
        quick.close()
        os.close(read_end)
        os.close(write_end)
    finally:
        own.close()


HEAVY_IMPORTS = {"01_tensors": ("tensorflow",), "02_gradient_tape": (), "03_batched_training": (),
                 "04_keras_models": ("keras",), "05_train_and_save": ("h5py", "keras", "tensorflow")}


def test_the_zygote_imports_what_the_checks_import(assignment):
    assert checkfork.heavy_imports(ROOT / "exercises" / assignment.id) == HEAVY_IMPORTS[assignment.id]
