#!/usr/bin/env bash
# The model-zoo queue (issue 24): the paper's CIFAR-10 runs with exactly `cifar-paper`, one seed
# each, on the original (lossless) CIFAR-10, by the paper's protocol: trained on all 50,000
# training images, the test error recorded every 1,000 iterations (Figure 6), the final network
# reported. In the background on this machine's CPU, resumed by running this script again.
#
#   bash scripts/model-zoo.sh          # start or resume the queue in the background
#   bash scripts/model-zoo.sh status   # each run: how far, its test error, time left; the log
#   bash scripts/model-zoo.sh stop     # SIGTERM: every training saves a checkpoint first
#   bash scripts/model-zoo.sh save     # at each stop: commit the queue's state (state/zoo.*)
#
# Everything lives outside the repository, in $ZOO (default ~/deepres-zoo): a checkout of the
# fixed commit below with its own .venv (so that the day's edits never change a running
# experiment), the CIFAR-10 PNGs unpacked from ../shared/data, the decoded-data cache, the
# runs and their report (reproduce-png/), and the log.
set -euo pipefail
# The commits that train the queue, in order, each with the depths its `deepres reproduce` goes
# up to (a ResNet and a plain net each). Every run is trained from start to end by one commit: a
# stage skips the runs that finished, resumes the one that started, and is marked finished when
# its last run is; the next stage's commit takes over from the first run after that. A new
# commit is only ever added as a new stage; record in docs/results.md which commit trained what.
STAGES=(
  "0fd1205528fe50c7eb31f3e45cc96937e09399e3 20 56"         # resnet20, plain20, resnet56, plain56
  "f1388b963861d6f37a578446fe826652b6d85026 20 56 32 44 110" # then on: leaves paused time out
)
ZOO=${ZOO:-$HOME/deepres-zoo}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED_DATA=$REPO/../shared/data
OUT=$ZOO/reproduce-png
LOG=$ZOO/queue.log
PIDFILE=$ZOO/queue.pid

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
code_of() { echo "$ZOO/code-${1:0:12}"; }

# What a new machine needs to go on where this one stopped: the experiment's settings, every
# run's records, the last checkpoint of each run not completed and of each completed run not
# shipped yet (the network to ship), and which stages finished (else a new machine invokes a
# finished stage's commit again).
save_state() {
  # shellcheck disable=SC2046
  bash "$REPO/scripts/carry-state.sh" save zoo "$ZOO" "$(bash "$0" status)" \
    $(bash "$REPO/scripts/carry-state.sh" run-files "$ZOO" "$(basename "$OUT")") \
    $(unshipped_finals) $(cd "$ZOO" && compgen -G 'stage-*-finished' || true)
}

# The last checkpoints (relative to $ZOO) of the completed runs that no records in docs/runs/
# name as shipped: carry-state.sh leaves a completed run's checkpoints out.
unshipped_finals() {
  local run
  for run in "$OUT"/runs/*; do
    grep -qs '"status": "completed"' "$run/summary.json" || continue
    grep -qsF "\"run_dir\": \"$run\"" "$REPO"/docs/runs/*/summary.json && continue
    if [[ -f $run/checkpoints/last.pt ]]; then echo "${run#"$ZOO"/}/checkpoints/last.pt"; fi
  done
}

# On a CPU without native bf16 a run started in bf16 would go on emulated, about 14x slower than
# float32 (deepres.train.precision). With more than a fourteenth of its iterations left,
# training it again from the start in float32 ends sooner: so it is set aside in $ZOO/set-aside
# (kept, not deleted; it is not carried to the next machine) and the queue starts it again in
# this machine's precision. With less left, it finishes in bf16.
set_aside_emulated_bf16() {
  python3 - "$OUT/runs" "$ZOO/set-aside" <<'PY'
import json, pathlib, re, sys
runs, aside = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for recipe in sorted(runs.glob("*/recipe.yaml")):
    run, text = recipe.parent, recipe.read_text()
    summary = run / "summary.json"
    if not re.search(r"^amp: bf16$", text, re.M) or (
        summary.exists() and json.loads(summary.read_text()).get("status") == "completed"
    ):
        continue
    total = int(re.search(r"^iterations: (\d+)$", text, re.M)[1])
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.exists() else []
    done = max((json.loads(line).get("iteration", 0) for line in lines if line.strip()), default=0)
    if (total - done) * 14 <= total:
        continue
    aside.mkdir(parents=True, exist_ok=True)
    target = aside / f"{run.name}-bf16-at-{done}"
    while target.exists():  # set aside at the same point before
        target = target.with_name(target.name + "-again")
    run.rename(target)
    print(f"{run.name}: started in bf16, which this CPU emulates about 14x slower than float32; "
          f"at {done:,} of {total:,} iterations it ends sooner trained again in float32: "
          f"set aside in {target}")
PY
}

case "${1:-start}" in
  status)
    if running; then echo "queue running (pid $(cat "$PIDFILE"))"; else echo "queue not running"; fi
    # Each run: how it ended, or the iteration it reached and its latest test error; for one
    # not finished, the time its remaining iterations take at the speed of its last windows.
    python3 - "$OUT/runs" <<'PY'
import json, pathlib, re, sys
for run in sorted(pathlib.Path(sys.argv[1]).glob("*/metrics.jsonl"), key=lambda p: p.stat().st_mtime):
    records = [json.loads(line) for line in run.read_text().splitlines() if line.strip()]
    test = [r for r in records if "test_error" in r]
    summary = run.parent / "summary.json"
    ended = summary.exists() and summary.stat().st_mtime >= run.stat().st_mtime
    state = json.loads(summary.read_text())["status"] if ended else "running or stopped"
    last = records[-1]["iteration"] if records else 0
    seen = f"test error {100 * test[-1]['test_error']:.2f}% at {test[-1]['iteration']:,}" if test else "no evaluation yet"
    windows = [r for r in records if "train_loss" in r][-20:]
    recipe = (run.parent / "recipe.yaml").read_text()
    field = lambda key: int(re.search(rf"^{key}: (\d+)$", recipe, re.M)[1])
    if state != "completed" and windows:
        speed = sum(r["images"] for r in windows) / sum(r["seconds"] for r in windows)
        hours = (field("iterations") - last) * field("batch_size") / speed / 3600
        seen += f"; {speed:,.0f} images/s, about {hours:.1f} h of training to go"
    print(f"{run.parent.name:16} {state:20} iteration {last:>6,}  {seen}")
PY
    grep -v decoding "$LOG" 2>/dev/null | tail -n 3 || true
    exit 0 ;;
  stop)
    if running; then pkill -TERM -P "$(cat "$PIDFILE")" || true; echo "sent SIGTERM; it checkpoints and exits"; fi
    exit 0 ;;
  save) save_state; exit 0 ;;
  start) ;;
  *) echo "usage: bash scripts/model-zoo.sh [start|status|stop|save]" >&2; exit 2 ;;
esac

if running; then echo "queue already running (pid $(cat "$PIDFILE")); log: $LOG"; exit 0; fi
mkdir -p "$ZOO"
# A new machine starts without the runs: first the state saved last (the runs in progress go
# on from their last saved checkpoint; the finished stages are marked), then the records of
# those that finished here before (committed in docs/runs/, their summary naming their place
# in $OUT), so that the queue skips them and the report still has them.
if [[ ! -d $OUT ]]; then bash "$REPO/scripts/carry-state.sh" restore zoo "$ZOO"; fi
bash "$REPO/scripts/carry-state.sh" restore-runs "$OUT/runs" "$REPO"/docs/runs/*/summary.json
for stage in "${STAGES[@]}"; do
  read -r commit _ <<< "$stage"
  [[ -f $ZOO/stage-${commit:0:12}-finished ]] && continue
  code=$(code_of "$commit")
  [[ -d $code ]] || git -C "$REPO" worktree add --detach "$code" "$commit"
  bash "$code/scripts/setup.sh"
done
if [[ ! -d $ZOO/cifar10-png/test ]]; then
  for split in train test; do tar -xzf "$SHARED_DATA/cifar10-png-$split.tar.gz" -C "$ZOO"; done
fi
# bf16 autocast only where the CPU computes bf16 natively (elsewhere it is ~14x slower).
AMP=()
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then AMP=(--set amp=bf16); fi
if [[ ${#AMP[@]} -eq 0 && -d $OUT/runs ]]; then set_aside_emulated_bf16 | tee -a "$LOG"; fi
# The runs of one --out share their settings (experiment.json), precision included, but the
# machine under the queue changes between sessions: a run goes on in the precision it started
# in (its own recipe.yaml), and the next run starts in this machine's. (deepres accepts that
# by itself since b1caf06; the first stage's commit refuses unless experiment.json says so.)
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
echo "=== $(date -u '+%F %T UTC') start, ${AMP[*]:-float32}, 2 processes per run" >> "$LOG"
# The day's test runs pause the queue (SIGSTOP) for longer than gloo's 10 minutes: a collective
# that waited through the pause then timed out and plain20 failed at 8,100 (2026-12-07). A
# peer that dies is seen at once (its connection closes), so a day's timeout costs nothing.
export DEEPRES_DIST_TIMEOUT=${DEEPRES_DIST_TIMEOUT:-86400}
# Each stage in turn; a stage that stops short of its runs (SIGTERM, a failure) stops the
# queue. A finished stage is not invoked again, since the report lists every invocation, even
# one of 1 s.
# (`stop` signals the queue's child: the exec makes that `deepres reproduce` itself.)
queue() {
  for stage in "${STAGES[@]}"; do
    read -r commit depths <<< "$stage"
    local finished=$ZOO/stage-${commit:0:12}-finished
    [[ -f $finished ]] && continue
    echo "=== $(date -u '+%F %T UTC') code $commit, --depths $depths"
    # shellcheck disable=SC2086
    (cd "$ZOO/code-${commit:0:12}" && exec .venv/bin/deepres reproduce cifar10 \
      --data "$ZOO/cifar10-png" --val-size 0 --eval-every 1000 --depths $depths "${AMP[@]}" \
      --processes-per-run 2 --out "$OUT" --cache-dir "$ZOO/cache" --quiet) || {
      # A stage whose every run completed has done its work though a later step failed:
      # 0fd1205's report needs the checkpoints that runs restored from records lack.
      local depth net
      for depth in $depths; do for net in resnet plain; do
        grep -qs '"status": "completed"' "$OUT/runs/$net$depth-seed0/summary.json" || return 1
      done; done
      echo "=== $(date -u '+%F %T UTC') every run of this stage completed; the next stage goes on"
    }
    touch "$finished"
  done
  echo "=== $(date -u '+%F %T UTC') all done"
}
# A higher priority than the day's tests and builds (root only; otherwise it runs at the
# normal priority).
setsid nohup nice -n -10 bash -c "$(declare -p STAGES ZOO OUT AMP); $(declare -f queue); queue" \
  >> "$LOG" 2>&1 &
QUEUE=$!
echo $QUEUE > "$PIDFILE"
bash "$REPO/scripts/keep-priority.sh" "$QUEUE" "$ZOO/code-"
echo "queue started (pid $QUEUE); log: $LOG"
