"""`claimwatch record`: topics to a recording file, without joining any consumer group.

Partitions are assigned explicitly and offsets never committed, so recording a live pipeline
cannot take partitions from its workers or move their offsets. Ctrl-C (or SIGTERM) stops at a
record boundary and closes the file properly, so even an interrupted recording is complete.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from pipeline.errors import RecordError
from pipeline.kafka.probe import answering, probe
from pipeline.kafka.topics import kafka_python_config
from pipeline.ops.recording_format import StopOnSignal, open_text, record_line
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition



@dataclass(frozen=True)
class RecordPlan:
    topics: list[str]
    start: str | datetime = "end"  # "beginning", "end", or a time
    until_idle_s: float | None = None
    max_records: int | None = None
    duration_s: float | None = None


@dataclass
class RecordStats:
    records: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_by: str = ""


def assign(
    consumer: KafkaConsumer, topics: list[str], start: str | datetime, timeout_s: float = 30.0
) -> list[TopicPartition]:
    """Every partition of the topics, assigned without a consumer group and positioned at `start`
    ("beginning", "end" or a time)."""
    deadline = time.monotonic() + timeout_s
    partitions: list[TopicPartition] = []
    for topic in topics:
        found = consumer.partitions_for_topic(topic)
        while not found and time.monotonic() < deadline:
            time.sleep(0.2)
            found = consumer.partitions_for_topic(topic)
        if not found:
            raise RecordError(f"topic {topic!r} does not exist on the broker")
        partitions.extend(TopicPartition(topic, p) for p in sorted(found))
    consumer.assign(partitions)
    if start == "beginning":
        consumer.seek_to_beginning(*partitions)
    elif start == "end":
        consumer.seek_to_end(*partitions)
    else:
        assert isinstance(start, datetime)
        since_ms = int(start.timestamp() * 1000)
        found_offsets = consumer.offsets_for_times({tp: since_ms for tp in partitions})
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            hit = found_offsets.get(tp)
            consumer.seek(tp, hit.offset if hit is not None else ends[tp])
    return partitions


@contextmanager
def _sink(out: Path | IO[str]) -> Iterator[IO[str]]:
    """The recording's file, opened and closed here; a stream the caller gave is only flushed."""
    if isinstance(out, Path):
        with open_text(out, "wt") as sink:
            yield sink
    else:
        yield out
        out.flush()


def record(
    settings: Settings,
    plan: RecordPlan,
    out: Path | IO[str],
    progress: Callable[[RecordStats], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> RecordStats:
    """Write every record of the plan's topics to `out` (a path, or an open text stream such as
    stdout) until a stop condition or a signal. `say` hears that the broker is awaited."""
    probe(settings, kafka_python_config(settings), settings.broker_wait_s, say)  # an outage, a refused setup
    with answering(settings):
        consumer = KafkaConsumer(**kafka_python_config(settings), group_id=None, enable_auto_commit=False,
                                 client_id="claimwatch-record")
    stats = RecordStats()
    started = time.monotonic()
    try:
        assign(consumer, plan.topics, plan.start)
        last_record = last_flush = time.monotonic()
        unflushed = False
        with StopOnSignal() as stop, _sink(out) as sink:
            while True:
                now = time.monotonic()
                if stop.raised:
                    stats.stopped_by = "signal"
                elif plan.duration_s is not None and now - started >= plan.duration_s:
                    stats.stopped_by = "duration"
                elif plan.until_idle_s is not None and now - last_record >= plan.until_idle_s:
                    stats.stopped_by = "idle"
                elif plan.max_records is not None and stats.records >= plan.max_records:
                    stats.stopped_by = "max"
                if stats.stopped_by:
                    break
                batch = consumer.poll(timeout_ms=200, max_records=500)
                for tp, messages in sorted(batch.items()):
                    for message in messages:
                        if plan.max_records is not None and stats.records >= plan.max_records:
                            break
                        sink.write(record_line(tp.topic, tp.partition, message.offset, message.timestamp,
                                               message.key, message.value) + "\n")
                        stats.records += 1
                        stats.per_topic[tp.topic] = stats.per_topic.get(tp.topic, 0) + 1
                now = time.monotonic()
                if batch:
                    last_record = now
                    unflushed = True
                # Flush when the topics go quiet, and at least every second: a live recording
                # can then be followed, and what was written survives a crash.
                if unflushed and (not batch or now - last_flush >= 1.0):
                    sink.flush()
                    last_flush, unflushed = now, False
                if progress is not None:
                    stats.seconds = time.monotonic() - started
                    progress(stats)
    finally:
        consumer.close()
    stats.seconds = time.monotonic() - started
    return stats
