"""The student CI template's script, run as GitHub Actions would: a temp student repo and a temp course repo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder import notebooks
from autograder.sanitize import match
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(".github") / "classroom" / "grade.sh"
# Files in a student's repository that Python would import if the grader ran there.
TRAPS = ("conftest.py", "numpy.py", "sitecustomize.py", "pytest.py", "autograder.py")


@pytest.fixture(scope="module")
def course_repo(tmp_path_factory) -> Path:
    """The course's private repository as CI checks it out; the venv is the one installed here."""
    course = tmp_path_factory.mktemp("course")
    for name in ("source", "release", "exercises", ".github"):
        shutil.copytree(ROOT / name, course / name)
    for name in ("nbgrader_config.py", "setup.sh", "pyproject.toml"):
        shutil.copy(ROOT / name, course / name)
    (course / ".venv").symlink_to(ROOT / ".venv")
    return course


def student_repo(base: Path, marker: Path, sample: str | None) -> Path:
    """A student's repository: the released notebook (answered like a sample student) and some traps."""
    repo = base / "student"
    repo.mkdir()
    nb = notebooks.read(ROOT / "release" / "02_gradient_tape" / "regression.ipynb")
    if sample:
        answers = match(notebooks.read(ROOT / "sample_class" / "submitted" / sample / "02_gradient_tape" / "regression.ipynb"), nb)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in answers.solutions:
                cell.source = answers.solutions[gid].source
    notebooks.write(nb, repo / "regression.ipynb")
    for trap in TRAPS:
        (repo / trap).write_text(f"open({str(marker)!r}, 'a').write({trap!r})\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def grade(course: Path, student: Path, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    summary = tmp_path / "summary.md"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(GITHUB_STEP_SUMMARY=str(summary), RESULTS_DIR=str(tmp_path / "results"), **env)
    return subprocess.run(["bash", str(course / SCRIPT), str(student), str(course)], cwd=student,
                          env=environment, capture_output=True, text=True, timeout=600)


def test_a_push_is_graded_in_the_sandbox_with_points_and_a_summary(course_repo, tmp_path):
    marker = tmp_path / "imported"
    student = student_repo(tmp_path, marker, "dave")
    done = grade(course_repo, student, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "Points 59/100"
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("# Feedback: 02_gradient_tape") and "**Score: 59 / 100**" in summary
    assert (tmp_path / "results" / "results.json").exists()
    assert not marker.exists(), f"the grader imported a file of the student's repository: {marker.read_text()}"


def test_a_link_to_the_course_earns_nothing_and_a_missing_notebook_fails_the_job(course_repo, tmp_path):
    marker = tmp_path / "imported"
    student = student_repo(tmp_path, marker, None)
    (student / "regression.ipynb").unlink()
    (student / "regression.ipynb").symlink_to(course_repo / "source" / "02_gradient_tape" / "regression.ipynb")
    done = grade(course_repo, student, tmp_path)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "Points 0/100"
    assert "is a symbolic link" in (tmp_path / "summary.md").read_text()

    (student / "regression.ipynb").unlink()
    done = grade(course_repo, student, tmp_path)
    assert done.returncode == 2 and "no released notebook of this course" in done.stderr
    assert not marker.exists()


def test_grading_from_inside_the_students_folder_imports_nothing_of_it(course_repo, tmp_path):
    marker = tmp_path / "imported"
    student = student_repo(tmp_path, marker, "bob")
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "autograder"), "--course", str(course_repo), "grade",
                           "regression.ipynb", "--assignment", "02_gradient_tape", "--results", "results.json"],
                          cwd=student, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "Points 25/100", done.stderr[-2000:]
    assert not marker.exists(), f"the grader imported a file of the student's folder: {marker.read_text()}"
