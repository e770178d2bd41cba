"""The shipped sample sessions: valid, and shaped like real recorded streams."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples").glob("session_*.jsonl"))


def test_there_are_at_least_three_sessions() -> None:
    assert len(SAMPLES) >= 3


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_a_session_is_several_rooms_over_twenty_minutes_with_listings_changing(path: Path, engine: Engine) -> None:
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    segments = [e for e in events if e["type"] == "transcript"]
    times = [datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) for e in events]
    assert len({e["room_id"] for e in segments}) >= 3
    assert (max(times) - min(times)).total_seconds() >= 20 * 60
    products_by_room: dict[str, set[str]] = defaultdict(set)
    for segment in segments:
        products_by_room[segment["room_id"]].add(segment["product_id"])
    assert all(len(products) >= 2 for products in products_by_room.values())  # hosts switch products
    versions: dict[str, int] = defaultdict(int)
    for listing in (e for e in events if e["type"] == "listing"):
        versions[listing["product_id"]] += 1
    assert sum(1 for n in versions.values() if n > 1) >= 3  # listings change mid-stream

    scanner = Scanner(engine)
    alerts = list(scanner.scan_lines(path.read_text(encoding="utf-8").splitlines()))
    assert scanner.bad_lines == []
    # Mostly ordinary talk, with violations of several kinds among it.
    flagged = {a.event_id for a in alerts}
    assert 0.05 <= len(flagged) / len(segments) <= 0.3
    assert len({a.kind for a in alerts}) >= 4
