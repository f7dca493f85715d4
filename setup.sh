#!/usr/bin/env bash
# Create .venv at the repository root, install the kit into it, and run the main job:
# regenerate release/ and solutions/ from source/, validate them with nbgrader, and grade the
# bundled sample class into the SQLite gradebook (gradebook.db), feedback/ and grading/.
#   ./setup.sh                  everything
#   ./setup.sh --install-only   only create or update .venv
#   TF_BUILD=gpu ./setup.sh     install TensorFlow's GPU build (tensorflow[and-cuda]) instead of the CPU one
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
build=${TF_BUILD:-cpu}
case "$build" in cpu|gpu) ;; *) echo "TF_BUILD must be cpu or gpu, not '$build'" >&2; exit 2 ;; esac
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11" >&2; exit 2; }

# Reinstall only when pyproject.toml or the TensorFlow build changed since the last install.
stamp="$(sha256sum pyproject.toml | cut -c1-16)-$build"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    echo "installing the kit into .venv (TensorFlow $build build); the log is .venv/install.log"
    { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e ".[$build]"; } \
        > .venv/install.log 2>&1 || { tail -30 .venv/install.log; exit 1; }
    echo "$stamp" > .venv/.installed
fi

[ "${1:-}" = "--install-only" ] && exit 0

# The grader's sandbox is bubblewrap: install it where we can (root with apt), else say how.
if ! command -v bwrap >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "install bubblewrap first (Debian/Ubuntu: sudo apt-get install bubblewrap)" >&2
        exit 2
    fi
fi

.venv/bin/autograder build
.venv/bin/autograder grade-class 02_gradient_tape --submitted sample_class/submitted --jobs 2
