#!/usr/bin/env bash
# Keeps a long-run queue's training processes at autogroup nice -5 while the queue lives.
# The kernel shares the CPU between sessions first (autogroups), and torchrun and `deepres
# reproduce` start each training in a session of its own: every 30 s (EVERY), until PID ends,
# the sessions of the processes whose command line starts with PREFIX get -5 (the day's tests
# still get about a quarter of the CPU). Runs in the background; prints nothing.
#
#   bash scripts/keep-priority.sh PID PREFIX
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: bash scripts/keep-priority.sh PID PREFIX" >&2; exit 2; }
setsid nohup bash -c "while kill -0 $1 2>/dev/null; do
  for pid in \$(pgrep -f '^$2'); do echo -5 > /proc/\$pid/autogroup; done 2>/dev/null
  sleep ${EVERY:-30}; done" >/dev/null 2>&1 &
