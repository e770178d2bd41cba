"""Rerunnable benchmark of one stream worker on the embedded broker:
`python -m pipeline.ops.bench_stream [--backlog N] [--seconds S] [--rate R]`.

On the live mix `make bench` uses (pipeline.ops.livemix: about 95% ordinary host talk, 5% claims;
50 rooms, as there):
1. Throughput: N segments are put on the topic first, then one worker starts; its sustained
   segments/s is timed by its committed offsets, from the first commit past a fifth of the
   backlog (start-up and the first batches behind it) to the end of the topic. The core
   (`claimwatch scan`'s judge, in this process) judges the same event lines, and the ratio
   worker / core is what the stream adds: Kafka, the changelogged tables, producing the alerts.
2. Latency: the same kind of segments sent at a steady rate of half the worker's measured
   maximum, for a warm-up (5 s, not timed) and then `--seconds`; event-to-alert latency is the
   time from the producer's send to the alert's arrival at a consumer, p50 and p99, over the
   timed segments that raise an alert.
3. The worker's peak RSS (VmHWM) over both runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.feed import send_events
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.livemix import live_events
from pipeline.ops.local import committed_transcripts, peak_rss_mib, start_worker
from pipeline.ruleset import load_ruleset
from pipeline.settings import Settings, load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

ROOMS = 50
# Segments sent before timing starts: the worker's first batches learn the rooms and products
# (each new product waits its listing grace once) and fill its caches.
WARMUP_S = 5.0


def _lines(events: list[dict[str, object]]) -> list[str]:
    return [json.dumps(event, ensure_ascii=False) for event in events]


def core_rate(lines: list[str]) -> float:
    """Segments/s of the judge as `claimwatch scan` runs it, on the same event lines."""
    engine = Engine(load_ruleset())
    scanner = Scanner(engine, Settings())
    started = time.perf_counter()
    for _ in scanner.scan_lines(lines):
        pass
    return len(lines) / (time.perf_counter() - started)


def throughput(settings: Settings, lines: list[str], log_dir: Path) -> tuple[dict[str, float], float]:
    send_events(settings.broker, settings.topic_prefix, lines)
    worker = start_worker(settings, log_dir / "worker-throughput.log")
    started = time.monotonic()  # from the moment it consumes
    # Sustained: timed from the first commit past a fifth of the backlog (start-up, new rooms and
    # products, first batches behind it) to the last.
    settled: tuple[float, int] | None = None
    # One client polled throughout: a connection for each poll, ten a second, would cost the
    # worker its CPU.
    admin = KafkaAdminClient(bootstrap_servers=settings.broker)
    try:
        while (done := committed_transcripts(admin, settings)) < len(lines):
            if settled is None and done >= len(lines) // 5:
                settled = (time.monotonic(), done)
            time.sleep(0.1)
        finished = time.monotonic()
        rss = peak_rss_mib(worker.pid)
    finally:
        admin.close()
        worker.terminate()
        worker.wait(timeout=60)
    since, at = settled or (started, 0)
    rate = round((len(lines) - at) / (finished - since), 1)
    result = {"backlog_segments": len(lines), "seconds": round(finished - started, 1), "segments_per_s": rate}
    return result, rss


def latency(
    settings: Settings, rate: float, seconds: float, log_dir: Path, warmup_s: float = WARMUP_S
) -> tuple[dict[str, float], float]:
    worker = start_worker(settings, log_dir / "worker-latency.log")
    warmup = int(rate * warmup_s)
    total = warmup + int(rate * seconds)
    now = int(time.time() * 1000)
    events = live_events(total, "lat", now, int(1000 * ROOMS / rate), ROOMS)
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    # A short fetch wait: the alerts arrive on one partition at a time, and the others' held
    # fetch would delay them (what is measured is the worker, not this consumer).
    consumer = KafkaConsumer(bootstrap_servers=settings.broker, group_id=None, fetch_max_wait_ms=20)
    topic = settings.topic("alerts")
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    consumer.seek_to_end()
    sending = threading.Event()
    sending.set()

    def collect() -> None:
        quiet_since = None
        while True:
            batches = consumer.poll(timeout_ms=200).values()
            arrived = time.monotonic()
            for records in batches:
                for record in records:
                    sent = sent_at.pop(json.loads(record.value)["event_id"], None)
                    if sent is not None:
                        latencies.append(arrived - sent)
            if sending.is_set() or batches:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = arrived
            elif arrived - quiet_since > 5:
                return  # everything sent, nothing more for five seconds

    reader = threading.Thread(target=collect)
    reader.start()
    producer = KafkaProducer(bootstrap_servers=settings.broker, linger_ms=0)
    try:
        started = time.monotonic()
        for i, event in enumerate(events):
            # Paced by the clock, not by sleeps that add up: send i at started + i / rate.
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            room = str(event["room_id"])
            if i >= warmup:
                sent_at[str(event["event_id"])] = time.monotonic()
            producer.send(settings.topic("transcripts"), key=room.encode(), value=json.dumps(event).encode())
        producer.flush()
        sending.clear()
        reader.join()
        rss = peak_rss_mib(worker.pid)
    finally:
        producer.close()
        consumer.close()
        worker.terminate()
        worker.wait(timeout=60)
    latencies.sort()
    result = {
        "rate_per_s": round(rate, 1),
        "warmup_segments": warmup,
        "segments": total - warmup,
        "alerts_timed": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1),
    }
    return result, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=20000, help="segments on the topic before the worker starts")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long segments are sent for latency")
    parser.add_argument("--rate", type=float, default=None, help="latency at this rate (default: half the measured)")
    args = parser.parse_args()
    lines = _lines(live_events(args.backlog, "tp", 1_767_225_600_000, 5000 // ROOMS, ROOMS))
    core = core_rate(lines)
    with EmbeddedBroker(port=0) as broker, tempfile.TemporaryDirectory() as tmp:
        stamp = int(time.time())
        settings = load_settings(broker=broker.bootstrap, topic_prefix=f"bench-throughput-{stamp}.")
        ensure_topics(settings)
        worker, rss_backlog = throughput(settings, lines, Path(tmp))
        worker["core_segments_per_s"] = round(core, 1)
        worker["worker_over_core"] = round(worker["segments_per_s"] / core, 3)
        settings = load_settings(broker=broker.bootstrap, topic_prefix=f"bench-latency-{stamp}.")
        ensure_topics(settings)
        rate = args.rate if args.rate is not None else worker["segments_per_s"] / 2
        timed, rss_steady = latency(settings, rate, args.seconds, Path(tmp))
        results = {"throughput": worker, "latency_at_half_rate": timed,
                   "worker_peak_rss_mib": max(rss_backlog, rss_steady)}  # fmt: skip
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
