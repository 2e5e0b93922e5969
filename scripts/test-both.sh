#!/usr/bin/env bash
# `make test`: the whole suite on today's date, then FUTURE_TESTS (the date rules and the tests
# whose servers run on the machine's clock; the Makefile lists them) on FUTURE_DATE (every
# process's calendar clock moved, scripts/on-date.sh). docs/testing.md says why not all twice.
#
# Four pytest sessions (docs/testing.md):
#   1. the browser tests (tests/e2e), then the moved-date run, and beside them
#   2. tests/unit + tests/integration without the timing-sensitive modules. The browser tests
#      mostly wait (for Chromium and the app, in other processes: ~0.4 of a core) and the rest
#      mostly computes, so side by side they share the 2 cores instead of waiting for each
#      other. Every session makes its own databases, Redis channels, ports and temporary
#      directories, so they share nothing but the servers;
#   3. then, alone, the modules that measure time or take servers away (SERIAL below: the
#      connection limits, the resilience and fault tests — under the load of another session a
#      timing test was flaky, test_connection_limits 2 of 5 runs).
# Fails if any fails. Ends with one line that counts them all: "total: N passed, M failed".
# Usage: scripts/test-both.sh PYTHON FUTURE_DATE "FUTURE_TESTS" [PYTEST ARGS...]
set -uo pipefail
py=$1; future_date=$2; future_tests=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$(mktemp -d -t gcc-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$root"
serial=$(ls tests/integration/test_connection_limits.py tests/integration/test_resilience.py \
  tests/integration/test_fault_*.py)
ignore_serial=$(for f in $serial; do printf -- '--ignore=%s ' "$f"; done)

pytest_run() {  # NAME ARGS...: one pytest session, its output in $work/NAME.log
  local name=$1; shift
  "$py" -m pytest -q -p no:cacheprovider --basetemp="$work/$name" "$@" >"$work/$name.log" 2>&1
}

echo "======== today: tests/e2e beside tests/unit + tests/integration;" \
  "then ${future_tests} with the clocks moved to ${future_date} ========"
(
  pytest_run browser tests/e2e "$@"
  echo $? >"$work/browser.status"
  # The browser tests end first: the moved-date run takes their place beside the rest.
  # shellcheck disable=SC2086  # future_tests is a list of paths
  bash "$here/on-date.sh" "$future_date" "$py" -m pytest -q -p no:cacheprovider \
    --basetemp="$work/future" $future_tests "$@" >"$work/future.log" 2>&1
  echo $? >"$work/future.status"
) &
side=$!
# shellcheck disable=SC2086  # lists of paths and options
pytest_run rest tests/unit tests/integration $ignore_serial "$@"
rest_status=$?
wait "$side"
browser_status=$(cat "$work/browser.status" 2>/dev/null || echo 1)
future_status=$(cat "$work/future.status" 2>/dev/null || echo 1)
cat "$work/browser.log"; echo; cat "$work/rest.log"; echo
echo "======== today, alone: ${serial//$'\n'/ } ========"
# shellcheck disable=SC2086
pytest_run serial $serial "$@"
serial_status=$?
cat "$work/serial.log"; echo
echo "======== ${future_tests} with the clocks moved to ${future_date} (run beside the rest) ========"
cat "$work/future.log"
# pytest's own summary lines can be followed by interpreter-exit warnings: count from the last
# summary line of each log.
count() {  # the number before WORD in the last pytest summary line of a log
  grep -E "^=*[ ]*[0-9]+ (passed|failed)|^[0-9]+ (passed|failed|error)" "$1" | tail -n1 |
    grep -oE "[0-9]+ $2" | grep -oE "^[0-9]+" || echo 0
}
passed=0; failed=0
for log in browser rest serial future; do
  passed=$(( passed + $(count "$work/$log.log" passed) ))
  failed=$(( failed + $(count "$work/$log.log" failed) + $(count "$work/$log.log" error) ))
done
statuses="browser ${browser_status}, unit+integration ${rest_status}, alone ${serial_status}, on ${future_date} ${future_status}"
if [ "$browser_status" -ne 0 ] || [ "$rest_status" -ne 0 ] || [ "$serial_status" -ne 0 ] ||
  [ "$future_status" -ne 0 ]; then
  echo "make test: exit statuses: ${statuses}" >&2
  [ "$failed" -gt 0 ] || failed=1
  echo "total: ${passed} passed, ${failed} failed"
  exit 1
fi
echo "total: ${passed} passed, ${failed} failed"
