#!/usr/bin/env bash
# The embedded default model reproduces the model card's figure: it renders the
# small fixed synthetic set named in models/hicomex-default.check.json (unseen
# identities: a seed the training data did not use), evaluates the default
# weights on it with hicomex-eval, and compares the mean F1 with the recorded
# figure within the recorded tolerance.
#   check_default_model.sh HICOMEX_SYNTH HICOMEX_EVAL WEIGHTS CHECK_JSON
set -euo pipefail
synth=$1 eval=$2 weights=$3 check=$4
for f in "$synth" "$eval" "$weights" "$check"; do
  [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
read -r count identities seed size centres < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["count"], c["identities"], c["seed"], c["size"], c["centres"])' "$check")
"$synth" dataset --out "$tmp/set" --count "$count" --identities "$identities" --seed "$seed" \
  --size "$size" --jobs 2 --quiet
"$eval" --weights "$weights" --data "$tmp/set/manifest.jsonl" --folds 2 --test-fold 1,2 \
  --centres "$centres" --cache-dir "$tmp/cache" --json "$tmp/eval.json" --threads 2 > "$tmp/table.md"
cat "$tmp/table.md"
python3 - "$check" "$tmp/eval.json" <<'PY'
import json, sys
check = json.load(open(sys.argv[1]))
result = json.load(open(sys.argv[2]))
got = float(result["rows"][0]["avg_f1"])
want, tol = float(check["mean_f1"]), float(check["tolerance"])
print(f"mean F1 {got:.4f}, model card {want:.4f} +- {tol}")
sys.exit(0 if abs(got - want) <= tol else 1)
PY
