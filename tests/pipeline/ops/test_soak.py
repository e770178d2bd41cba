"""The crash soak (`make soak`) at a small size, on the real broker: the worker SIGKILLed three
times while it judges; every alert `scan` gives is on the topic, the extras only re-sends."""

from __future__ import annotations

from pathlib import Path

from pipeline.kafka.topics import ensure_topics
from pipeline.ops.soak import run_soak, soak_events
from pipeline.settings import Settings

from ..streamkit import unique_prefix


def test_repeated_worker_kills_lose_no_alert(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=2)
    ensure_topics(settings)
    lines = soak_events(2500)
    report = run_soak(settings, lines, kills=3, seed=7, log_dir=tmp_path)
    assert report.transcripts > 2500 and report.expected_alerts > 100
    assert (report.missing, report.unknown, report.changed) == (0, 0, 0), (report, tmp_path)
    assert report.alerts_on_topic == report.expected_alerts + report.resent
