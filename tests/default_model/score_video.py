#!/usr/bin/env python3
"""Scores an analyzer CSV (hicomex-analyze / hicomexexport, OpenFace-style) against the
ground-truth CSV that `hicomex-synth video` writes beside its video.

Faces are matched per frame (by timestamp) to the nearest truth face by landmark centroid,
within half the truth face's inter-ocular distance. Prints a Markdown table of per-AU F1
(2TP / (2TP + FP + FN); an AU that is neither in the truth nor in the output is not scored),
precision and recall, the face recall and the landmark NME (outer-eye-corner normalised),
and with --json writes the same figures.

  score_video.py ANALYZER.csv TRUTH.csv [--json OUT.json]
"""
import argparse
import csv
import json
import math
import sys


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]
    except OSError as e:
        sys.exit(f"score_video: cannot read {path}: {e.strerror}")


def points(row, path):
    try:
        return [(float(row[f"x_{i}"]), float(row[f"y_{i}"])) for i in range(68)]
    except (KeyError, ValueError):
        sys.exit(f"score_video: {path}: a row lacks the 68 landmark columns x_0..x_67, y_0..y_67")


def centroid(p):
    return (sum(x for x, _ in p) / len(p), sum(y for _, y in p) / len(p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("analyzer_csv")
    ap.add_argument("truth_csv")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    truth_rows = read_csv(args.truth_csv)
    pred_rows = read_csv(args.analyzer_csv)
    if not truth_rows:
        sys.exit(f"score_video: {args.truth_csv} has no rows")
    for rows, path, need in ((truth_rows, args.truth_csv, "time_s"), (pred_rows, args.analyzer_csv, "timestamp")):
        if rows and need not in rows[0]:
            sys.exit(f"score_video: {path} has no '{need}' column: is it the "
                     f"{'hicomex-synth video --csv' if need == 'time_s' else 'analyzer'} CSV?")
    aus = sorted(int(k[2:]) for k in truth_rows[0] if k.startswith("AU") and k[2:].isdigit())
    missing = [a for a in aus if f"AU{a:02d}_c" not in (pred_rows[0] if pred_rows else {})]
    if pred_rows and missing:
        aus = [a for a in aus if a not in missing]  # AUs the model does not predict are not scored

    # Truth faces by frame time (ms, rounded).
    truth = {}
    for r in truth_rows:
        truth.setdefault(round(float(r["time_s"]) * 1000), []).append((r, points(r, args.truth_csv)))
    counts = {a: [0, 0, 0] for a in aus}  # TP, FP, FN
    matched, nme_sum, unmatched_pred = 0, 0.0, 0
    used = set()
    for p in pred_rows:
        key = round(float(p["timestamp"]) * 1000)
        # Both files print times rounded to the millisecond; allow one either way.
        cands = truth.get(key) or truth.get(key - 1) or truth.get(key + 1) or []
        pp = points(p, args.analyzer_csv)
        pc = centroid(pp)
        best, best_d = None, None
        for i, (r, tp) in enumerate(cands):
            d = math.dist(centroid(tp), pc)
            if best_d is None or d < best_d:
                best, best_d = i, d
        if best is None:
            unmatched_pred += 1
            continue
        r, tp = cands[best]
        iod = math.dist(tp[36], tp[45])
        if best_d > 0.5 * iod or (key, best) in used:
            unmatched_pred += 1
            continue
        used.add((key, best))
        matched += 1
        nme_sum += sum(math.dist(a, b) for a, b in zip(pp, tp)) / 68 / iod
        for a in aus:
            y = float(r[f"AU{a}"]) > 0.5
            yh = float(p[f"AU{a:02d}_c"]) > 0.5
            c = counts[a]
            if y and yh:
                c[0] += 1
            elif yh:
                c[1] += 1
            elif y:
                c[2] += 1

    per_au = []
    for a in aus:
        tp, fp, fn = counts[a]
        # Defined wherever the AU occurs in the truth or the output: false alarms of an AU
        # the video never shows score 0, not "not applicable".
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else None
        prec = tp / (tp + fp) if tp + fp > 0 else None
        rec = tp / (tp + fn) if tp + fn > 0 else None
        per_au.append({"au": a, "tp": tp, "fp": fp, "fn": fn, "f1": f1, "precision": prec, "recall": rec})
    scored = [x["f1"] for x in per_au if x["f1"] is not None]
    result = {
        "truth_faces": len(truth_rows),
        "analyzer_faces": len(pred_rows),
        "matched": matched,
        "face_recall": matched / len(truth_rows),
        "unmatched_analyzer_faces": unmatched_pred,
        "landmark_nme": nme_sum / matched if matched else None,
        "avg_f1": sum(scored) / len(scored) if scored else None,
        "aus_scored": [x["au"] for x in per_au if x["f1"] is not None],
        "per_au": per_au,
    }

    pct = lambda v: "-" if v is None else f"{100 * v:.1f}"
    print("| AU | F1 (%) | Precision (%) | Recall (%) | TP | FP | FN |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for x in per_au:
        print(f"| AU{x['au']} | {pct(x['f1'])} | {pct(x['precision'])} | {pct(x['recall'])} | {x['tp']} | {x['fp']} | {x['fn']} |")
    print(f"| Avg (AUs in the truth or the output) | **{pct(result['avg_f1'])}** | | | | | |")
    nme = "-" if result["landmark_nme"] is None else f"{result['landmark_nme']:.4f}"
    print(f"faces: {matched} of {len(truth_rows)} truth faces matched ({pct(result['face_recall'])} %), "
          f"{unmatched_pred} analyzer faces unmatched; landmark NME {nme}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
