"""The fuzz run (`make fuzz`) at a small size: every hostile record is judged or rejected with
its reason, by `scan` and by the worker alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.detect.engine import Engine
from pipeline.ops.fuzz import fuzz_records, scan_records, worker_records
from pipeline.settings import Settings

from ..streamkit import unique_prefix


@pytest.fixture(scope="module")
def records() -> list[bytes]:
    return fuzz_records(1500, seed=11)


def test_every_hostile_record_is_judged_or_rejected_by_scan(engine: Engine, records: list[bytes]) -> None:
    scanned = scan_records(engine, records)
    assert scanned["judged"] + sum(scanned["rejected"].values()) == len(records)
    assert set(scanned["rejected"]) == {"json", "schema", "size", "utf8"}
    assert scanned["alerts"] > 50


def test_the_worker_rejects_the_same_records_for_the_same_reasons_and_gives_the_same_alerts(
    kafka_bootstrap: str, engine: Engine, records: list[bytes], tmp_path: Path
) -> None:
    scanned = scan_records(engine, records)
    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=2)
    streamed = worker_records(settings, records, tmp_path, timeout_s=600)
    assert streamed["rejected"] == scanned["rejected"]
    assert set(streamed["alert_ids"]) == set(scanned["alert_ids"])
