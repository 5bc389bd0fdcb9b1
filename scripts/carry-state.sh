#!/usr/bin/env bash
# A long run's state, carried from one machine to the next in this repository: the machine is
# replaced between working sessions and its disk goes with it, but main's commits stay. `save`
# packs the named files (paths under ROOT) into state/NAME.tar.gz, writes state/NAME.md (what
# the state is: NOTE) and commits those two files alone, so that a run many sessions long
# loses at most the iterations since the last save. `restore` unpacks them under ROOT on a new
# machine; it never overwrites a file. Save at each stop, not more often: every save adds its
# checkpoints (megabytes) to the repository's history.
#
#   bash scripts/carry-state.sh save NAME ROOT NOTE PATH...   # PATH relative to ROOT
#   bash scripts/carry-state.sh restore NAME ROOT
#   bash scripts/carry-state.sh run-files ROOT DIR   # what a run folder tree needs, for save
#   bash scripts/carry-state.sh restore-runs ROOT SUMMARY...   # records kept in docs/runs/
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
  save)
    name=$2 root=$3 note=$4; shift 4
    archive=$REPO/state/$name.tar.gz
    mkdir -p "$REPO/state"
    # Into a temporary file first: a checkpoint replaced while tar reads it fails this save,
    # never the one committed before.
    trap 'rm -f "$archive.partial"' EXIT
    tar -czf "$archive.partial" -C "$root" "$@"
    mv "$archive.partial" "$archive"
    printf '# State of %s, saved %s\n\nUnpacked into %s by the script that saved it, on a new machine.\n\n```\n%s\n```\n' \
      "$name" "$(date -u '+%F %T UTC')" "$root" "$note" > "$REPO/state/$name.md"
    git -C "$REPO" add "state/$name.tar.gz" "state/$name.md"
    git -C "$REPO" commit -q -m "State of $name at this stop ($(du -h "$archive" | cut -f1))" \
      -- "state/$name.tar.gz" "state/$name.md"
    echo "saved $(du -h "$archive" | cut -f1) of state in state/$name.tar.gz and committed it" ;;
  restore)
    name=$2 root=$3
    archive=$REPO/state/$name.tar.gz
    if [[ ! -f $archive ]]; then echo "no saved state ($archive)"; exit 0; fi
    mkdir -p "$root"
    tar -xzf "$archive" -C "$root" --skip-old-files
    echo "restored the state saved in $archive into $root" ;;
  run-files)
    # Under ROOT/DIR, what a new machine needs to go on: the records of every run and the
    # last.pt of every run not completed; not a completed run's checkpoints (its records say
    # all it is, its layer responses included), best.pt (the run's own best, rebuilt from
    # nothing a resume needs), TensorBoard events, logs or a run's lock.
    root=$2 dir=$3
    cd "$root"
    # shellcheck disable=SC2046
    completed=$(grep -l '"status": "completed"' $(find "$dir" -name summary.json) /dev/null \
      | sed 's|/summary.json$|/checkpoints/|' || true)
    find "$dir" -path '*/tensorboard' -prune -o -type f \
      ! -name .lock ! -name best.pt ! -name '*.log' -print \
      | grep -vF -f <(echo "${completed:-/nothing completed/}") || true ;;
  restore-runs)
    # Finished runs whose records are kept in docs/runs/ (SUMMARY: their summary.json): each
    # copied back to the folder it names (run_dir), if that is under ROOT and missing, so
    # that a queue skips it and its report still has it.
    root=$2; shift 2
    for summary in "$@"; do
      [[ -f $summary ]] || continue
      run=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$summary")
      if [[ $run == "$root/"* && ! -e $run ]]; then
        mkdir -p "$run" && cp "$(dirname "$summary")"/* "$run"/
        echo "restored the records of $run from $(dirname "$summary")"
      fi
    done ;;
  *) echo "usage: bash scripts/carry-state.sh save NAME ROOT NOTE PATH... | restore NAME ROOT | run-files ROOT DIR | restore-runs ROOT SUMMARY..." >&2
     exit 2 ;;
esac
