#!/usr/bin/env bash
# Run a command as if the machine's date were DATE: every process it starts (pytest, the app,
# the capture service, Chromium) reads the calendar clock moved by the same offset, through a
# small preload library built here from scripts/shift-clock.c. Monotonic time, which sleeps and
# timeouts use, is not moved. PostgreSQL and Redis keep the real date.
# Usage: scripts/on-date.sh "2027-01-04 01:30:00 UTC" COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=$(date -d "$1" +%s); shift
lib="${SHIFT_CLOCK_LIB:-$here/../var/shift-clock.so}"
if [ ! -f "$lib" ] || [ "$here/shift-clock.c" -nt "$lib" ]; then
  mkdir -p "$(dirname "$lib")"
  cc -shared -fPIC -O2 -Wall -Werror -o "$lib" "$here/shift-clock.c" -ldl
fi
offset=$(( target - $(date +%s) ))
echo "running on $(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S UTC') (calendar clock moved by ${offset} s): $*"
export SHIFT_CLOCK_SECONDS="$offset" LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
exec "$@"
