"""Rerunnable benchmark of the detection core: `python -m pipeline.ops.bench [--segments N]`.

Every figure is a ratio measured in one run on the same texts, so that it holds on a noisy
machine:
- on a live mix (about 95% ordinary host talk, 5% claims; pipeline.ops.livemix) and on the
  claims-dense dev corpus: bare `jieba.lcut` segments/s, the core's segments/s (the judge as
  `claimwatch scan` runs it: 50 rooms, a segment every 5 s in each, so the split-claim window
  works on every segment after a room's first) and core / jieba;
- the same without the split-claim window (each segment judged alone), to show its share;
- rule scale: the core on the live mix with every word list of the rule set padded ×100 with
  synthetic terms, as time with padding / time without;
- the rule set's load time and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jieba
import yaml

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.ops.livemix import Line, dev_claims, live_mix
from pipeline.ruleset import load_ruleset
from pipeline.settings import Settings, default_rules_dir

ROOMS = 50
SEGMENT_EVERY_MS = 5000 // ROOMS
PAD = 100


def events(lines: list[Line], tag: str) -> list[str]:
    return [json.dumps({"type": "transcript", "event_id": f"{tag}-{i}", "room_id": f"room-{i % ROOMS}",
                        "product_id": f"p-{i % ROOMS}", "ts": 1_767_225_600_000 + i * SEGMENT_EVERY_MS,
                        "text": line.text, "category": line.category}, ensure_ascii=False)
            for i, line in enumerate(lines)]  # fmt: skip


def _rate(count: int, run: Callable[[], object]) -> tuple[float, float]:
    """Items per second and seconds taken."""
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    return count / seconds, seconds


def bare_jieba(texts: list[str]) -> float:
    jieba.lcut(texts[0])  # the dictionary is loaded before timing starts
    return _rate(len(texts), lambda: [jieba.lcut(text) for text in texts])[0]


def core(
    engine: Engine, lines: list[str], latencies: list[float] | None = None, context_segments: int = 3
) -> tuple[float, float, int]:
    """Segments/s and seconds of the judge over the lines, and the alerts raised (with
    `context_segments=1`, without the split-claim window)."""
    settings = Settings(context_segments=context_segments, context_window_s=20.0, dedup_window_s=60.0)
    scanner = Scanner(engine, settings)
    alerts = 0

    def run() -> None:
        nonlocal alerts
        for line in lines:
            started = time.perf_counter()
            alerts += sum(1 for _ in scanner.scan_lines([line]))
            if latencies is not None:
                latencies.append(time.perf_counter() - started)

    rate, seconds = _rate(len(lines), run)
    return rate, seconds, alerts


def padded_rules(target: Path, factor: int = PAD, seed: int = 7) -> Path:
    """A copy of the shipped rules with every word list padded to `factor` times its length with
    synthetic terms of five to eight rare characters: ordinary talk neither contains them nor
    sounds like them, so the padded set raises the same alerts and only its size differs."""
    rng = random.Random(seed)
    rare = [chr(c) for c in range(0x4E00, 0x9FA5) if c % 7 == 3][:6000]
    rules = target / "rules"
    shutil.copytree(default_rules_dir(), rules)
    for path in sorted(rules.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, value in (data.get("lists") or {}).items():
            terms = value["terms"] if isinstance(value, dict) else value
            words = [t for t in terms if not t.startswith("$")]
            terms.extend("".join(rng.choice(rare) for _ in range(rng.randint(5, 8)))
                         for _ in range(len(words) * (factor - 1)))  # fmt: skip
            if isinstance(value, dict):
                value["terms"] = terms
            else:
                data["lists"][name] = terms
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=10000, help="segments of the live mix")
    parser.add_argument("--dev-segments", type=int, default=3000, help="segments of the dev corpus, cycled")
    args = parser.parse_args()

    started = time.perf_counter()
    engine = Engine(load_ruleset())
    load_seconds = time.perf_counter() - started

    mix = live_mix(args.segments)
    claims = dev_claims()
    dev = [Line(*claims[i % len(claims)], claim=True) for i in range(args.dev_segments)]
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "rules": len(engine.rules),
        "ruleset_load_s": round(load_seconds, 2),
    }
    for name, lines in (("live_mix", mix), ("dev_corpus", dev)):
        latencies: list[float] = []
        jieba_rate = bare_jieba([line.text for line in lines])
        core_rate, _, alerts = core(engine, events(lines, name), latencies)
        alone_rate, _, _ = core(engine, events(lines, name), context_segments=1)
        latencies.sort()
        report[name] = {
            "segments": len(lines),
            "alerts": alerts,
            "jieba_segments_per_s": round(jieba_rate, 1),
            "core_segments_per_s": round(core_rate, 1),
            "core_over_jieba": round(core_rate / jieba_rate, 3),
            "core_without_window_segments_per_s": round(alone_rate, 1),
            "core_without_window_over_jieba": round(alone_rate / jieba_rate, 3),
            "latency_ms_p50": round(statistics.median(latencies) * 1000, 3),
            "latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3),
        }
    with tempfile.TemporaryDirectory() as tmp:
        scale_lines = events(mix, "scale")
        _, plain_seconds, plain_alerts = core(engine, scale_lines)
        started = time.perf_counter()
        padded_set = load_ruleset(padded_rules(Path(tmp)))
        padded = Engine(padded_set)
        padded_load = time.perf_counter() - started
        _, padded_seconds, padded_alerts = core(padded, scale_lines)
    report["rule_scale"] = {
        "lists_padded": f"x{PAD}",
        "list_terms": sum(len(terms) for terms in padded_set.lists.values()),
        "ruleset_load_s": round(padded_load, 2),
        "time_ratio": round(padded_seconds / plain_seconds, 3),
        "same_alerts": padded_alerts == plain_alerts,
    }
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
