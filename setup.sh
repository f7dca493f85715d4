#!/usr/bin/env bash
# Create .venv at the repository root, install the kit into it, and run the main job:
# regenerate release/ and solutions/ from source/ and validate them with nbgrader.
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
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$build]"
    echo "$stamp" > .venv/.installed
fi

[ "${1:-}" = "--install-only" ] && exit 0
.venv/bin/autograder build
