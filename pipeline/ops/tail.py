"""`claimwatch tail`: alerts as they are published, for a trust team's terminal or a pipe.

Reads the alerts topic without joining any consumer group (partitions assigned, nothing
committed), like `record`, so tailing never takes partitions from another reader. Alerts are
filtered by severity (at least), room and rule (any of an alert's rules); a record on the topic
that is not an alert is reported and skipped, and the tail goes on.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from models.alerts import Alert, Severity
from pipeline.judge.build_alerts import SEVERITY_RANK
from pipeline.kafka.probe import answering, probe
from pipeline.kafka.topics import kafka_python_config
from pipeline.ops.record import assign
from pipeline.ops.recording_format import StopOnSignal
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer

@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to show: all of the given conditions hold."""

    min_severity: Severity | None = None
    rooms: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()

    def admits(self, alert: Alert) -> bool:
        if self.min_severity is not None and SEVERITY_RANK[alert.severity] < SEVERITY_RANK[self.min_severity]:
            return False
        if self.rooms and alert.room_id not in self.rooms:
            return False
        return not self.rules or not self.rules.isdisjoint(alert.rule_ids)


@dataclass(frozen=True)
class TailPlan:
    start: str | datetime = "end"  # "beginning", "end", or a time
    max_alerts: int | None = None
    until_idle_s: float | None = None


@dataclass
class TailStats:
    read: int = 0
    shown: int = 0
    not_alerts: int = 0
    stopped_by: str = ""
    problems: list[str] = field(default_factory=list)  # the first few records that were not alerts


def tail(
    settings: Settings,
    plan: TailPlan,
    show: Callable[[Alert], None],
    admit: AlertFilter | None = None,
    bad_record: Callable[[str], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> TailStats:
    """Call `show` for each admitted alert of the alerts topic, in each partition's order, until
    `plan` says stop or a signal comes."""
    admit = admit or AlertFilter()
    config = kafka_python_config(settings)
    probe(settings, config, settings.broker_wait_s, say)  # an outage, a refused setup
    with answering(settings):
        consumer = KafkaConsumer(**config, group_id=None, enable_auto_commit=False, client_id="claimwatch-tail")
    stats = TailStats()
    try:
        topic = settings.topic("alerts")
        assign(consumer, [topic], plan.start)
        last_record = time.monotonic()
        with StopOnSignal() as stop:
            while not stats.stopped_by:
                batch = consumer.poll(timeout_ms=200, max_records=500)
                for tp, messages in sorted(batch.items()):
                    for message in messages:
                        if plan.max_alerts is not None and stats.shown >= plan.max_alerts:
                            break
                        stats.read += 1
                        alert = _alert(message.value, f"{tp.topic}[{tp.partition}]@{message.offset}", stats,
                                       bad_record)  # fmt: skip
                        if alert is not None and admit.admits(alert):
                            show(alert)
                            stats.shown += 1
                if batch:
                    last_record = time.monotonic()
                if stop.raised:
                    stats.stopped_by = "signal"
                elif plan.max_alerts is not None and stats.shown >= plan.max_alerts:
                    stats.stopped_by = "max"
                elif plan.until_idle_s is not None and time.monotonic() - last_record >= plan.until_idle_s:
                    stats.stopped_by = "idle"
    finally:
        consumer.close()
    return stats


def _alert(value: bytes | None, where: str, stats: TailStats, bad_record: Callable[[str], None] | None) -> Alert | None:
    try:
        if value is None:
            raise ValueError("a tombstone (no value)")
        return Alert.model_validate_json(value)
    except (ValidationError, ValueError) as exc:
        stats.not_alerts += 1
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problem = f"{where}: not an alert ({first})"
        if len(stats.problems) < 10:
            stats.problems.append(problem)
        if bad_record is not None:
            bad_record(problem)
        return None
