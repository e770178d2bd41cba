"""Plain-Kafka-client helpers around the pipeline's topics: send an events file to the input
topics (as any producer would) and read alerts back. Used by `make demo` and the integration
tests; they use kafka-python, not the worker's client, so they test the worker from outside."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def route_raw(raw: bytes, prefix: str) -> tuple[str, bytes | None, bool]:
    """Where a line belongs, read as the worker would (orjson: no recursion limit to hit on a
    deeply nested record): its topic, its key and whether it is a listing. A line that is no
    JSON object goes to the transcripts topic, where the worker dead-letters it."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        record = {}
    record = record if isinstance(record, dict) else {}
    topic, key = route(record, prefix)
    return topic, key, record.get("type") == "listing"


def route(record: dict[str, Any], prefix: str) -> tuple[str, bytes | None]:
    """The topic and key an event belongs on: transcripts by room, listings by product."""
    if record.get("type") == "listing":
        return f"{prefix}listings", str(record.get("product_id", "")).encode()
    return f"{prefix}transcripts", str(record.get("room_id", "")).encode()


def send_events(bootstrap: str, prefix: str, lines: Iterable[str | bytes]) -> int:
    """Send each line as it is (even if it is not valid JSON: the worker must dead-letter it),
    in order, flushing after each listing so it is on the broker before later segments."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    sent = 0
    try:
        for line in lines:
            raw = line.encode("utf-8") if isinstance(line, str) else line
            if not raw.strip():
                continue
            topic, key, is_listing = route_raw(raw, prefix)
            producer.send(topic, key=key, value=raw.rstrip(b"\n"))
            if is_listing:
                producer.flush()
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent


def read_topic(bootstrap: str, topic: str, *, idle_s: float = 5.0, until: int | None = None,
               timeout_s: float = 120.0) -> Iterator[Any]:
    """Every record of a topic from the beginning, without a consumer group; stops when `until`
    records were read, or after `idle_s` seconds without a new one."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=int(idle_s * 1000))
    try:
        deadline = time.monotonic() + timeout_s
        partitions = None
        while partitions is None and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                time.sleep(0.2)
        if not partitions:
            return
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        for count, message in enumerate(consumer, start=1):
            yield message
            if (until is not None and count >= until) or time.monotonic() > deadline:
                return
    finally:
        consumer.close()


def read_to_end(bootstrap: str, topic: str, *, timeout_s: float = 60.0) -> list[Any]:
    """Every record a topic holds now: read from the beginning until each partition reaches the
    end offset it had when the call began, however slowly the broker answers (no idle cut-off)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.2)
        if not partitions:
            return records
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(assigned)
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} not read to its end in {timeout_s:.0f}s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def read_offsets(config: dict[str, Any], topic: str, partition: int, start: int, end: int,
                 timeout_s: float = 30.0) -> list[Any]:
    """The records of one partition at offsets start..end-1, read directly (no group); offsets
    that hold no record yield nothing. `config`: kafka-python connection settings."""
    tp = TopicPartition(topic, partition)
    consumer = KafkaConsumer(enable_auto_commit=False, group_id=None, **config)
    records: list[Any] = []
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        deadline = time.monotonic() + timeout_s
        while consumer.position(tp) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}[{partition}] offsets {start}..{end - 1} not read in {timeout_s:.0f}s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(r for r in batch if r.offset < end)
    finally:
        consumer.close()
    return records
