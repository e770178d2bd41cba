"""The recording format and the readers shared by replay and backtest (no broker needed)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from pipeline.errors import EventError
from pipeline.ops.recording_format import event_lines, in_stream_order, parse_line, read_items, record_line


def test_a_recorded_record_round_trips_json_values_and_keeps_other_bytes_exactly() -> None:
    event = {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 5, "text": "全网最低价"}
    raw = json.dumps(event, ensure_ascii=False).encode()
    line = record_line("claimwatch.transcripts", 1, 7, 1_000, b"r1", raw)
    assert json.loads(line)["value"] == event  # readable in the file, not an escaped string
    item = parse_line(3, line)
    assert (item.base, item.recorded_topic, item.partition, item.key, item.time_ms) == (
        "transcripts", "claimwatch.transcripts", 1, b"r1", 1_000)
    assert json.loads(item.value) == event and item.event_type == "transcript" and item.room_id == "r1"

    garbage = b"\xff\xfe not json"
    line = record_line("claimwatch.transcripts", 0, 8, 2_000, b"\xff", garbage)
    data = json.loads(line)
    assert base64.b64decode(data["value_base64"]) == garbage and base64.b64decode(data["key_base64"]) == b"\xff"
    item = parse_line(4, line)
    assert (item.key, item.value, item.event_type) == (b"\xff", garbage, None)

    tombstone = parse_line(5, record_line("other", 0, 0, 0, None, None))
    assert (tombstone.base, tombstone.key, tombstone.value) == ("other", None, None)


def test_plain_event_lines_are_routed_keyed_and_timed_by_their_ts() -> None:
    listing = '{"type": "listing", "event_id": "l1", "product_id": "p1", "ts": "2026-01-01T00:00:01Z"}'
    item = parse_line(1, listing)
    assert (item.base, item.key, item.time_ms, item.recorded_topic) == ("listings", b"p1", 1_767_225_601_000, None)
    assert item.value == listing.encode()  # sent exactly as written


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"hello": 1}', "neither a recorded record"),
        ('{"type": "transcript", "event_id": "s", "ts": 1, "text": "x"}', "field 'room_id' missing"),
        ('{"type": "transcript", "event_id": "s", "room_id": "r", "ts": "yesterday", "text": "x"}', "field 'ts'"),
        ('{"topic": "t", "partition": 0, "timestamp": 1, "value_base64": "!!"}', "bad key or value"),
        ('{"topic": "t", "partition": 0}', "field 'timestamp' missing"),
    ],
)
def test_a_bad_line_names_its_line_and_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_line(12, line)
    assert str(caught.value).startswith("line 12: ") and message in str(caught.value)


def test_corrupt_lines_are_reported_and_skipped_and_gzip_is_read(tmp_path: Path) -> None:
    good = [record_line("claimwatch.transcripts", 0, i, 1_000 + i, b"r", b'{"a": %d}' % i) for i in range(3)]
    path = tmp_path / "rec.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as sink:
        sink.write("\n".join([good[0], "{torn", good[1], "", good[2]]) + "\n")
    problems: list[EventError] = []
    items = read_items(path, problems)
    assert [item.line for item in items] == [1, 3, 5]
    assert [str(p).split(":")[0] for p in problems] == ["line 2"]


def test_a_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    lines = "".join(record_line("t", 0, i, i, None, b"{}") + "\n" for i in range(2000))
    path.write_bytes(gzip.compress(lines.encode())[:-200])
    problems: list[EventError] = []
    items = read_items(path, problems)
    assert 0 < len(items) < 2000 and "unreadable" in str(problems[-1])


def test_stream_order_merges_by_time_and_keeps_each_partitions_own_order() -> None:
    def rec(partition: int, offset: int, ts: int) -> str:
        return record_line("claimwatch.transcripts", partition, offset, ts, b"k%d" % partition, b'{"o": %d}' % offset)

    # A recorder writes partition after partition; partition 1 has a clock that steps back.
    lines = [rec(0, 0, 10), rec(0, 1, 30), rec(1, 0, 20), rec(1, 1, 5), rec(1, 2, 40)]
    items = [parse_line(n, line) for n, line in enumerate(lines, start=1)]
    ordered = [(i.partition, json.loads(i.value)["o"]) for i in in_stream_order(items)]
    assert ordered == [(0, 0), (1, 0), (1, 1), (0, 1), (1, 2)]
    for partition in (0, 1):
        offsets = [o for p, o in ordered if p == partition]
        assert offsets == sorted(offsets)


def test_event_lines_keep_only_transcripts_and_listings() -> None:
    alert = record_line("claimwatch.alerts", 0, 0, 1, b"r", b'{"alert_id": "x"}')
    segment = record_line("claimwatch.transcripts", 0, 0, 1, b"r",
                          b'{"type": "transcript", "event_id": "s", "room_id": "r", "ts": 1, "text": "x"}')
    items = [parse_line(1, alert), parse_line(2, segment)]
    assert [json.loads(line)["event_id"] for line in event_lines(items)] == ["s"]


def test_a_stray_byte_costs_its_own_line_only(tmp_path: Path) -> None:
    good = record_line("claimwatch.transcripts", 0, 0, 1, b"r", b'{"a": 1}')
    path = tmp_path / "rec.jsonl"
    path.write_bytes(good.encode() + b"\n\xff\xfe{\n" + good.encode() + b"\n")
    problems: list[EventError] = []
    assert [item.line for item in read_items(path, problems)] == [1, 3]
    assert [str(p).split(":")[0] for p in problems] == ["line 2"] and "not UTF-8" in str(problems[0])
