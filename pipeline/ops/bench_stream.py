"""Rerunnable benchmark of one stream worker on the embedded broker:
`python -m pipeline.ops.bench_stream [--backlog N] [--rate R --seconds S]`.

1. Throughput: N transcript segments (the dev corpus cycled over 50 rooms) are put on the topic
   first, then one worker starts; sustained segments/s is N over the time from its first alert to
   the moment its committed offsets reach the end of the topic.
2. Latency: segments that each carry a claim are sent at a steady rate; event-to-alert latency is
   the time from the producer's send to the alert's arrival at a consumer, p50 and p99.
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

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.feed import send_events
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.local import start_worker
from pipeline.settings import PROJECT_ROOT, Settings, load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

CORPUS = PROJECT_ROOT / "tests" / "data" / "dev_corpus.jsonl"


def _segments(count: int, tag: str) -> list[str]:
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    now = int(time.time() * 1000)
    return [json.dumps({"type": "transcript", "event_id": f"{tag}-{i}", "room_id": f"room-{i % 50}",
                        "ts": now + i, "text": items[i % len(items)]["text"],
                        "category": items[i % len(items)]["category"]}, ensure_ascii=False)
            for i in range(count)]


def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
        return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)
    finally:
        admin.close()


def throughput(settings: Settings, backlog: int, log_dir: Path) -> dict[str, float]:
    send_events(settings.broker, settings.topic_prefix, _segments(backlog, "tp"))
    worker = start_worker(settings, log_dir / "worker-throughput.log")
    try:
        started = time.monotonic()
        while _committed(settings.broker, settings.consumer_group, settings.topic("transcripts")) < backlog:
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return {"backlog_segments": backlog, "seconds": round(elapsed, 1), "segments_per_s": round(backlog / elapsed, 1)}


def latency(settings: Settings, rate: float, seconds: float, log_dir: Path) -> dict[str, float]:
    worker = start_worker(settings, log_dir / "worker-latency.log")
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    consumer = KafkaConsumer(bootstrap_servers=settings.broker, group_id=None)
    topic = settings.topic("alerts")
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    consumer.seek_to_end()

    def collect() -> None:
        deadline = time.monotonic() + seconds + 30
        while time.monotonic() < deadline and len(latencies) < total:
            for records in consumer.poll(timeout_ms=200).values():
                arrived = time.monotonic()
                for record in records:
                    event_id = json.loads(record.value)["event_id"]
                    if event_id in sent_at:
                        latencies.append(arrived - sent_at.pop(event_id))

    reader = threading.Thread(target=collect)
    reader.start()
    producer = KafkaProducer(bootstrap_servers=settings.broker, linger_ms=0)
    try:
        now = int(time.time() * 1000)
        for i in range(total):
            event_id, room = f"lat-{i}", f"room-{i % 50}"
            event = {"type": "transcript", "event_id": event_id, "room_id": room, "ts": now + i * 1000,
                     "text": f"家人们这是全网最低价第{i}波", "category": "food"}
            sent_at[event_id] = time.monotonic()
            producer.send(settings.topic("transcripts"), key=room.encode(), value=json.dumps(event).encode())
            time.sleep(1 / rate)
        producer.flush()
        reader.join()
    finally:
        producer.close()
        consumer.close()
        worker.terminate()
        worker.wait(timeout=60)
    latencies.sort()
    return {"rate_per_s": rate, "alerts": len(latencies), "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with EmbeddedBroker(port=0) as broker, tempfile.TemporaryDirectory() as tmp:
        results: dict[str, dict[str, float]] = {}
        for name in ("throughput", "latency"):
            settings = load_settings(broker=broker.bootstrap, topic_prefix=f"bench-{name}-{int(time.time())}.")
            ensure_topics(settings)
            if name == "throughput":
                results[name] = throughput(settings, args.backlog, Path(tmp))
            else:
                results[name] = latency(settings, args.rate, args.seconds, Path(tmp))
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
