"""The `autograder` command as a user runs it: a real process, real exit codes and messages."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = [sys.executable, "-m", "autograder.cli"]


def run(*args, cwd=ROOT):
    return subprocess.run([*AUTOGRADER, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_check_reports_the_checkout_up_to_date():
    done = run("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "match source/" in done.stdout


def test_outside_a_course_the_command_says_why_in_one_line(tmp_path):
    done = run("check", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("autograder: no nbgrader_config.py")
    assert "Traceback" not in done.stderr


def test_help_lists_the_commands():
    done = run("--help")
    assert done.returncode == 0
    for command in ["build", "check", "calibrate"]:
        assert command in done.stdout
