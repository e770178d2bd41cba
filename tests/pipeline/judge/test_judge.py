"""The judge `scan` and the worker share: listing join, split claims, repeats, counters, with
state in whatever mappings the caller gives it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from models.events import Category
from pipeline.judge.judge import Judge
from pipeline.settings import Settings
from pipeline.stream.listings import TableListings

from ...conftest import TS, make_listing, make_segment
from ..rulekit import engine, rule

DRUG_ONLY_EXEMPT = rule("m", "match: {terms: [治疗]}\nexcept_categories: [drug]")


def test_a_segment_is_judged_against_the_listing_in_force_when_it_was_said(tmp_path: Path) -> None:
    judge = Judge(engine(tmp_path, DRUG_ONLY_EXEMPT))
    judge.event(make_listing(Category.food, event_id="l2", ts=TS + timedelta(seconds=10)))
    judge.event(make_listing(Category.drug, event_id="l1", ts=TS))  # arrives late, was in force first
    assert judge.event(make_segment("可以治疗头疼", event_id="s1", ts=TS + timedelta(seconds=5))) == []
    (alert,) = judge.event(make_segment("可以治疗头疼", event_id="s2", ts=TS + timedelta(seconds=15)))
    assert alert.category == "food"
    counted = judge.counters
    assert (counted.segments, counted.listings, counted.alerts) == (2, 2, 1)


def test_repeats_in_a_room_are_counted_not_published(tmp_path: Path) -> None:
    judge = Judge(engine(tmp_path, rule("t", "match: {terms: [最好]}")))
    first = judge.event(make_segment("这是最好的", event_id="s1"))
    again = judge.event(make_segment("这是最好的", event_id="s2", ts=TS + timedelta(seconds=5)))
    assert len(first) == 1 and again == [] and judge.counters.repeats_suppressed == 1
    # Re-delivered, the same event gives the same alert again, not silence.
    assert [a.alert_id for a in judge.event(make_segment("这是最好的", event_id="s1"))] == [first[0].alert_id]


def test_the_window_remembers_each_segments_claims_instead_of_judging_it_again(tmp_path: Path) -> None:
    state: dict[str, list[list[Any]]] = {}
    judge = Judge(engine(tmp_path, rule("t", "match: {terms: [最好]}")), context_state=state)
    judge.event(make_segment("这是最好的", event_id="s1"))
    judge.event(make_segment("大家快来", event_id="s2", ts=TS + timedelta(seconds=2)))
    assert state["r1"] == [["s1", state["r1"][0][1], "p1", "这是最好的", [["t", 2, 4]]],
                           ["s2", state["r1"][1][1], "p1", "大家快来", []]]
    # Rows written before claims were kept (four fields) still read: no claims known.
    state["r1"] = [row[:4] for row in state["r1"]]
    assert [said.claims for said in judge.window.before(make_segment("x", ts=TS + timedelta(seconds=3)))] == [(), ()]


def test_the_worker_s_table_state_gives_the_alerts_dict_state_gives(tmp_path: Path) -> None:
    eng = engine(tmp_path, DRUG_ONLY_EXEMPT + rule("t", "match: {terms: [最好]}"))
    events = [
        make_listing(Category.drug, event_id="l1"),
        make_segment("可以治疗头疼", event_id="s1"),
        make_segment("这是最好的药", event_id="s2", ts=TS + timedelta(seconds=1)),
        make_listing(Category.food, event_id="l2", ts=TS + timedelta(seconds=2)),
        make_segment("可以治疗头疼", event_id="s3", ts=TS + timedelta(seconds=3)),
    ]
    in_memory = Judge(eng)
    # The worker keeps listings as JSON in a table and its windows in tables: plain mappings here.
    tables = Judge(eng, Settings(), listings=TableListings({}), context_state={}, dedup_state={})
    assert [a for e in events for a in in_memory.event(e)] == [a for e in events for a in tables.event(e)]
    assert tables.counters == in_memory.counters
