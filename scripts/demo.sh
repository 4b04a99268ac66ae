#!/usr/bin/env bash
# Set up a virtual environment with the project, then train the tutorial's GDP classifier (the README demo).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python -m arignote.examples.gdp_classifier
