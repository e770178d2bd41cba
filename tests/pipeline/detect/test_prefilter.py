"""The shipped rules over every text the project holds: a rule the prefilter leaves out has no
hit, and a rule the split-claim window leaves out has no hit across the boundary."""

import itertools
import json

import pytest

from pipeline.detect.engine import Engine, _may_cross
from pipeline.settings import PROJECT_ROOT


def _texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "tests" / "data").glob("*.jsonl")) + sorted((PROJECT_ROOT / "samples").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                texts.append(item["text"])
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = _texts()
    assert len(found) > 1000
    return found


def test_rules_left_out_have_no_hit(engine: Engine, texts: list[str]) -> None:
    judged = 0
    for text in texts:
        analysis = engine.analyze(text)
        chosen = {rule.spec.id for rule in engine.candidates(analysis)}
        judged += len(chosen)
        for rule in engine.rules:
            if rule.spec.id not in chosen:
                assert rule.matcher.hits(analysis) == [], (rule.spec.id, text)
    # The prefilter does leave rules out: on average far fewer than all are judged.
    assert judged < len(texts) * len(engine.rules) / 4


def test_rules_left_out_of_the_window_cannot_cross(engine: Engine, texts: list[str]) -> None:
    for earlier, text in itertools.pairwise(texts):
        joined = earlier[-30:] + " " + text
        boundary = len(earlier[-30:]) + 1
        analysis = engine.analyze(joined)
        starts, ends = analysis.normalized.starts, analysis.normalized.ends
        for rule in engine.candidates(analysis):
            if not _may_cross(rule, analysis, boundary - 1, boundary):
                crossing = [h for h in rule.matcher.hits(analysis)
                            if starts[h.start] < boundary - 1 and ends[h.end - 1] > boundary]
                assert crossing == [], (rule.spec.id, joined)
