#!/usr/bin/env bash
# Run the whole test suite (creating or updating .venv first). Extra arguments go to pytest,
# e.g. ./test.sh -m "not slow" for the quick tests only.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --install-only
exec .venv/bin/python -m pytest "$@"
