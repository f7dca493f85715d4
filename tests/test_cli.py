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


def test_limits_come_from_the_command_line_then_nbgrader_config(course, tmp_path, monkeypatch):
    import shutil as _shutil

    from autograder.cli import grading_options, parser
    from autograder.course import Course

    for name in ["source", "nbgrader_config.py"]:
        (_shutil.copytree if (course.root / name).is_dir() else _shutil.copyfile)(course.root / name, tmp_path / name)
    with (tmp_path / "nbgrader_config.py").open("a") as f:
        f.write("c.Autograder.cell_timeout = 7\nc.Autograder.memory_gib = 2\nc.Autograder.seed = 42\n")
    copy = Course(tmp_path)
    options = grading_options(parser().parse_args(["grade", "x.ipynb", "--assignment", "01_tensors", "--no-sandbox"]), copy)
    assert (options.limits.cell_seconds, options.limits.memory_bytes, options.seed) == (7, 2 * 2**30, 42)
    assert options.limits.notebook_seconds == 600 and options.gpu_skip_earns and not options.sandbox
    options = grading_options(parser().parse_args(
        ["grade", "x.ipynb", "--assignment", "01_tensors", "--no-sandbox", "--cell-timeout", "9", "--seed", "3"]), copy)
    assert (options.limits.cell_seconds, options.seed) == (9, 3)
