from datetime import timedelta
from pathlib import Path

from models.events import Category
from pipeline.judge.build_alerts import alert_id
from pipeline.judge.judge import detect_segment

from ...conftest import TS, make_listing, make_segment
from ..rulekit import engine, rule


def test_evidence_points_at_the_original_words(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最好]}"))
    text = "姐妹们這是最|好的面霜"
    (alert,) = detect_segment(eng, make_segment(text), None)
    assert alert.evidence.text == text
    assert text[alert.evidence.start : alert.evidence.end] == "最|好" == alert.evidence.match
    assert alert.evidence.normalized == "最好"
    assert alert.legal_basis == ["test t"]
    assert alert.message == "said 最|好"
    assert alert.ruleset_version == eng.version


def test_alert_id_is_stable_and_distinguishes_spans(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最好]}"))
    segment = make_segment("最好的,真的最好")
    first = detect_segment(eng, segment, None)
    again = detect_segment(eng, segment.model_copy(), None)
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert len({a.alert_id for a in first}) == 2
    assert first[0].alert_id == alert_id("e1", "t", 0, 2)
    other_event = detect_segment(eng, make_segment("最好的,真的最好", event_id="e2"), None)
    assert {a.alert_id for a in other_event}.isdisjoint(a.alert_id for a in first)


def test_listing_category_overrides_segment_category(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("m", "match: {terms: [治疗]}\nexcept_categories: [drug]"))
    segment = make_segment("可以治疗头疼", category=Category.food)
    assert len(detect_segment(eng, segment, None)) == 1
    assert detect_segment(eng, segment, make_listing(Category.drug)) == []
    (alert,) = detect_segment(eng, segment, make_listing(Category.home))
    assert alert.category == "home"


def test_rules_on_the_same_words_make_one_alert_led_by_the_most_severe(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("broad", "match: {regex: 最暖}")
                 + rule("record", "match: {terms: [全网最暖]}", severity="high")
                 + rule("elsewhere", "match: {terms: [包邮]}", severity="high"))  # fmt: skip
    claim, other = detect_segment(eng, make_segment("这件是全网最暖的羽绒服 今天包邮"), None)
    assert (claim.rule_id, claim.severity.value, claim.evidence.match) == ("record", "high", "全网最暖")
    assert claim.rule_ids == ["record", "broad"] and [r.match for r in claim.rules] == ["全网最暖", "全网最暖"]
    assert claim.legal_basis == ["test record", "test broad"]
    assert claim.alert_id == alert_id("e1", "record", 3, 7)  # the leader's id: stable when a rule joins
    assert other.rule_ids == ["elsewhere"]


def test_a_rule_joining_a_claim_keeps_its_alert_id(tmp_path: Path) -> None:
    alone = engine(tmp_path / "a", rule("record", "match: {terms: [全网最暖]}", severity="high"))
    joined = engine(tmp_path / "b", rule("broad", "match: {regex: 最暖}")
                    + rule("record", "match: {terms: [全网最暖]}", severity="high"))  # fmt: skip
    segment = make_segment("这件是全网最暖的羽绒服")
    (before,) = detect_segment(alone, segment, None)
    (after,) = detect_segment(joined, segment, None)
    assert before.alert_id == after.alert_id and after.rule_ids == ["record", "broad"]


def test_an_alert_carries_who_said_it_and_when(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最好]}"))
    (alert,) = detect_segment(eng, make_segment("最好的面霜", streamer_id="host-1", start_ms=5, end_ms=900), None)
    assert (alert.streamer_id, alert.start_ms, alert.end_ms, alert.schema_version) == ("host-1", 5, 900, 3)
    assert (alert.listing_event_id, alert.listing_ts, alert.emitted_at) == (None, None, None)  # no listing known


def test_an_alert_names_the_listing_version_it_was_judged_against(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最好]}"))
    listing = make_listing("cosmetics", event_id="listing-v2", ts=TS - timedelta(minutes=5))
    (alert,) = detect_segment(eng, make_segment("最好的面霜"), listing)
    assert (alert.listing_event_id, alert.listing_ts) == ("listing-v2", TS - timedelta(minutes=5))
    assert alert.emitted_at is None  # set by the stream worker when it publishes


def test_evidence_takes_in_the_rest_of_a_word_the_match_cut(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {regex: '史上最[^低便]'}"))
    (alert,) = detect_segment(eng, make_segment("这是史上最划算的一次 快拍"), None)
    assert alert.evidence.match == "史上最划算" and alert.evidence.normalized == "史上最划"
    assert alert.alert_id == alert_id("e1", "t", 2, 7)
    # never past a pause or a clause break
    (cut,) = detect_segment(eng, make_segment("史上最好 吃的"), None)
    assert cut.evidence.match == "史上最好"
