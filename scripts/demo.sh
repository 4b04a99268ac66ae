#!/usr/bin/env bash
# Set up a virtual environment with the project, then train the tutorials' models:
# the minimal example (W trained until x·W nears 20) and the GDP classifier.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/python -m arignote.examples.minimal_training
exec .venv/bin/python -m arignote.examples.gdp_classifier
