#!/usr/bin/env bash
# precision=auto may choose bf16 (CPUs with AVX512-BF16, CUDA): this checks that
# bf16 changes no more than 0.5 % of the occurrence decisions of the default
# model on the still-image check set (models/hicomex-default.check.json), and
# that "auto" resolves to bf16 exactly where the CPU has AVX512-BF16.
#   check_precision.sh HICOMEX_SYNTH HICOMEX_ANALYZE WEIGHTS CHECK_JSON
set -euo pipefail
synth=$1 analyze=$2 weights=$3 check=$4
for f in "$synth" "$analyze" "$weights" "$check"; do
  [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
read -r count identities seed size < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["count"], c["identities"], c["seed"], c["size"])' "$check")
"$synth" dataset --out "$tmp/set" --count "$count" --identities "$identities" --seed "$seed" \
  --size "$size" --jobs 2 --quiet
for p in fp32 bf16 auto; do
  "$analyze" "$tmp/set/images" -o "$tmp/$p.csv" --model "$weights" --device cpu --precision "$p" --probabilities -q
done
if grep -qw avx512_bf16 /proc/cpuinfo; then expect=bf16; else expect=fp32; fi
python3 - "$tmp" "$expect" <<'PY'
import csv, sys
tmp, expect = sys.argv[1], sys.argv[2]
def read(name):
    with open(f"{tmp}/{name}.csv") as f:
        rows = list(csv.DictReader(f, skipinitialspace=True))
    return rows
fp32, bf16, auto = read("fp32"), read("bf16"), read("auto")
assert len(fp32) == len(bf16) > 100, f"faces: fp32 {len(fp32)}, bf16 {len(bf16)}"
cols = [c for c in fp32[0] if c.startswith("AU") and c.endswith("_c")]
pcols = [c for c in fp32[0] if c.startswith("AU") and c.endswith("_p")]
icols = [c for c in fp32[0] if c.startswith("AU") and c.endswith("_r")]
assert cols and pcols, f"no AU presence / probability columns in {list(fp32[0])[:8]}..."
iworst = 0.0
decisions = flips = 0
worst = 0.0
for a, b in zip(fp32, bf16):
    assert (a["frame"], a["face_id"]) == (b["frame"], b["face_id"])
    for c in cols:
        decisions += 1
        flips += a[c] != b[c]
    for c in pcols:
        worst = max(worst, abs(float(a[c]) - float(b[c])))
    for c in icols:
        iworst = max(iworst, abs(float(a[c]) - float(b[c])))
share = flips / decisions
print(f"{len(fp32)} faces, {decisions} decisions: bf16 flips {flips} ({100 * share:.2f} %), "
      f"largest probability change {worst:.4f}, largest intensity change {iworst:.3f}")
same = auto == (bf16 if expect == "bf16" else fp32)
print(f"precision=auto gives the {expect} results on this CPU: {same}")
sys.exit(0 if share <= 0.005 and same else 1)
PY
