#!/usr/bin/env bash
# The README's test command: set up (installs what is missing, builds), then runs
# every suite and ends with "N passed, N failed".
#   scripts/test.sh [meson test args...]   e.g. scripts/test.sh --suite model
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HICOMEX_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" "$build" || { echo "0 passed, 1 failed"; exit 1; }
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@"
rc=$?
python3 "$root/scripts/test_summary.py" "$build/meson-logs/testlog.junit.xml" || rc=1
exit $rc
