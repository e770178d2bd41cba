"""Broker restarts under load (`make soak` runs the full size), on a broker of the test's own:
SIGTERM once and SIGKILL once mid-stream, the worker, `replay` and `record` left running. Nothing
is lost, nothing but re-sends is extra, and none of them exits."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.host import free_ports
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.outage import outage_events, run_outage
from pipeline.settings import Settings

from ..streamkit import unique_prefix

pytestmark = pytest.mark.kafka


def test_broker_stopped_and_crashed_mid_stream_loses_nothing(tmp_path: Path) -> None:
    lines = outage_events(500)
    with EmbeddedBroker(port=free_ports(1)[0], data_dir=tmp_path / "broker") as broker:
        settings = Settings(broker=broker.bootstrap, topic_prefix=unique_prefix(), partitions=2)
        ensure_topics(settings)
        report = run_outage(broker, settings, lines, seed=3, log_dir=tmp_path, down_s=2.0)
    assert [stop["signal"] for stop in report.stops] == ["SIGTERM", "SIGKILL"]
    assert report.expected_alerts > 20
    assert (report.missing, report.unknown, report.changed) == (0, 0, 0), (report, tmp_path)
    assert report.alerts_on_topic == report.expected_alerts + report.resent
    assert (report.replay_exit, report.record_exit, report.worker_exited) == (0, 0, None), report
    assert (report.recorded, report.recorded_twice) == (500, 0), report
    assert report.worker_said_it_waits, report
    assert report.ok
