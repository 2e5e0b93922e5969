#!/usr/bin/env bash
# Run a command as if the machine's date were DATE: every process it starts sees the wall clock
# (and the monotonic clock) moved by the same offset, through libfaketime's preload library
# (Debian's faketime). Usage: scripts/on-date.sh "2027-01-04 01:30:00 UTC" COMMAND [ARGS...]
set -euo pipefail
target=$(date -d "$1" +%s); shift
lib=""
for candidate in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
  if [ -f "$candidate" ]; then lib=$candidate; break; fi
done
if [ -z "$lib" ]; then
  echo "error: libfaketimeMT.so.1 not found; install Debian's faketime (scripts/system-deps.sh test)" >&2
  exit 1
fi
offset=$(( target - $(date +%s) ))
echo "running on $(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S UTC') (the clocks moved by ${offset} s): $*"
# A relative offset, not a fixed start: processes started later agree with those started earlier.
export FAKETIME="$(printf '%+d' "$offset")" LD_PRELOAD="$lib"
exec "$@"
