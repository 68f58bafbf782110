#!/usr/bin/env bash
# Run gillab's test suite while another process competes for a core, as on a new user's busy machine.
#
# usage: scripts/stress-tests.sh [RUNS] [-- PYTEST-ARGS...]
#
# RUNS (default 3) runs of `python -m pytest` in a row. Through each run, one CPU-bound competitor process
# spins (pure Python, one core); it is bounded in time by `timeout` (GILLAB_STRESS_LIMIT_S, default 600 s a
# run) and is killed when the run ends, whichever comes first. Uses the python on PATH (activate the
# project's venv first). Prints one line per run and exits non-zero if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then RUNS=$1; shift; fi
[ "${1:-}" = "--" ] && shift
case "$RUNS" in ''|*[!0-9]*|0) echo "stress-tests: RUNS must be a whole number above 0, got '$RUNS'" >&2; exit 2 ;; esac
LIMIT=${GILLAB_STRESS_LIMIT_S:-600}
PY=${PYTHON:-python}

competitor=
stop_competitor() {
  if [ -n "$competitor" ]; then kill "$competitor" 2>/dev/null || true; wait "$competitor" 2>/dev/null || true; fi
  competitor=
}
trap stop_competitor EXIT INT TERM

failed=0
for i in $(seq 1 "$RUNS"); do
  timeout "$LIMIT" "$PY" -c 'while True: pass' &
  competitor=$!
  start=$(date +%s)
  log=$(mktemp -t gillab-stress.XXXXXX)
  if "$PY" -m pytest -p no:cacheprovider -q "$@" >"$log" 2>&1; then status=passed; else status=FAILED; failed=$((failed + 1)); fi
  stop_competitor
  summary=$(grep -E '(passed|failed|error)' "$log" | tail -1)
  echo "stress run $i/$RUNS: $status in $(( $(date +%s) - start )) s with one competing process: $summary"
  if [ "$status" = FAILED ]; then
    grep -E '^(FAILED|ERROR) ' "$log" || tail -20 "$log"
    echo "  the whole output of run $i is kept in $log"
  else
    rm -f "$log"
  fi
done
echo "stress-tests: $failed of $RUNS runs failed"
[ "$failed" -eq 0 ]
