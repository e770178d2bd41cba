"""Broker restarts under load, counted: `python -m pipeline.ops.outage [--events N] [--down S]
[--seed S]` (`make soak` runs it after the worker kills; the test suite runs a small size).

A broker of its own (fixed port, kept data directory), one worker judging, `claimwatch replay`
producing a generated live mix at a pace that spans the run, and `claimwatch record` recording
the input topics from the beginning. Mid-stream the broker is stopped twice, once with SIGTERM
(Kafka's clean shutdown) and once with SIGKILL (a crash), each at a seeded moment, left down for
`--down` seconds and started again on the same data directory and port. Nothing is restarted but
the broker: the worker, `replay` and `record` must reconnect by themselves, never exit, and say
that they wait. Then:

- every alert `scan` gives for the events is on the alerts topic with the same content, and the
  only extras are re-sends with an identical `alert_id`;
- `replay` sent every event and exited 0; the recording holds every input record once;
- the worker was never restarted, logged its own word that it waits, and kept its log and its
  memory bounded while the broker was away.

Prints a JSON report and exits 1 when any of that fails.
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
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.feed import read_to_end
from pipeline.kafka.host import free_ports
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.livemix import live_events
from pipeline.ops.local import committed_transcripts, peak_rss_mib, start_worker
from pipeline.ops.soak import count_alerts
from pipeline.ruleset import load_ruleset
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

ROOMS = 100
EVERY_MS = 40  # event time between two segments of the mix: each room speaks every 4 s
FIRST_MS = 1_767_225_600_000
STOPS = (signal.SIGTERM, signal.SIGKILL)
WAITING_WORDS = "the broker cannot be reached"


@dataclass
class OutageReport:
    events: int
    seed: int
    down_s: float
    expected_alerts: int
    stops: list[dict[str, object]] = field(default_factory=list)
    alerts_on_topic: int = 0
    missing: int = 0
    unknown: int = 0
    changed: int = 0
    resent: int = 0
    missing_examples: list[list[str]] = field(default_factory=list)
    replay_exit: int | None = None
    record_exit: int | None = None
    recorded: int = 0
    recorded_twice: int = 0
    worker_exited: int | None = None
    worker_said_it_waits: bool = False
    worker_log_lines_while_away: int = 0
    worker_peak_rss_mib: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.missing == self.unknown == self.changed == 0 and self.replay_exit == 0 and self.record_exit == 0
                and self.recorded == self.events and self.recorded_twice == 0 and self.worker_exited is None
                and self.worker_said_it_waits)  # fmt: skip


def outage_events(count: int) -> list[str]:
    return [json.dumps(e, ensure_ascii=False) for e in live_events(count, "outage", FIRST_MS, EVERY_MS, ROOMS)]


def _committed(settings: Settings) -> int | None:
    """Transcripts the worker group has committed, or None while the broker does not answer."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.broker, request_timeout_ms=3000)
    except (KafkaError, OSError):
        return None
    try:
        return committed_transcripts(admin, settings)
    except (KafkaError, OSError):
        return None
    finally:
        admin.close()


def _wait_committed(settings: Settings, at_least: int, worker: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while (_committed(settings) or 0) < at_least:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited by itself with {worker.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {at_least} transcripts committed after {timeout_s:.0f}s")
        time.sleep(0.2)


def _claimwatch(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"})  # fmt: skip


def run_outage(broker: EmbeddedBroker, settings: Settings, lines: list[str], seed: int, log_dir: Path,
               down_s: float = 5.0, timeout_s: float = 600.0) -> OutageReport:
    """Replay `lines` through a worker while `broker` is stopped and started again twice."""
    rng = random.Random(seed)
    engine = Engine(load_ruleset(settings.rules_dir))
    expected = [json.loads(a.model_dump_json()) for a in Scanner(engine, settings).scan_lines(lines)]
    report = OutageReport(len(lines), seed, down_s, len(expected))
    events = log_dir / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recording = log_dir / "inputs.jsonl"
    env = {"CLAIMWATCH_BROKER": settings.broker, "CLAIMWATCH_TOPIC_PREFIX": settings.topic_prefix,
           "CLAIMWATCH_SESSION_TIMEOUT_S": "6"}  # fmt: skip
    span_s = len(lines) * EVERY_MS / 1000  # event time of the mix; replayed at 1x it takes as long
    started = time.monotonic()
    worker = start_worker(settings, log_dir / "worker.log", own_session=True, env=env)
    # --max ends it once every event is there; a duplicate would end it one short of that
    record = _claimwatch(env, log_dir / "record.log", "record", "--out", str(recording), "--from-beginning",
                         "--max", str(len(lines)), "--until-idle", str(down_s + 60))  # fmt: skip
    replay = _claimwatch(env, log_dir / "replay.log", "replay", str(events), "--speed", "1")
    try:
        transcripts = len(lines)
        for n, sig in enumerate(STOPS):
            # one stop in each half of the stream, at a seeded share of it
            share = rng.uniform(0.15, 0.35) + 0.4 * n
            _wait_committed(settings, int(share * transcripts), worker, timeout_s)
            log_mark = _log_lines(log_dir / "worker.log")
            stopped = time.monotonic()
            broker.halt(sig)
            time.sleep(down_s)
            broker.start()
            back = time.monotonic()
            report.stops.append({"signal": sig.name, "at_share": round(share, 3), "down_s": round(back - stopped, 1)})
            report.worker_log_lines_while_away += _log_lines(log_dir / "worker.log") - log_mark
        report.replay_exit = replay.wait(timeout=timeout_s + span_s)
        _wait_committed(settings, transcripts, worker, timeout_s)
        report.record_exit = record.wait(timeout=timeout_s)
    finally:
        for proc in (replay, record):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        report.worker_exited = worker.poll()
        report.worker_peak_rss_mib = peak_rss_mib(worker.pid) if report.worker_exited is None else 0.0
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
    report.seconds = round(time.monotonic() - started, 1)
    worker_log = (log_dir / "worker.log").read_text(encoding="utf-8", errors="replace")
    report.worker_said_it_waits = WAITING_WORDS in worker_log
    got = [json.loads(m.value) for m in read_to_end(settings.broker, settings.topic("alerts"))]
    count_alerts(report, expected, got)
    places = Counter((r["topic"], r["partition"], r["offset"])
                     for r in map(json.loads, recording.read_text(encoding="utf-8").splitlines()))  # fmt: skip
    report.recorded = len(places)
    report.recorded_twice = sum(n - 1 for n in places.values())
    return report


def _log_lines(path: Path) -> int:
    with open(path, "rb") as log:
        return sum(1 for _ in log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="live-mix segments, replayed at their own pace "
                        "(40 ms apart: 2,000 take 80 s)")  # fmt: skip
    parser.add_argument("--down", type=float, default=5.0, help="seconds the broker stays away each time")
    parser.add_argument("--seed", type=int, default=1, help="seed of the stop moments")
    parser.add_argument("--keep-logs", type=Path, default=None, help="write the logs and the recording here")
    args = parser.parse_args(argv)
    lines = outage_events(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = args.keep_logs or Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        with EmbeddedBroker(port=free_ports(1)[0], data_dir=Path(tmp) / "broker") as broker:
            settings = Settings(broker=broker.bootstrap, topic_prefix=f"outage-{int(time.time())}.", partitions=2)
            ensure_topics(settings)
            report = run_outage(broker, settings, lines, args.seed, log_dir, args.down)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2, ensure_ascii=False))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
