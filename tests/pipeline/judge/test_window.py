"""Claims split across segments: the room's window, and alerts that name every segment."""

from __future__ import annotations

import json
from datetime import timedelta

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.judge.window import ContextWindow
from pipeline.settings import Settings

from ...conftest import make_segment


def _said(event_id: str, second: float, product: str = "p1", room: str = "r1", text: str = "x"):
    from ...conftest import TS

    return make_segment(text, None, event_id=event_id, ts=TS + timedelta(seconds=second), product_id=product,
                        room_id=room)


def test_the_window_holds_the_segments_just_before_of_the_same_room_and_product() -> None:
    window = ContextWindow({}, segments=3, window=timedelta(seconds=20))
    for event_id, second in (("a", 0), ("b", 5), ("c", 10)):
        window.remember(_said(event_id, second))
    assert [s.event_id for s in window.before(_said("d", 12))] == ["b", "c"]  # at most two before it
    assert [s.event_id for s in window.before(_said("d", 29))] == ["c"]  # b is 24 s back
    assert window.before(_said("d", 12, room="r2")) == []
    window.remember(_said("other", 11, product="p2"))
    assert window.before(_said("d", 12)) == []  # another product in between breaks the chain


def test_a_redelivered_segment_sees_what_came_before_it_not_itself_or_later() -> None:
    window = ContextWindow({}, segments=3)
    for event_id, second in (("a", 0), ("b", 5), ("c", 10)):
        window.remember(_said(event_id, second))
    assert [s.event_id for s in window.before(_said("b", 5))] == ["a"]
    window.remember(_said("b", 5))
    assert [row[0] for row in window.state["r1"]] == ["a", "b", "c"]


def _lines(*texts: str) -> list[str]:
    return [json.dumps({"type": "transcript", "event_id": f"s{i}", "room_id": "r1", "product_id": "p1",
                        "ts": 1_000 * i, "text": text, "category": "other"}, ensure_ascii=False)
            for i, text in enumerate(texts)]


def test_a_claim_split_over_two_segments_alerts_once_naming_both(engine: Engine) -> None:
    alerts = list(Scanner(engine).scan_lines(_lines("这个珍珠项链原价九千八", "今天九百八")))
    (alert,) = alerts
    assert (alert.rule_id, alert.event_id, alert.related_event_ids) == ("price-invented-original", "s1", ["s0"])
    assert alert.evidence.text == "这个珍珠项链原价九千八 今天九百八"
    assert alert.evidence.match == "原价九千八 今天九百八"
    alone = Scanner(engine, Settings(context_segments=1)).scan_lines(_lines("这个珍珠项链原价九千八", "今天九百八"))
    assert list(alone) == []


def test_pinyin_split_by_the_asr_is_joined_again(engine: Engine) -> None:
    (alert,) = Scanner(engine).scan_lines(_lines("这个茶能jiang", "tang 糖友放心喝"))
    assert alert.rule_id == "medical-three-highs" and alert.related_event_ids == ["s0"]
    assert alert.evidence.evasion is not None and alert.evidence.evasion.term == "降糖"


def test_a_claim_inside_one_segment_is_not_alerted_again_from_the_joined_text(engine: Engine) -> None:
    alerts = list(Scanner(engine).scan_lines(_lines("这是全网最低价", "大家快来抢")))
    assert [(a.event_id, a.related_event_ids) for a in alerts] == [("s0", [])]


def test_a_split_claim_points_into_the_whole_joined_text(engine: Engine) -> None:
    first = "家人们看过来这个是我们今年主推的淡水珍珠项链，品质特别好，原价九千八"
    (alert,) = Scanner(engine).scan_lines(_lines(first, "今天九百八"))
    assert alert.evidence.text == first + " 今天九百八"
    assert alert.evidence.text[alert.evidence.start : alert.evidence.end] == alert.evidence.match == "原价九千八 今天九百八"


def test_with_the_window_off_no_state_is_kept() -> None:
    window = ContextWindow({}, segments=1)
    window.remember(_said("a", 0))
    assert window.state == {} and window.before(_said("b", 1)) == []
