#!/usr/bin/env bash
# The README's main job: set up (installs what is missing, builds), then run
# the product on its embedded default. Until the plugin and the default model
# land, this runs the network benchmark on the paper-sized model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HICOMEX_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" "$build"
mkdir -p "$root/out"
echo "[demo] timing the paper-sized HiCOMEX network on this machine (hicomex-bench)" >&2
"$build/model/tools/hicomex-bench" --batch-sizes 1,8 | tee "$root/out/bench.txt"
echo "[demo] figures written to out/bench.txt" >&2
