import json
from pathlib import Path

from pipeline.judge.scan import Scanner

from ..rulekit import engine, rule

LISTING = {"type": "listing", "event_id": "l1", "product_id": "p1", "ts": 1767225600000, "category": "drug",
           "title": "布洛芬", "price": 20}


def segment(event_id: str, text: str, product_id: str = "p1", **extra: object) -> dict:
    fields = {"type": "transcript", "event_id": event_id, "room_id": "r1", "product_id": product_id,
              "ts": "2026-01-01T00:00:00Z", "text": text}
    return {**fields, **extra}


def lines(*records: object) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]


def test_segments_join_their_listing_in_order(tmp_path: Path) -> None:
    scanner = Scanner(engine(tmp_path, rule("m", "match: {terms: [治疗]}\nexcept_categories: [drug]")))
    alerts = list(scanner.scan_lines(lines(
        segment("s1", "可以治疗头疼", category="food"),  # before its listing: the segment's category
        LISTING,
        segment("s2", "可以治疗头疼", category="food"),  # after: the listing says drug
        segment("s3", "可以治疗头疼", product_id="other", room_id="r2"),
    )))
    assert [a.event_id for a in alerts] == ["s1", "s3"]
    assert scanner.counters.segments == 3 and scanner.counters.listings == 1


def test_bad_lines_are_reported_and_the_rest_is_processed(tmp_path: Path) -> None:
    scanner = Scanner(engine(tmp_path, rule("t", "match: {terms: [最好]}")))
    alerts = list(scanner.scan_lines(lines(
        "{not json",
        {"type": "transcript", "event_id": "x", "room_id": "r1", "ts": "yesterday", "text": "最好"},
        {"type": "podcast", "event_id": "y"},
        "",
        [1, 2],
        segment("ok", "最好的"),
        {"event_id": "z", "text": "最好"},
    )))
    assert [a.event_id for a in alerts] == ["ok"]
    reasons = [str(e) for e in scanner.bad_lines]
    assert reasons[0].startswith("line 1: invalid JSON")
    assert reasons[1].startswith("line 2: field 'ts'")
    assert reasons[2].startswith("line 3:") and "type" in reasons[2]
    assert reasons[3].startswith("line 5: expected a JSON object")
    assert reasons[4].startswith("line 7: field 'type': missing")
    assert len(reasons) == 5


def test_unknown_fields_are_kept_not_fatal(tmp_path: Path) -> None:
    scanner = Scanner(engine(tmp_path, rule("t", "match: {terms: [最好]}")))
    alerts = list(scanner.scan_lines(lines(segment("s1", "最好的", confidence=0.93, speaker="host"))))
    assert len(alerts) == 1 and not scanner.bad_lines


def test_oversized_text_is_rejected(tmp_path: Path) -> None:
    scanner = Scanner(engine(tmp_path, rule("t", "match: {terms: [最好]}")))
    list(scanner.scan_lines(lines(segment("big", "好" * 6000))))
    assert "over the limit" in str(scanner.bad_lines[0])


def test_a_repeated_claim_in_a_room_alerts_once_per_window(tmp_path: Path) -> None:
    scanner = Scanner(engine(tmp_path, rule("t", "match: {terms: [最好]}")))
    alerts = list(scanner.scan_lines(lines(
        segment("s1", "这是最好的", ts="2026-01-01T00:00:00Z"),
        segment("s2", "这是最好的", ts="2026-01-01T00:00:30Z"),  # repeat inside the window
        segment("s3", "这是最好的", ts="2026-01-01T00:00:30Z", room_id="r2"),  # another room
        segment("s4", "真的最好的", ts="2026-01-01T00:00:40Z"),  # another claim
        segment("s5", "这是最好的", ts="2026-01-01T00:01:05Z"),  # the window has passed
    )))
    assert [a.event_id for a in alerts] == ["s1", "s3", "s4", "s5"]
    assert scanner.counters.repeats_suppressed == 1
