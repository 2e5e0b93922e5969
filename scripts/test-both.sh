#!/usr/bin/env bash
# `make test`: the whole suite on today's date, then FUTURE_TESTS (the date rules and the tests
# whose servers run on the machine's clock; the Makefile lists them) on FUTURE_DATE (every
# process's calendar clock moved, scripts/on-date.sh). docs/testing.md says why not all twice. The two runs share nothing but the PostgreSQL and Redis
# servers (each makes its own databases, channels and ports; a test that takes a server away
# starts a private one), so they can run side by side — but side by side, the load made a
# timing test flaky (test_connection_limits, 2 of 5 runs), so they run one after the other.
# Fails if either fails.
# Usage: scripts/test-both.sh PYTHON FUTURE_DATE "FUTURE_TESTS" [PYTEST ARGS...]
set -uo pipefail
py=$1; future_date=$2; future_tests=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d -t gcc-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$py" -m pytest -q -p no:cacheprovider --basetemp="$work/now" "$@" 2>&1 | tee "$work/now.log"
now_status=${PIPESTATUS[0]}
echo
echo "======== ${future_tests} with the clocks moved to ${future_date} ========"
# shellcheck disable=SC2086  # future_tests is a list of paths
bash "$here/on-date.sh" "$future_date" "$py" -m pytest -q -p no:cacheprovider \
  --basetemp="$work/future" $future_tests "$@" 2>&1 | tee "$work/future.log"
future_status=${PIPESTATUS[0]}
# pytest's own summary lines can be followed by interpreter-exit warnings: end with one line that
# counts both runs ("total: N passed, M failed").
count() {  # the number before WORD in the last pytest summary line of a log
  grep -E "^=*[ ]*[0-9]+ (passed|failed)|^[0-9]+ (passed|failed|error)" "$1" | tail -n1 |
    grep -oE "[0-9]+ $2" | grep -oE "^[0-9]+" || echo 0
}
passed=$(( $(count "$work/now.log" passed) + $(count "$work/future.log" passed) ))
failed=$(( $(count "$work/now.log" failed) + $(count "$work/future.log" failed) \
  + $(count "$work/now.log" error) + $(count "$work/future.log" error) ))
if [ "$now_status" -ne 0 ] || [ "$future_status" -ne 0 ]; then
  echo "make test: today's run exited ${now_status}, the run on ${future_date} exited ${future_status}" >&2
  [ "$failed" -gt 0 ] || failed=1
  echo "total: ${passed} passed, ${failed} failed"
  exit 1
fi
echo "total: ${passed} passed, ${failed} failed"
