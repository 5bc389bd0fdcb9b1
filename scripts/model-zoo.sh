#!/usr/bin/env bash
# The model-zoo queue (issue 24): the paper's CIFAR-10 runs with exactly `cifar-paper`, one seed
# each, on the original (lossless) CIFAR-10, by the paper's protocol: trained on all 50,000
# training images, the test error recorded every 1,000 iterations (Figure 6), the final network
# reported. In the background on this machine's CPU, resumed by running this script again.
#
#   bash scripts/model-zoo.sh          # start or resume the queue in the background
#   bash scripts/model-zoo.sh status   # what is running, the last lines of its log
#   bash scripts/model-zoo.sh stop     # SIGTERM: every training saves a checkpoint first
#   bash scripts/model-zoo.sh save     # at each stop: commit the queue's state (state/zoo.*)
#
# Everything lives outside the repository, in $ZOO (default ~/deepres-zoo): a checkout of the
# fixed commit below with its own .venv (so that the day's edits never change a running
# experiment), the CIFAR-10 PNGs unpacked from ../shared/data, the decoded-data cache, the
# runs and their report (reproduce-png/), and the log. Change ZOO_COMMIT only between runs, and
# record in docs/results.md which commit trained what.
set -euo pipefail
ZOO_COMMIT=${ZOO_COMMIT:-0fd1205528fe50c7eb31f3e45cc96937e09399e3}
ZOO=${ZOO:-$HOME/deepres-zoo}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED_DATA=$REPO/../shared/data
CODE=$ZOO/code-${ZOO_COMMIT:0:12}
OUT=$ZOO/reproduce-png
LOG=$ZOO/queue.log
PIDFILE=$ZOO/queue.pid

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# What a new machine needs to go on where this one stopped: the experiment's settings and
# every run's records and last checkpoint (a finished run's holds the weights to ship).
save_state() {
  # shellcheck disable=SC2046
  bash "$REPO/scripts/carry-state.sh" save zoo "$ZOO" "$(bash "$0" status)" \
    $(bash "$REPO/scripts/carry-state.sh" run-files "$ZOO" "$(basename "$OUT")")
}

case "${1:-start}" in
  status)
    if running; then echo "queue running (pid $(cat "$PIDFILE"), code $CODE)"; else echo "queue not running"; fi
    # Each run: how it ended, or the iteration it reached and its latest validation error.
    python3 - "$OUT/runs" <<'PY'
import json, pathlib, sys
for run in sorted(pathlib.Path(sys.argv[1]).glob("*/metrics.jsonl"), key=lambda p: p.stat().st_mtime):
    records = [json.loads(line) for line in run.read_text().splitlines() if line.strip()]
    test = [r for r in records if "test_error" in r]
    summary = run.parent / "summary.json"
    ended = summary.exists() and summary.stat().st_mtime >= run.stat().st_mtime
    state = json.loads(summary.read_text())["status"] if ended else "running or stopped"
    last = records[-1]["iteration"] if records else 0
    seen = f"test error {100 * test[-1]['test_error']:.2f}% at {test[-1]['iteration']:,}" if test else "no evaluation yet"
    print(f"{run.parent.name:16} {state:20} iteration {last:>6,}  {seen}")
PY
    grep -v decoding "$LOG" 2>/dev/null | tail -n 3 || true
    exit 0 ;;
  stop)
    if running; then kill -TERM "$(cat "$PIDFILE")"; echo "sent SIGTERM; it checkpoints and exits"; fi
    exit 0 ;;
  save) save_state; exit 0 ;;
  start) ;;
  *) echo "usage: bash scripts/model-zoo.sh [start|status|stop|save]" >&2; exit 2 ;;
esac

if running; then echo "queue already running (pid $(cat "$PIDFILE")); log: $LOG"; exit 0; fi
mkdir -p "$ZOO"
if [[ ! -d $CODE ]]; then
  git -C "$REPO" worktree add --detach "$CODE" "$ZOO_COMMIT"
fi
bash "$CODE/scripts/setup.sh"
if [[ ! -d $ZOO/cifar10-png/test ]]; then
  for split in train test; do tar -xzf "$SHARED_DATA/cifar10-png-$split.tar.gz" -C "$ZOO"; done
fi
# A new machine starts without the runs: first the state saved last (the runs in progress go
# on from their last saved checkpoint), then the records of those that finished here
# before (committed in docs/runs/, their summary naming their place in $OUT), so that the
# queue skips them and the report still has them.
if [[ ! -d $OUT ]]; then bash "$REPO/scripts/carry-state.sh" restore zoo "$ZOO"; fi
bash "$REPO/scripts/carry-state.sh" restore-runs "$OUT/runs" "$REPO"/docs/runs/*/summary.json
# bf16 autocast only where the CPU computes bf16 natively (elsewhere it is ~14x slower).
AMP=()
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then AMP=(--set amp=bf16); fi
# The runs of one --out share their settings (experiment.json), precision included, but the
# machine under the queue changes between sessions: a run goes on in the precision it started
# in (its own recipe.yaml), and the next run starts in this machine's. (deepres accepts that
# by itself since b1caf06; ZOO_COMMIT's refuses unless experiment.json says so.)
if [[ -f $OUT/experiment.json ]]; then
  python3 - "$OUT/experiment.json" "${AMP[1]:-amp=auto}" <<'PY'
import json, pathlib, sys
path, amp = pathlib.Path(sys.argv[1]), sys.argv[2].removeprefix("amp=")
settings = json.loads(path.read_text())
settings["recipe"]["amp"] = amp
path.write_text(json.dumps(settings, indent=1) + "\n")
PY
fi

# One training at a time as two torchrun processes of one thread each, 64 images apiece: the
# paper's two GPUs, each batch norm over 64 images. Measured on the 2-core Intel Xeon (AMX):
# ResNet-20 at 1,179 images/s, against 1,150 for one process of two threads.
cd "$CODE"
echo "=== $(date -u '+%F %T UTC') start, code $ZOO_COMMIT, ${AMP[*]:-float32}, 2 processes per run" >> "$LOG"
# A higher priority than the day's tests and builds (root only; otherwise it runs at the
# normal priority).
# The day's test runs pause the queue (SIGSTOP) for longer than gloo's 10 minutes: a collective
# that waited through the pause then timed out and plain20 failed at 8,100 (2026-12-07). A
# peer that dies is seen at once (its connection closes), so a day's timeout costs nothing.
export DEEPRES_DIST_TIMEOUT=${DEEPRES_DIST_TIMEOUT:-86400}
setsid nohup nice -n -10 .venv/bin/deepres reproduce cifar10 --data "$ZOO/cifar10-png" \
  --val-size 0 --eval-every 1000 --depths 20 56 32 44 110 "${AMP[@]}" \
  --processes-per-run 2 --out "$OUT" --cache-dir "$ZOO/cache" --quiet >> "$LOG" 2>&1 &
QUEUE=$!
echo $QUEUE > "$PIDFILE"
bash "$REPO/scripts/keep-priority.sh" "$QUEUE" "$CODE/.venv/bin/python"
echo "queue started (pid $QUEUE); log: $LOG"
