"""Rerunnable benchmark of the detection core: `python -m pipeline.ops.bench [--segments N]`.

Times the rule-set load, then scans N transcript segments (the dev corpus cycled, each with its
own event id) through the same Scanner as `claimwatch scan`, and reports segments per second,
per-segment latency percentiles and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.ruleset.load import load_ruleset
from pipeline.settings import PROJECT_ROOT, load_settings

CORPUS = PROJECT_ROOT / "tests" / "data" / "dev_corpus.jsonl"


def _lines(count: int) -> list[str]:
    texts = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(count):
        item = texts[i % len(texts)]
        out.append(json.dumps({"type": "transcript", "event_id": f"bench-{i}", "room_id": f"room-{i % 50}",
                               "ts": 1767225600000 + i * 100, "text": item["text"],
                               "category": item.get("category")}, ensure_ascii=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=20000)
    args = parser.parse_args()

    started = time.perf_counter()
    engine = Engine(load_ruleset())
    load_seconds = time.perf_counter() - started
    lines = _lines(args.segments)
    scanner = Scanner(engine, load_settings())
    latencies = []
    alerts = 0
    started = time.perf_counter()
    for line in lines:
        t = time.perf_counter()
        alerts += sum(1 for _ in scanner.scan_lines([line]))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    latencies.sort()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"{platform.python_implementation()} {platform.python_version()}",
        "rules": len(engine.rules),
        "ruleset_load_s": round(load_seconds, 2),
        "segments": len(lines),
        "alerts": alerts,
        "segments_per_s": round(len(lines) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 3),
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3),
        "peak_rss_mib": round(peak_mib, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
