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
    assert options.limits.notebook_seconds == 600 and options.gpu_skips.earns and not options.sandbox
    options = grading_options(parser().parse_args(
        ["grade", "x.ipynb", "--assignment", "01_tensors", "--no-sandbox", "--cell-timeout", "9", "--seed", "3"]), copy)
    assert (options.limits.cell_seconds, options.seed) == (9, 3)


def test_every_limit_is_configurable_and_a_flag_can_switch_off_what_the_config_switched_on(course, tmp_path):
    import shutil as _shutil

    from autograder.cli import LIMIT_SETTINGS, grading_options, parser
    from autograder.course import Course
    from autograder.sandbox import Limits

    for name in ["source", "nbgrader_config.py"]:
        (_shutil.copytree if (course.root / name).is_dir() else _shutil.copyfile)(course.root / name, tmp_path / name)
    with (tmp_path / "nbgrader_config.py").open("a") as f:
        f.write("c.Autograder.gpu_skip_withholds = True\nc.Autograder.disk_gib = 0.5\nc.Autograder.checks_timeout = 300\n")
    copy = Course(tmp_path)
    base = ["grade", "x.ipynb", "--assignment", "01_tensors", "--no-sandbox"]
    options = grading_options(parser().parse_args(base), copy)
    assert not options.gpu_skips.earns and options.limits.disk_bytes == 2**29 and options.limits.checks_seconds == 300
    options = grading_options(parser().parse_args([*base, "--no-gpu-skip-withholds", "--disk-gib", "2"]), copy)
    assert options.gpu_skips.earns and options.limits.disk_bytes == 2 * 2**30
    assert {field for field, _, _ in LIMIT_SETTINGS.values()} == set(Limits.__dataclass_fields__), "every limit has a setting"
    assert grading_options(parser().parse_args(base), Course(course.root)).limits == Limits(), \
        "the course's config states the defaults, no other values"
