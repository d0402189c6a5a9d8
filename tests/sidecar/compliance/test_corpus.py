"""The labelled corpus is reproducible, and detection quality on it does not regress."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_corpus_file_matches_its_generator() -> None:
    sys.path.insert(0, str(DATA))
    try:
        make_corpus = _load("make_corpus", DATA / "make_corpus.py")
    finally:
        sys.path.remove(str(DATA))
    records = make_corpus.build()
    lines = (DATA / "detection_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records
    assert len(records) >= 1500
    assert sum(1 for r in records if not r["entities"]) >= len(records) / 3
    for record in records:
        for entity in record["entities"]:
            assert 0 <= entity["start"] < entity["end"] <= len(record["text"])


def test_detection_quality_goals() -> None:
    bench = _load("bench_detection", ROOT / "bench" / "detection.py")
    records = bench.load()
    tp, fp, fn, _ = bench.score(records, bench.predict(records))
    overall = bench._prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    assert overall[2] >= 0.95
    for detector in ("credit_card", "ssn", "iban"):
        assert bench._prf(tp[detector], fp[detector], fn[detector])[0] >= 0.98, detector
