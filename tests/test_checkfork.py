"""The warm check process: each submission's checks run in a fresh fork, which starts clean."""

import time
from pathlib import Path

import pytest

from autograder import checkfork
from autograder.handshake import GraderSide
from autograder.runner import die_with_parent

ROOT = Path(__file__).resolve().parents[1]

# A check that fails if anything of an earlier run is left in the process, then leaves something.
STATEFUL_CHECK = """import builtins, os, sys

def test_starts_clean():
    assert not hasattr(builtins, "left_by_an_earlier_submission")
    assert "test_state" not in sys.modules or sys.modules["test_state"].__file__ == __file__
    assert os.getcwd() == os.environ["EXPECTED_CWD"] and "AUTOGRADER_HANDSHAKE" in os.environ
    builtins.left_by_an_earlier_submission = True
"""


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_each_fork_starts_from_the_zygote_not_from_the_last_submission(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_state.py").write_text(STATEFUL_CHECK)
    zygote = checkfork.Zygote((), {}, die_with_parent)
    try:
        for run in range(2):
            private = tmp_path / f"private{run}"
            private.mkdir()
            handshake = GraderSide()
            child = checkfork.ChildChecks(zygote.fork(
                [str(tmp_path / "checks"), "-q", "-p", "no:cacheprovider"], {"EXPECTED_CWD": str(private)},
                private, private / "log", private / "exit", handshake.child_fds), private / "exit")
            handshake.started()
            assert handshake.serve(60, lambda: False), "the pipe closes when the child exits"
            wait_for(private / "exit")
            assert child.returncode == 0, (private / "log").read_text()
            handshake.close()
        assert zygote.alive()
    finally:
        zygote.close()


def test_a_killed_child_has_no_exit_status(tmp_path):
    (tmp_path / "test_sleeps.py").write_text("import time\n\ndef test_sleeps():\n    time.sleep(60)\n")
    zygote = checkfork.Zygote((), {}, die_with_parent)
    try:
        handshake = GraderSide()
        child = checkfork.ChildChecks(zygote.fork([str(tmp_path), "-q", "-p", "no:cacheprovider"], {}, tmp_path,
                                                  tmp_path / "log", tmp_path / "exit", handshake.child_fds),
                                      tmp_path / "exit")
        handshake.started()
        assert not handshake.serve(1, lambda: False)
        child.kill()
        assert handshake.serve(10, lambda: False) and child.returncode is None
        handshake.close()
    finally:
        zygote.close()


HEAVY_IMPORTS = {"01_tensors": ("tensorflow",), "02_gradient_tape": (), "03_batched_training": (),
                 "04_keras_models": ("keras",), "05_train_and_save": ("h5py", "keras", "tensorflow")}


def test_the_zygote_imports_what_the_checks_import(assignment):
    assert checkfork.heavy_imports(ROOT / "exercises" / assignment.id) == HEAVY_IMPORTS[assignment.id]
