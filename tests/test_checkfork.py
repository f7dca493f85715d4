"""The warm check process: each submission's checks run in a fresh fork, which starts clean."""

from pathlib import Path

from autograder import checkfork
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
    zygote = Zygote(checkfork.PRELOAD, {})
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
    zygote = Zygote(checkfork.PRELOAD, {})
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


HEAVY_IMPORTS = {"01_tensors": ("tensorflow",), "02_gradient_tape": (), "03_batched_training": (),
                 "04_keras_models": ("keras",), "05_train_and_save": ("h5py", "keras", "tensorflow")}


def test_the_zygote_imports_what_the_checks_import(assignment):
    assert checkfork.heavy_imports(ROOT / "exercises" / assignment.id) == HEAVY_IMPORTS[assignment.id]
