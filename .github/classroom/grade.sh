#!/usr/bin/env bash
# Grade a student's repository with the course's hidden checks (GitHub Classroom, or any CI):
#   .github/classroom/grade.sh STUDENT_REPO COURSE_REPO
# Run from the course's checkout, never the student's: nothing in the student's repository is
# imported or run outside the grader's sandbox, and the only file read from it is the notebook.
# The assignment is the one whose released notebook name the student's repository holds
# (tensors.ipynb -> 01_tensors, ...), or $ASSIGNMENT when set.
# Prints "Points X/Y" (GitHub Classroom's reporter reads it), appends the Markdown feedback to
# $GITHUB_STEP_SUMMARY when set, and exits non-zero only when the grader itself could not run.
set -uo pipefail
student=$(cd "$1" && pwd) || { echo "no student repository at $1" >&2; exit 2; }
course=$(cd "$2" && pwd) || { echo "no course repository at $2" >&2; exit 2; }
cd "$course" || exit 2

"$course/setup.sh" --install-only || { echo "the grader could not be installed" >&2; exit 2; }
if ! command -v bwrap >/dev/null; then
    echo "the grader's sandbox needs bubblewrap (sudo apt-get install bubblewrap)" >&2
    exit 2
fi

assignment=${ASSIGNMENT:-}
notebook=""
for released in "$course"/release/*/*.ipynb; do
    id=$(basename "$(dirname "$released")")
    name=$(basename "$released")
    if [ -z "$assignment" ] && [ -e "$student/$name" -o -L "$student/$name" ]; then
        assignment=$id
    fi
    [ "$id" = "$assignment" ] && notebook="$student/$name"
done
if [ -z "$assignment" ] || [ -z "$notebook" ]; then
    echo "no released notebook of this course in $student (set ASSIGNMENT to choose one)" >&2
    exit 2
fi

out=$(mktemp -d)
"$course/.venv/bin/autograder" --course "$course" grade "$notebook" --assignment "$assignment" \
    --results "$out/results.json" --feedback "$out/feedback"
status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out/feedback/feedback.md" ]; then
    cat "$out/feedback/feedback.md" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${RESULTS_DIR:-}" ]; then
    mkdir -p "$RESULTS_DIR" && cp -r "$out"/. "$RESULTS_DIR"/
fi
rm -rf "$out"
exit $status
