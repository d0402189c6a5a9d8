"""Detection quality on the labelled corpus: precision, recall and F1 per detector and overall.

Entity level: a prediction is a true positive when a gold entity has the same detector and an
overlapping span; each gold entity is matched at most once. Detection runs through the real
engine path (one pii_detect rule with every detector but the NARROWER ones, RE2 prefilter,
validators).

Run from the repo root: ``.venv/bin/python bench/detection.py [--errors DETECTOR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sidecar.compliance.detectors import DETECTOR_IDS  # noqa: E402
from sidecar.compliance.engine import compile_rules, evaluate  # noqa: E402
from sidecar.compliance.types import EventText, RuleSpec  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "detection_corpus.jsonl"
#: Detectors that report a subset of another's values under their own id (health_condition is the
#: health part of special_category): left out, or each such value would count twice.
NARROWER = frozenset({"health_condition"})
GOALS = {"overall_f1": 0.95, "precision": {"credit_card": 0.98, "ssn": 0.98, "iban": 0.98}}


def load(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def predict(records: list[dict]) -> list[list[tuple[str, int, int]]]:
    rules = compile_rules([RuleSpec("all", "all", "pii_detect", {"patterns": [d for d in DETECTOR_IDS if d not in NARROWER]})])
    now = datetime.now(timezone.utc)
    out = []
    for record in records:
        verdict = evaluate(rules, EventText(prompt=record["text"]), now=now)
        out.append([(m.detector, m.start, m.end) for v in verdict.violations for m in v.matches])
    return out


def score(records: list[dict], predictions: list[list[tuple[str, int, int]]]):
    tp, fp, fn = Counter(), Counter(), Counter()
    errors: list[tuple[str, str, str, str]] = []
    for record, predicted in zip(records, predictions):
        gold = [(e["detector"], e["start"], e["end"]) for e in record["entities"]]
        used = [False] * len(gold)
        for det, start, end in predicted:
            hit = next((i for i, (g, s, e) in enumerate(gold) if not used[i] and g == det and start < e and s < end), None)
            if hit is None:
                # A second prediction inside an already matched entity is not a new error.
                if any(g == det and start < e and s < end for g, s, e in gold):
                    continue
                fp[det] += 1
                errors.append(("FP", det, record["id"], record["text"][max(0, start - 40):end + 10]))
            else:
                used[hit] = True
                tp[det] += 1
        for (det, start, end), was_used in zip(gold, used):
            if not was_used:
                fn[det] += 1
                errors.append(("FN", det, record["id"], record["text"][max(0, start - 40):end + 10]))
    return tp, fp, fn, errors


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", metavar="DETECTOR", help="print false positives/negatives of a detector ('all' for every one)")
    args = parser.parse_args()
    records = load()
    tp, fp, fn, errors = score(records, predict(records))
    clean = sum(1 for r in records if not r["entities"])
    print(f"corpus: {len(records)} records ({clean} without entities), {sum(len(r['entities']) for r in records)} entities")
    print(f"{'detector':<24}{'gold':>6}{'tp':>6}{'fp':>6}{'fn':>6}{'prec':>8}{'recall':>8}{'f1':>8}")
    for det in DETECTOR_IDS:
        if tp[det] + fp[det] + fn[det] == 0:
            continue
        p, r, f = _prf(tp[det], fp[det], fn[det])
        print(f"{det:<24}{tp[det] + fn[det]:>6}{tp[det]:>6}{fp[det]:>6}{fn[det]:>6}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
    p, r, f = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    print(f"{'OVERALL (micro)':<24}{sum(tp.values()) + sum(fn.values()):>6}{sum(tp.values()):>6}{sum(fp.values()):>6}"
          f"{sum(fn.values()):>6}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
    ok = f >= GOALS["overall_f1"] and all(
        _prf(tp[d], fp[d], fn[d])[0] >= goal for d, goal in GOALS["precision"].items())
    print(f"goals (overall F1 >= 0.95, precision >= 0.98 for credit_card, ssn, iban): {'met' if ok else 'NOT met'}")
    if args.errors:
        for kind, det, rec, snippet in errors:
            if args.errors in ("all", det):
                print(f"{kind} {det:<20} {rec}: {snippet!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
