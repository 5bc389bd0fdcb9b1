#!/usr/bin/env bash
# Creates .venv in the repository and installs deepres with every extra ([all]), with the exact
# tested versions.
# Safe to run again: an existing .venv is reused and only what changed is installed.
#   --tests  also the test tools (pyproject's "test" extra: pytest, hypothesis, ruff) and
#            Debian's chromium and its driver, for the web page's browser test, where they
#            are missing and apt-get can (elsewhere that test skips with the reason)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
package=".[all]"
if [[ ${1:-} == --tests ]]; then
    package=".[all,test]"
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
        else
            echo "note: cannot install chromium and chromium-driver (no apt-get, or not root):" \
                 "the web page's browser test will be skipped" >&2
        fi
    fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e "$package"
