"""`claimwatch replay`: a recording or events file produced back to the pipeline's topics.

Records go out in stream order (merged by time, each partition's and room's own order kept). At a
finite speed the recorded gaps are kept, divided by the speed, and each record's Kafka timestamp
is the moment it was scheduled for, so the pacing can be checked on the topic afterwards. With a
topic prefix, a replay goes to its own topics and never mixes with production traffic.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pipeline.kafka.probe import answering, probe
from pipeline.kafka.topics import kafka_python_config
from pipeline.ops.recording_format import ReplayItem, StopOnSignal, in_stream_order
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer


@dataclass(frozen=True)
class ReplayPlan:
    speed: float | None = None  # None: as fast as the broker takes them
    rooms: frozenset[str] | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    topic_prefix: str | None = None  # None: the recorded topics themselves


@dataclass
class ReplayStats:
    sent: int = 0
    total: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    stream_time_ms: int | None = None
    seconds: float = 0.0
    interrupted: bool = False


def select(items: Iterable[ReplayItem], plan: ReplayPlan) -> list[ReplayItem]:
    """The records to replay, in stream order. Listings from before `since` are kept, sent first,
    so the products on air are known when the replayed segments are judged."""
    chosen, preamble = [], []
    for item in in_stream_order(items):
        if plan.until_ms is not None and item.time_ms > plan.until_ms:
            continue
        if plan.rooms is not None and item.room_id is not None and item.room_id not in plan.rooms:
            continue
        if plan.rooms is not None and item.room_id is None and item.event_type != "listing":
            continue  # a record of no known room cannot belong to the chosen rooms
        if plan.since_ms is not None and item.time_ms < plan.since_ms:
            if item.event_type == "listing":
                preamble.append(item)
            continue
        chosen.append(item)
    if preamble:
        # Sent at the start, not paced: the clock starts with the first record chosen.
        start = chosen[0].time_ms if chosen else preamble[-1].time_ms
        preamble = [dataclasses.replace(item, time_ms=start) for item in preamble]
    return preamble + chosen


def target_topic(item: ReplayItem, plan: ReplayPlan, settings: Settings) -> str:
    if plan.topic_prefix is not None:
        return plan.topic_prefix + item.base
    if item.recorded_topic is not None:
        return item.recorded_topic
    return settings.topic(item.base)


def schedule(items: list[ReplayItem], speed: float | None) -> list[float]:
    """Seconds after the start at which each record is due. The clock never runs backwards: a
    record timed before its predecessor (another partition's clock, a preamble listing) is due
    at once after it."""
    if not items or speed is None:
        return [0.0] * len(items)
    first = items[0].time_ms
    due, last = [], 0.0
    for item in items:
        last = max(last, (item.time_ms - first) / 1000.0 / speed)
        due.append(last)
    return due


def replay(
    settings: Settings,
    items: list[ReplayItem],
    plan: ReplayPlan,
    progress: Callable[[ReplayStats], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] | None = None,
) -> ReplayStats:
    """Send the (already selected) records; returns what was sent, per topic. `say` hears that
    the broker is awaited."""
    stats = ReplayStats(total=len(items))
    due = schedule(items, plan.speed)
    probe(settings, kafka_python_config(settings), settings.broker_wait_s, say)  # an outage, a refused setup
    with answering(settings):
        producer = KafkaProducer(**kafka_python_config(settings), acks="all", linger_ms=5,
                                 client_id="claimwatch-replay")
    started, started_ms = clock(), int(time.time() * 1000)
    try:
        with StopOnSignal() as stop:
            for item, at in zip(items, due, strict=True):
                while not stop.raised and clock() - started < at:
                    sleep(min(0.2, at - (clock() - started)))
                if stop.raised:
                    stats.interrupted = True
                    break
                topic = target_topic(item, plan, settings)
                timestamp = started_ms + round(at * 1000) if plan.speed is not None else None
                partition = _partition_for_keyless(producer, topic, item)
                producer.send(topic, key=item.key, value=item.value, partition=partition, timestamp_ms=timestamp)
                if item.event_type == "listing":
                    producer.flush()  # on the broker before the segments that follow it
                stats.sent += 1
                stats.per_topic[topic] = stats.per_topic.get(topic, 0) + 1
                stats.stream_time_ms = item.time_ms
                if progress is not None and (stats.sent % 50 == 0 or plan.speed is not None):
                    stats.seconds = clock() - started
                    progress(stats)
        producer.flush()
    finally:
        producer.close()
    stats.seconds = clock() - started
    if progress is not None:
        progress(stats)
    return stats


def _partition_for_keyless(producer: KafkaProducer, topic: str, item: ReplayItem) -> int | None:
    """Keyed records follow their key; a keyless recorded record goes back to its partition
    (modulo the target's count) so that its order is kept."""
    if item.key is not None or item.partition is None:
        return None
    partitions = sorted(producer.partitions_for(topic) or [0])
    return int(partitions[item.partition % len(partitions)])
