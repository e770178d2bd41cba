"""Repeated worker crashes on a real broker, counted: `python -m pipeline.ops.soak [--events N]
[--kills K] [--seed S]` (`make soak`; the test suite runs a small size).

The samples and a generated live mix of many rooms (`pipeline.ops.livemix`) are put on the input
topics while one worker judges them. At K moments drawn from a seeded generator (a share of the
transcripts committed, then a random fraction of a second more) the worker is SIGKILLed: no
clean stop, no last commit, batches in flight. A new one is started each time, and the last runs
until every transcript offset is committed. Then the alerts topic is compared with what `scan`
gives for the same events: every alert `scan` gives must be there with the same content; the only
extras allowed are re-sends of an alert with its identical id. Prints a JSON report and exits 1
when an alert is missing, wrong or unknown to `scan`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.feed import read_to_end, send_events
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.livemix import live_events
from pipeline.ops.local import start_worker, wait_committed
from pipeline.ruleset import load_ruleset
from pipeline.settings import PROJECT_ROOT, Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient

SAMPLES = PROJECT_ROOT / "samples"
ROOMS = 200
# Event time between two segments of the mix (any room): a room speaks every ROOMS * EVERY_MS,
# 4 s here, inside the split-claim window, so rooms carry state from segment to segment.
EVERY_MS = 20
FIRST_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def soak_events(count: int) -> list[str]:
    """The samples (listings, split claims, repeats) and `count` live-mix segments, as lines."""
    lines = [line for path in sorted(SAMPLES.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    lines += [json.dumps(e, ensure_ascii=False) for e in live_events(count, "soak", FIRST_MS, EVERY_MS, ROOMS)]
    return lines


@dataclass
class SoakReport:
    events: int
    transcripts: int
    kills: int
    seed: int
    expected_alerts: int
    alerts_on_topic: int = 0
    missing: int = 0
    unknown: int = 0
    changed: int = 0
    resent: int = 0
    restarts_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    missing_examples: list[list[str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing == self.unknown == self.changed == 0


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def run_soak(settings: Settings, lines: list[str], kills: int, seed: int, log_dir: Path,
             session_timeout_s: float = 6.0, timeout_s: float = 900.0) -> SoakReport:
    """Feed `lines` while killing and restarting the worker `kills` times; compare with `scan`."""
    rng = random.Random(seed)
    transcripts = sum(1 for line in lines if json.loads(line).get("type") != "listing")
    expected = [json.loads(a.model_dump_json()) for a in Scanner(Engine(load_ruleset(settings.rules_dir)),
                                                                   settings).scan_lines(lines)]
    report = SoakReport(len(lines), transcripts, kills, seed, len(expected))
    # Kill points: shares of the transcripts committed, spread over the run and never at its end.
    shares = sorted(rng.uniform(0.02, 0.9) for _ in range(kills))
    env = {"CLAIMWATCH_SESSION_TIMEOUT_S": str(session_timeout_s)}
    started = time.monotonic()
    feeder = threading.Thread(target=send_events, args=(settings.broker, settings.topic_prefix, lines), daemon=True)
    admin = KafkaAdminClient(bootstrap_servers=settings.broker)
    proc = start_worker(settings, log_dir / "worker-0.log", own_session=True, env=env)
    feeder.start()
    try:
        for n, share in enumerate(shares, start=1):
            wait_committed(admin, settings, int(share * transcripts), proc, timeout_s)
            time.sleep(rng.uniform(0.0, 0.8))  # land anywhere in a batch: judging, delivering, committing
            _kill(proc)
            restarted = time.monotonic()
            proc = start_worker(settings, log_dir / f"worker-{n}.log", own_session=True, env=env)
            report.restarts_seconds.append(round(time.monotonic() - restarted, 1))
        feeder.join()
        wait_committed(admin, settings, transcripts, proc, timeout_s)
    finally:
        admin.close()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
    report.seconds = round(time.monotonic() - started, 1)
    got = [json.loads(m.value) for m in read_to_end(settings.broker, settings.topic("alerts"))]
    count_alerts(report, expected, got)
    return report


def _content(alert: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in alert.items() if key != "emitted_at"}


class AlertCounts(Protocol):
    """A report's fields for the alerts topic against `scan`."""

    alerts_on_topic: int
    missing: int
    unknown: int
    changed: int
    resent: int
    missing_examples: list[list[str]]


def count_alerts(report: AlertCounts, expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    """Fill `report` with what is missing, unknown or changed on the topic, and what was re-sent."""
    want = {a["alert_id"]: a for a in expected}
    copies = Counter(a["alert_id"] for a in got)
    report.alerts_on_topic = len(got)
    report.missing = sum(1 for i in want if i not in copies)
    report.unknown = sum(1 for i in copies if i not in want)
    # Only the time of publication may differ between copies and from scan's.
    report.changed = sum(1 for a in got if a["alert_id"] in want and _content(a) != _content(want[a["alert_id"]]))
    report.resent = sum(n - 1 for i, n in copies.items() if i in want)
    report.missing_examples = [[a["event_id"], a["rule_id"]] for i, a in want.items() if i not in copies][:10]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="live-mix segments added to the samples")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of the worker, each followed by a restart")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    parser.add_argument("--session-timeout", type=float, default=6.0,
                        help="the workers' session timeout: how long a killed member holds its partitions")
    parser.add_argument("--keep-logs", type=Path, default=None, help="write the workers' logs here")
    args = parser.parse_args(argv)
    lines = soak_events(args.events)
    with EmbeddedBroker(port=0) as broker, tempfile.TemporaryDirectory() as tmp:
        log_dir = args.keep_logs or Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        settings = Settings(broker=broker.bootstrap, topic_prefix=f"soak-{int(time.time())}.")
        ensure_topics(settings)
        report = run_soak(settings, lines, args.kills, args.seed, log_dir, args.session_timeout)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2, ensure_ascii=False))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
