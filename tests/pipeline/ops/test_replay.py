"""Replay and record: the pure scheduling and selection, and round trips on a real broker."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import EventError
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.record import RecordPlan, record
from pipeline.ops.recording_format import open_text, parse_line, read_items
from pipeline.ops.replay import ReplayPlan, replay, schedule, select
from pipeline.settings import Settings

from ..streamkit import ROOT, unique_prefix

SAMPLE = ROOT / "samples" / "demo_stream.jsonl"


def _event(kind: str, event_id: str, second: float, **fields: object) -> str:
    record = {"type": kind, "event_id": event_id, "ts": int(1_767_225_600_000 + second * 1000), **fields}
    return json.dumps(record, ensure_ascii=False)


def _items(*lines: str) -> list:
    return [parse_line(n, line) for n, line in enumerate(lines, start=1)]


# --- pure ----------------------------------------------------------------------------------------

def test_schedule_divides_the_recorded_gaps_by_the_speed_and_never_runs_backwards() -> None:
    items = _items(*[_event("transcript", f"s{i}", t, room_id="r", text="x") for i, t in enumerate([0, 10, 25, 26])])
    assert schedule(items, 10.0) == pytest.approx([0.0, 1.0, 2.5, 2.6])
    assert schedule(items, 1.0) == pytest.approx([0.0, 10.0, 25.0, 26.0])
    assert schedule(items, None) == [0.0] * 4
    # A record timed before its predecessor is due right after it, not in the past.
    stepped = _items(_event("listing", "l", 50, product_id="p"), *[_event("transcript", "s", 40, room_id="r", text="x")])
    assert schedule(stepped, 2.0) == [0.0, 0.0]


def test_select_keeps_rooms_asked_for_and_listings_from_before_since() -> None:
    items = _items(
        _event("listing", "l-early", 0, product_id="p"),
        _event("transcript", "a-early", 1, room_id="a", text="x"),
        _event("transcript", "a-late", 100, room_id="a", text="x"),
        _event("transcript", "b-late", 101, room_id="b", text="x"),
        _event("listing", "l-late", 102, product_id="p"),
        _event("transcript", "a-after", 500, room_id="a", text="x"),
    )
    plan = ReplayPlan(rooms=frozenset({"a"}), since_ms=1_767_225_650_000, until_ms=1_767_225_900_000)
    selected = select(items, plan)
    chosen = [json.loads(i.value)["event_id"] for i in selected]
    assert chosen == ["l-early", "a-late", "l-late"]
    # The early listing goes out at once; the pacing starts with the first record chosen.
    assert schedule(selected, 1.0) == pytest.approx([0.0, 0.0, 2.0])


def test_a_recorded_listing_is_kept_whatever_room_showed_it() -> None:
    from pipeline.ops.recording_format import record_line

    listing = b'{"type": "listing", "event_id": "l", "product_id": "p", "room_id": "room-a", "ts": 0}'
    segment = b'{"type": "transcript", "event_id": "s", "room_id": "room-b", "ts": 1, "text": "x"}'
    items = _items(record_line("claimwatch.listings", 0, 0, 0, b"p", listing),
                   record_line("claimwatch.transcripts", 0, 0, 1, b"room-b", segment))
    kept = select(items, ReplayPlan(rooms=frozenset({"room-b"})))
    assert [json.loads(i.value)["event_id"] for i in kept] == ["l", "s"]


def test_select_keeps_each_rooms_order_from_a_file_out_of_time_order() -> None:
    items = _items(
        _event("transcript", "a1", 10, room_id="a", text="x"),
        _event("transcript", "a2", 5, room_id="a", text="x"),  # the room's clock stepped back
        _event("transcript", "b1", 7, room_id="b", text="x"),
    )
    order = [json.loads(i.value)["event_id"] for i in select(items, ReplayPlan())]
    assert order.index("a1") < order.index("a2") and len(order) == 3


# --- on a real broker ----------------------------------------------------------------------------

def _settings(bootstrap: str, prefix: str) -> Settings:
    settings = Settings(broker=bootstrap, topic_prefix=prefix, partitions=3)
    ensure_topics(settings)
    return settings


def _record(settings: Settings, out: Path, *topics: str) -> list[dict]:
    record(settings, RecordPlan(list(topics), "beginning", until_idle_s=3.0), out)
    with open_text(out) as lines:
        return [json.loads(line) for line in lines]


def _per_room(values: list[dict]) -> dict[str, list[str]]:
    rooms: dict[str, list[str]] = defaultdict(list)
    for value in values:
        if value.get("type") == "transcript":
            rooms[value["room_id"]].append(value["event_id"])
    return dict(rooms)


def _groups(bootstrap: str) -> set[str]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {g[0] if isinstance(g, tuple) else getattr(g, "group_id", str(g)) for g in admin.list_groups()}
    finally:
        admin.close()


def test_replay_then_record_gives_back_the_events_in_each_rooms_order(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    settings = _settings(kafka_bootstrap, prefix)
    sent = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups_before = _groups(kafka_bootstrap)

    stats = replay(settings, select(read_items(SAMPLE, []), ReplayPlan()), ReplayPlan(topic_prefix=prefix))
    assert stats.sent == len(sent)
    assert stats.per_topic == {f"{prefix}transcripts": sum(1 for e in sent if e["type"] == "transcript"),
                               f"{prefix}listings": sum(1 for e in sent if e["type"] == "listing")}

    lines = _record(settings, tmp_path / "rec.jsonl.gz", f"{prefix}transcripts", f"{prefix}listings")
    got = [line["value"] for line in lines]
    assert sorted(got, key=lambda e: e["event_id"]) == sorted(sent, key=lambda e: e["event_id"])
    assert _per_room(got) == _per_room(sent)
    for line in lines:  # keys as the pipeline expects them
        assert line["key"] == (line["value"]["room_id"] if line["value"]["type"] == "transcript"
                               else line["value"]["product_id"])
    assert _groups(kafka_bootstrap) == groups_before  # recording joined no consumer group


def test_replay_at_speed_keeps_the_gaps_divided_and_a_prefix_keeps_topics_apart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    source, copy = unique_prefix(), unique_prefix()
    settings = _settings(kafka_bootstrap, source)
    _settings(kafka_bootstrap, copy)
    seconds = [0, 10, 25, 26, 40]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(_event("transcript", f"s{i}", t, room_id="r1", text="你好")
                                for i, t in enumerate(seconds)) + "\n", encoding="utf-8")
    replay(settings, select(read_items(events, []), ReplayPlan()), ReplayPlan(speed=10.0, topic_prefix=source))
    first = _record(settings, tmp_path / "first.jsonl", f"{source}transcripts")
    stamps = [line["timestamp"] for line in first]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert gaps == [(b - a) * 100 for a, b in itertools.pairwise(seconds)]  # ms at 10x: 1000, 1500, 100, 1400

    # The recording replayed into another prefix: the source topics are left as they were.
    recording = tmp_path / "first.jsonl"
    result = CliRunner().invoke(app, ["replay", str(recording), "--broker", kafka_bootstrap,
                                      "--topic-prefix", copy, "--speed", "max"])
    assert result.exit_code == 0, result.output
    again = _record(settings, tmp_path / "again.jsonl", f"{source}transcripts")
    assert [line["offset"] for line in again] == [line["offset"] for line in first]
    copied = _record(settings, tmp_path / "copied.jsonl", f"{copy}transcripts")
    assert [line["value"] for line in copied] == [line["value"] for line in first]


def test_cli_replay_reports_a_corrupt_line_by_number_and_sends_the_rest(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    settings = _settings(kafka_bootstrap, prefix)
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([_event("transcript", "s1", 0, room_id="r1", text="你好"), '{"type": "transcr',
                                 _event("transcript", "s2", 1, room_id="r1", text="再见")]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(events), "--broker", kafka_bootstrap, "--topic-prefix", prefix])
    assert result.exit_code == 1, result.output  # as scan: the file was not all good
    assert "line 2: invalid JSON" in result.stderr
    sent = _record(settings, tmp_path / "rec.jsonl", f"{prefix}transcripts")
    assert [line["value"]["event_id"] for line in sent] == ["s1", "s2"]


def test_record_stopped_by_ctrl_c_leaves_a_complete_gzip_file(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    settings = _settings(kafka_bootstrap, prefix)
    replay(settings, select(read_items(SAMPLE, []), ReplayPlan()), ReplayPlan(topic_prefix=prefix))
    out = tmp_path / "live.jsonl.gz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "record", "--broker", kafka_bootstrap, "--topics",
         f"{prefix}transcripts", "--from-beginning", "--out", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    problems: list[EventError] = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1.0)
        if out.exists() and out.stat().st_size > 0:
            break
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr.decode()
    items = read_items(out, problems)
    assert problems == [] and len(items) == sum(1 for line in SAMPLE.read_text().splitlines() if '"transcript"' in line)
    assert b"stopped by signal" in stderr


def test_a_recording_of_a_live_run_replayed_into_a_fresh_pipeline_gives_the_same_alert_ids(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    from ..streamkit import WorkerProcess, read_json

    live, fresh = unique_prefix(), unique_prefix()
    live_settings = _settings(kafka_bootstrap, live)
    with WorkerProcess(kafka_bootstrap, live, tmp_path):
        replay(live_settings, select(read_items(SAMPLE, []), ReplayPlan()), ReplayPlan(topic_prefix=live))
        first = read_json(kafka_bootstrap, f"{live}alerts", idle_s=8)
    recording = tmp_path / "live.jsonl.gz"
    record(live_settings, RecordPlan([f"{live}transcripts", f"{live}listings"], "beginning", until_idle_s=3.0),
           recording)

    with WorkerProcess(kafka_bootstrap, fresh, tmp_path):
        result = CliRunner().invoke(app, ["replay", str(recording), "--broker", kafka_bootstrap,
                                          "--topic-prefix", fresh, "--speed", "max"])
        assert result.exit_code == 0, result.output
        second = read_json(kafka_bootstrap, f"{fresh}alerts", idle_s=8)
    assert first and sorted(a["alert_id"] for a in second) == sorted(a["alert_id"] for a in first)


def test_record_to_stdout_stopped_before_its_own_stop_is_interrupted(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    settings = _settings(kafka_bootstrap, prefix)
    replay(settings, select(read_items(SAMPLE, []), ReplayPlan()), ReplayPlan(topic_prefix=prefix))
    expected = sum(1 for line in SAMPLE.read_text().splitlines() if '"transcript"' in line)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "record", "--broker", kafka_bootstrap, "--topics",
         f"{prefix}transcripts", "--from-beginning", "--out", "-", "--max", "1000000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(expected)]  # flushed as the topic goes quiet
    proc.send_signal(signal.SIGINT)
    rest, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr.decode()  # a signal came before --max was reached
    recording = tmp_path / "from-stdout.jsonl"
    recording.write_bytes(b"".join(lines) + rest)
    problems: list[EventError] = []
    assert len(read_items(recording, problems)) == expected and problems == []
    assert b"to stdout (stopped by signal)" in stderr and not (ROOT / "-").exists()
