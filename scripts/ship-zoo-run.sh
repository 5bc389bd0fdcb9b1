#!/usr/bin/env bash
# Ship a network that the model-zoo queue (scripts/model-zoo.sh) finished, and measure what the
# docs quote of it:
#
#   bash scripts/ship-zoo-run.sh resnet32            # a name not shipped yet
#   bash scripts/ship-zoo-run.sh plain56 --replace   # further options go to `deepres ship`
#
# It ships NET-seed0 of the queue's folder as NET-cifar10 into this checkout, then checks it:
# every one of the 10,000 test images by the independent test, INT8, and the JPEG copy's test
# images; and prints the points along its curves and its training time. The queue is paused
# throughout (SIGSTOP; SIGCONT on exit, whatever happened), since the measurements would
# otherwise share the 2 cores with its training. Afterwards: add the name to
# tests/weights/test_package_weights.py, commit, and embed the report again
# (docs/development.md#the-long-run-queue).
set -euo pipefail
if [[ $# -eq 0 || $1 == -* ]]; then
  echo "usage: bash scripts/ship-zoo-run.sh NET [deepres ship options], e.g. resnet32" >&2
  exit 2
fi
NET=$1
shift
REPO=$(cd "$(dirname "$0")/.." && pwd)
ZOO=${ZOO:-$HOME/deepres-zoo}
OUT=$ZOO/reproduce-png
RUN=$OUT/runs/$NET-seed0
NAME=$NET-cifar10
cd "$REPO"
# The card records the commit that shipped it, and the report the code that wrote it.
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
  echo "ship-zoo-run: $REPO has uncommitted changes; commit them first (the card names the commit)" >&2
  exit 2
fi
if ! grep -qs '"status": "completed"' "$RUN/summary.json"; then
  echo "ship-zoo-run: $RUN has not completed; see: bash scripts/model-zoo.sh status" >&2
  exit 2
fi

pkill -STOP -f "$ZOO/code-" || true
trap 'pkill -CONT -f "$ZOO/code-" || true' EXIT
# The report first: it computes the run's layer responses (response_std.json), which ship copies.
.venv/bin/deepres reproduce cifar10 --report-only --out "$OUT" --cache-dir "$ZOO/cache"
.venv/bin/deepres ship "$RUN" --name "$NAME" --data "$ZOO/cifar10-png" --data-set cifar10-png \
  --repo . --cache-dir "$ZOO/cache" "$@"
DEEPRES_CHECK_EVERY_TEST_IMAGE=1 .venv/bin/python -m pytest -q \
  tests/weights/test_shipped_independently.py -k "$NAME and not fast"
# One thread, as the INT8 table of docs/using.md was measured.
.venv/bin/python benchmarks/int8_accuracy.py --only "$NAME" --threads 1
jpeg=$(cd benchmarks && ../.venv/bin/python -c 'from common import cifar10_root; print(cifar10_root("jpeg"))')
results=$(mktemp -d)
.venv/bin/deepres eval "$NAME" --data "$jpeg" --out "$results" --cache-dir "$ZOO/cache"
rm -rf "$results"
# The points along its curves and its training time, as its section in docs/results.md gives them.
.venv/bin/deepres runs curve "docs/runs/$NAME" --at 16000,32000,33000,48000,49000
.venv/bin/deepres runs time "docs/runs/$NAME"
