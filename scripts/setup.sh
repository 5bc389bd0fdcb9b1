#!/usr/bin/env bash
# Creates .venv in the repository and installs deepres with the exact tested versions.
# Safe to run again: an existing .venv is reused and only what changed is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]"
