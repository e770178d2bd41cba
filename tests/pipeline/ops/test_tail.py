"""`claimwatch tail`: the filter on its own, and the alerts topic read on a real broker."""

from __future__ import annotations

import json
import threading
import time
import warnings

from typer.testing import CliRunner

from models.alerts import Alert, Severity
from pipeline.cli import app
from pipeline.detect.engine import Engine
from pipeline.judge.judge import detect_segment
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.tail import AlertFilter, TailPlan, tail
from pipeline.settings import Settings

from ...conftest import make_segment
from ..streamkit import unique_prefix

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer


def _alerts(engine: Engine) -> list[Alert]:
    said = [("r1", "这款面霜是全网最好用的 没有之一"), ("r2", "这个茶喝了能治糖尿病"), ("r1", "今天包邮 拍一发二")]
    found = []
    for i, (room, text) in enumerate(said):
        found.extend(detect_segment(engine, make_segment(text, event_id=f"t{i}", room_id=room), None))
    return found


def test_the_filter_takes_severity_as_a_floor_and_rooms_and_rules_as_any_of(engine: Engine) -> None:
    best, cure = _alerts(engine)[:2]
    assert best.severity is Severity.medium and cure.severity is Severity.high
    assert AlertFilter().admits(best)
    assert not AlertFilter(min_severity=Severity.high).admits(best) and AlertFilter(Severity.high).admits(cure)
    assert AlertFilter(rooms=frozenset({"r1", "r9"})).admits(best) and not AlertFilter(rooms=frozenset({"r2"})).admits(best)
    assert AlertFilter(rules=frozenset({cure.rule_ids[-1]})).admits(cure)
    assert not AlertFilter(rules=frozenset({"no-such-rule"})).admits(cure)


def _publish(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value in values:
        producer.send(topic, value)
    producer.flush()
    producer.close()


def test_tail_shows_the_alerts_topic_filtered_and_reports_what_is_not_an_alert(
    kafka_bootstrap: str, engine: Engine
) -> None:
    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=1)
    ensure_topics(settings)
    alerts = _alerts(engine)
    _publish(kafka_bootstrap, settings.topic("alerts"),
             [alerts[0].model_dump_json().encode(), b"{not json", *(a.model_dump_json().encode() for a in alerts[1:])])

    shown: list[Alert] = []
    problems: list[str] = []
    stats = tail(settings, TailPlan("beginning", until_idle_s=2.0), shown.append, bad_record=problems.append)
    assert [a.alert_id for a in shown] == [a.alert_id for a in alerts]
    assert stats.not_alerts == 1 and "@1: not an alert" in problems[0] and stats.stopped_by == "idle"

    high: list[Alert] = []
    tail(settings, TailPlan("beginning", until_idle_s=2.0), high.append, AlertFilter(Severity.high))
    assert [a.event_id for a in high] == ["t1"]

    result = CliRunner().invoke(app, ["tail", "--broker", kafka_bootstrap, "--topic-prefix", settings.topic_prefix,
                                      "--from-beginning", "--json", "--room", "r1", "--max", "1"])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["alert_id"] == alerts[0].alert_id and line["room_id"] == "r1"


def test_tail_from_now_shows_only_what_is_published_after_it_starts(kafka_bootstrap: str, engine: Engine) -> None:
    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=1)
    ensure_topics(settings)
    old, new = _alerts(engine)[:2]
    _publish(kafka_bootstrap, settings.topic("alerts"), [old.model_dump_json().encode()])
    shown: list[Alert] = []
    reader = threading.Thread(target=tail, args=(settings, TailPlan("end", until_idle_s=6.0), shown.append))
    reader.start()
    time.sleep(2.0)
    _publish(kafka_bootstrap, settings.topic("alerts"), [new.model_dump_json().encode()])
    reader.join(timeout=60)
    assert [a.alert_id for a in shown] == [new.alert_id]


def test_an_unknown_severity_is_refused_before_any_broker_is_asked() -> None:
    result = CliRunner().invoke(app, ["tail", "--broker", "127.0.0.1:1", "--severity", "urgent"])
    assert result.exit_code == 2 and "--severity" in result.output and "critical" in result.output
