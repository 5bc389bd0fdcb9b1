#!/usr/bin/env bash
# The cifar-fast queue of issue 25 on the original CIFAR-10. First the ablation: ResNet-20 at
# the final budget (8,000 iterations of batch 128), on the 45k/5k split, each run changing one
# ingredient of the preset. Every choice is read off the validation error; the test error is
# recorded, never used. Then, once FINAL_COMMIT names the commit whose preset is the one
# chosen, the final runs on all 50,000 training images (final-* below). Runs one training at a
# time in the background, beside the paper's queue (scripts/model-zoo.sh), and resumes where
# it stopped when started again.
#
#   bash scripts/fast-ablation.sh          # start or resume in the background
#   bash scripts/fast-ablation.sh status   # the runs as a table (deepres's compare_runs)
#   bash scripts/fast-ablation.sh stop     # SIGTERM: the training saves a checkpoint first
#   bash scripts/fast-ablation.sh records  # copy the finished runs' records into docs/runs/
#   bash scripts/fast-ablation.sh save     # at each stop: commit the runs' state (state/fast-ablation.*)
#   FAST_THREADS=2 bash scripts/fast-ablation.sh   # with the paper's queue stopped: both cores
#
# Everything lives outside the repository, in $FAST (default ~/deepres-fast): a checkout of
# each fixed commit below with its own .venv, the runs (ablation-8k/NAME, final-*/) and the
# log. The data and the decoded-data cache are the paper's queue's ($ZOO).
set -euo pipefail
FAST_COMMIT=${FAST_COMMIT:-8f370b5764c7ff9180f415e25294c4788fc83c1b}
FAST=${FAST:-$HOME/deepres-fast}
ZOO=${ZOO:-$HOME/deepres-zoo}
REPO=$(cd "$(dirname "$0")/.." && pwd)
code_of() { echo "$FAST/code-${1:0:12}"; }  # the checkout of a commit, with its own .venv
CODE=$(code_of "$FAST_COMMIT")
OUT=$FAST/ablation-8k
LOG=$FAST/ablation.log
PIDFILE=$FAST/ablation.pid
KEPT=$REPO/docs/runs/experiments/png-
# A thread beside the paper's queue; with that queue stopped, two use the machine (a run resumed
# with another thread count says so in its meta.json, and its model card).
THREADS=${FAST_THREADS:-1}

# name, iterations, then what it changes from the preset (the baseline changes nothing).
# --iterations scales the preset's schedule: its rise stays 20% of the run. Flip-averaged
# evaluation needs no run of its own: `deepres eval` scores the baseline with and without.
# smoothing-0.2-lr-0.4 puts together the first two changes that measured better alone, and
# cosine-smoothing-0.2-lr-0.4 all three; they run before the rest of the one-change runs
# because the recipe to choose needs them first. lr-0.1 and wd-1e-3 only widen the ranges
# of peak lr and weight decay, so they come after the first final runs. batch64 trains on the
# same images in twice the steps, with the lr halved (batch norm over 64 images, as in the
# paper's runs). The three together measured worse than the baseline, so cosine-seed1 tells
# whether cosine's lowest error alone was more than the noise of one run.
RUNS=(
  "baseline 8000"
  "paper 8000 --recipe cifar-paper"
  "seed1 8000 --seed 1"
  "smoothing-0.2 8000 --set label_smoothing=0.2"
  "lr-0.4 8000 --lr 0.4"
  "ema 8000 --set ema_decay=0.998 --set ema_every=1"
  "cosine 8000 --set schedule=cosine"
  "smoothing-0.2-lr-0.4 8000 --set label_smoothing=0.2 --lr 0.4"
  "cosine-smoothing-0.2-lr-0.4 8000 --set schedule=cosine --set label_smoothing=0.2 --lr 0.4"
  "batch64 16000 --batch-size 64 --lr 0.1"
  "cosine-seed1 8000 --set schedule=cosine --seed 1"
  "rise-5pc 8000 --set lr_rise=400"
  "no-smoothing 8000 --set label_smoothing=0"
  "no-nesterov 8000 --set nesterov=false"
  "wd-paper 8000 --set weight_decay=0.0001"
  "decay-bn 8000 --set decay_norm_and_bias=true"
  "batch256 4000 --batch-size 256 --lr 0.4"
  "final-8k 8000 --depths 20"
  "lr-0.1 8000 --lr 0.1"
  "wd-1e-3 8000 --set weight_decay=0.001"
  "final-2k 2000 --depths 20 --only table6"
  "final-4k 4000 --depths 20 --only table6"
  "final-16k 16000 --depths 20 56"
)

# The final runs are the entries named final-*: each a `deepres reproduce cifar10 --recipe
# cifar-fast --val-size 0` into $FAST/NAME whose report is the fast Table 6 / Figure 6 /
# Figure 7 at that budget, then which networks. ResNet-20 and plain-20 at an eighth of the
# paper's images come as soon as the preset is chosen (before the ablation's last two, which
# only fill its table), then the rest of ResNet-20's budget curve, then all four at a quarter
# (ResNet-56's budget). Their code is FINAL_COMMIT's (empty: the queue stops at the first
# final run). final-2k, final-4k and final-8k were trained by f6b53c1, the commit of the preset
# chosen; final-16k from iteration 5,728 of its ResNet-20 on by 88a9ff8, whose preset is
# the same, value for value, and whose training time leaves out the pauses of this queue
# (for CI and benchmarks), which f6b53c1 counted as training.
FINAL_COMMIT=${FINAL_COMMIT:-88a9ff8d40b6dd9eb6fe43a7cfe3f2ac9b8cc894}
FINAL_CODE=${FINAL_COMMIT:+$(code_of "$FINAL_COMMIT")}

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
# Each completed run, a line each: its folder, then its name in docs/runs/experiments/ after
# $KEPT (ablation-8k-baseline, final-8k-resnet20-seed0).
finished_runs() {
  for summary in "$OUT"/*/summary.json "$FAST"/final-*/runs/*/summary.json; do
    grep -qs '"status": "completed"' "$summary" || continue
    run=$(dirname "$summary")
    case $run in
      "$OUT"/*) echo "$run $(basename "$OUT")-$(basename "$run")" ;;
      *) echo "$run $(basename "$(dirname "$(dirname "$run")")")-$(basename "$run")" ;;
    esac
  done
}

case "${1:-start}" in
  status)
    if running; then echo "ablation running (pid $(cat "$PIDFILE"))"; else echo "ablation not running"; fi
    "$CODE/.venv/bin/python" "$CODE/scripts/compare_runs.py" $(ls -d "$OUT"/*/ "$FAST"/final-*/runs/*/ 2>/dev/null) || true
    exit 0 ;;
  stop)
    if running; then pkill -TERM -P "$(cat "$PIDFILE")" || true; echo "sent SIGTERM"; fi
    exit 0 ;;
  records)
    # What a finished run leaves to read (never its checkpoints), kept with the project.
    finished_runs | while read -r run name; do
      mkdir -p "$KEPT$name"
      cp "$run"/{meta.json,metrics.jsonl,recipe.yaml,summary.json} "$KEPT$name"/
      if [[ -f $run/response_std.json ]]; then cp "$run/response_std.json" "$KEPT$name"/; fi
      echo "$KEPT$name"
    done
    exit 0 ;;
  save)
    # The runs' records, and the last checkpoints of those not finished, for the next machine
    # to go on from (a finished run's records are kept in docs/runs/, its weights not needed).
    # shellcheck disable=SC2046
    bash "$REPO/scripts/carry-state.sh" save fast-ablation "$FAST" "$(bash "$0" status 2>&1)" \
      $(for dir in "$OUT" "$FAST"/final-*/; do
          bash "$REPO/scripts/carry-state.sh" run-files "$FAST" "$(basename "$dir")"
        done)
    exit 0 ;;
  start) ;;
  *) echo "usage: bash scripts/fast-ablation.sh [start|status|stop|records|save]" >&2; exit 2 ;;
esac

if running; then echo "ablation already running (pid $(cat "$PIDFILE")); log: $LOG"; exit 0; fi
[[ -d $ZOO/cifar10-png/test ]] || { echo "start scripts/model-zoo.sh first: it unpacks the data into $ZOO" >&2; exit 2; }
# A new machine: the state saved last, then the finished runs' records kept in docs/runs/.
[[ -d $OUT ]] || bash "$REPO/scripts/carry-state.sh" restore fast-ablation "$FAST"
mkdir -p "$FAST" "$OUT"
bash "$REPO/scripts/carry-state.sh" restore-runs "$FAST" "$KEPT"{ablation-8k,final}-*/summary.json
for commit in "$FAST_COMMIT" $FINAL_COMMIT; do
  code=$(code_of "$commit")
  [[ -d $code ]] || git -C "$REPO" worktree add --detach "$code" "$commit"
  bash "$code/scripts/setup.sh"
done
AMP=()
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then AMP=(--set amp=bf16); fi

# Each run: skipped when its summary says completed, resumed when it has started, else new.
queue() {
  for spec in "${RUNS[@]}"; do
    read -r name iterations changes <<< "$spec"
    case $name in
      final-*) final_run "$name" "$iterations" "$changes" || return 1 ;;
      *) ablation_run "$name" "$iterations" "$changes" || return 1 ;;
    esac
  done
  echo "=== $(date -u '+%F %T UTC') all done"
}
ablation_run() {
  local name=$1 iterations=$2 changes=$3 run=$OUT/$1 args recipe
  if grep -qs '"status": "completed"' "$run/summary.json"; then return 0; fi
  if [[ -f $run/recipe.yaml ]]; then
    args=(--resume "$run")
  else
    recipe=(--recipe cifar-fast)
    [[ $changes == --recipe* ]] && recipe=()
    # shellcheck disable=SC2206
    args=("${recipe[@]}" $changes --iterations "$iterations" --data "$ZOO/cifar10-png"
          --val-size 5000 --set eval_every=1000 "${AMP[@]}" --out "$run")
  fi
  echo "=== $(date -u '+%F %T UTC') $name: ${args[*]}"
  OMP_NUM_THREADS=$THREADS "$CODE/.venv/bin/deepres" train --quiet --cache-dir "$ZOO/cache" "${args[@]}"
}
# reproduce skips the runs it finished and resumes the others by itself; an experiment it
# finished is not invoked again, since its report lists every invocation, even one of 1 s.
final_run() {
  local name=$1 iterations=$2 networks=$3 finished=$FAST/$1/queue-finished
  [[ -f $finished ]] && return 0
  if [[ -z $FINAL_CODE ]]; then
    echo "=== $(date -u '+%F %T UTC') the final runs wait for FINAL_COMMIT"
    return 1
  fi
  echo "=== $(date -u '+%F %T UTC') $name: $iterations iterations, $networks"
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$THREADS "$FINAL_CODE/.venv/bin/deepres" reproduce cifar10 --recipe cifar-fast \
    --iterations "$iterations" $networks --data "$ZOO/cifar10-png" --val-size 0 "${AMP[@]}" \
    --out "$FAST/$name" --cache-dir "$ZOO/cache" --quiet && touch "$finished"
}
cd "$CODE"
setsid nohup bash -c "$(declare -p RUNS OUT ZOO CODE AMP FINAL_CODE FAST THREADS); $(declare -f queue ablation_run final_run); queue" \
  >> "$LOG" 2>&1 &
QUEUE=$!
echo $QUEUE > "$PIDFILE"
# The trainings of both checkouts at the paper's queue's priority: at nice 0 beside it at -5,
# a final run (in a session of its own) trained at half its speed (docs/development.md).
bash "$REPO/scripts/keep-priority.sh" "$QUEUE" "$FAST/code-"
echo "ablation started (pid $QUEUE); log: $LOG"
