#!/usr/bin/env bash
# Set up a virtual environment with the project and its test extras, then run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# two workers: the native half compiles with Numba, which is CPU-bound (CI has 2 cores)
exec .venv/bin/python -m pytest -n auto "$@"
