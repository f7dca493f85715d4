"""The grader-checks handshake on real pipes, in one process: the check side runs in a thread."""

import os
import threading
import time

import pytest

from autograder import handshake
from autograder.handshake import ChecksSide, GraderSide, Line


@pytest.fixture
def ends():
    grader = GraderSide()
    to_checks_read, from_checks_write = grader.child_fds
    grader.child_fds = ()  # this process plays the check process: its ends are the checks' now
    checks = ChecksSide(Line(read_fd=to_checks_read, write_fd=from_checks_write))
    yield grader, checks
    grader.close()
    checks.line.close()


def test_checks_wait_for_ready_and_ignore_a_gone_said_before_it(ends):
    grader, checks = ends
    grader.gone()  # a kernel that died while the notebook ran, before the checks began
    grader.ready(True, "")
    assert checks.wait_ready() == {"ok": True, "message": ""}
    assert not checks.gone()
    grader.gone()
    assert checks.gone() and checks.gone(), "a gone kernel stays gone until a fresh one comes"


def test_a_revive_is_answered_and_clears_the_loss(ends):
    grader, checks = ends
    grader.ready(True, "")
    checks.wait_ready()
    revived = []

    def revive():
        grader.gone()  # the old kernel's death, said before the answer: it must not count for the new one
        revived.append(True)
        return True

    server = threading.Thread(target=lambda: revived.append(grader.serve(30, revive)))
    server.start()
    assert checks.revive() and not checks.gone()
    os.close(checks.line.write_fd)  # the check process exits
    checks.line.write_fd = None
    server.join(10)
    assert revived == [True, True], "serve() returns True once the checks closed their end"


def test_the_grader_gives_at_most_its_revivals(ends):
    grader, checks = ends
    count = []
    server = threading.Thread(target=grader.serve, args=(30, lambda: count.append(1) or True))
    server.start()
    answers = [checks.revive() for _ in range(handshake.REVIVALS + 2)]
    os.close(checks.line.write_fd)
    checks.line.write_fd = None
    server.join(10)
    assert answers == [True] * handshake.REVIVALS + [False, False] and len(count) == handshake.REVIVALS


def test_serve_gives_up_at_its_deadline_and_ready_fails_when_the_grader_is_gone(ends):
    grader, checks = ends
    start = time.monotonic()
    assert grader.serve(0.3, lambda: True) is False
    assert 0.25 < time.monotonic() - start < 5
    os.close(grader.line.write_fd)
    grader.line.write_fd = None
    assert checks.wait_ready()["ok"] is False


def test_a_sandboxed_run_is_answered_with_its_exit_code_within_the_checks_time(ends):
    grader, checks = ends
    asked = []

    def python(argv, folder, seconds):
        grader.gone()  # the kernel may die meanwhile: the checks hear it after the answer
        asked.append((argv, folder, seconds))
        return 3, "/private/copy"

    server = threading.Thread(target=grader.serve, args=(30, lambda: False, python))
    server.start()
    assert checks.python(["-c", "pass"], "/scratch/call", 600) == (3, "/private/copy")
    assert checks.gone(), "a gone said while the run was answered is kept"
    assert asked[0][:2] == (["-c", "pass"], "/scratch/call") and asked[0][2] <= 30, "never past the checks' own time"
    os.close(checks.line.write_fd)
    checks.line.write_fd = None
    server.join(10)
