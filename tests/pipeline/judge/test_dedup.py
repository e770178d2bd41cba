from datetime import UTC, datetime, timedelta

from models.alerts import Alert, Evidence
from pipeline.judge.dedup import Deduplicator


def alert(room: str, rule: str, claim: str, second: float) -> Alert:
    ts = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=second)
    evidence = Evidence(text=claim, match=claim, start=0, end=len(claim), normalized=claim, via="t", claim=claim)
    return Alert(alert_id=f"{room}{rule}{second}", event_id=f"e{second}", room_id=room, ts=ts, rule_id=rule, kind="absolute-term",
                 severity="medium", legal_basis=["x"], message="m", evidence=evidence, ruleset_version="v")


def test_window_runs_on_event_time_per_room_rule_and_claim() -> None:
    state: dict = {}
    dedup = Deduplicator(state, timedelta(seconds=60))
    assert dedup.admit([alert("r1", "a", "最好", 0)])
    assert dedup.admit([alert("r1", "a", "最好", 59)]) == []
    assert dedup.admit([alert("r1", "b", "最好", 59)])  # another rule
    assert dedup.admit([alert("r2", "a", "最好", 59)])  # another room
    assert dedup.admit([alert("r1", "a", "最好", 60)])  # window passed since the last published one
    assert set(state) == {"r1", "r2"}


def test_a_claim_said_again_with_other_particles_or_for_another_product() -> None:
    dedup = Deduplicator({}, timedelta(seconds=60))
    assert dedup.admit([alert("r1", "a", "最后三单了", 0)])
    assert dedup.admit([alert("r1", "a", "最后三单啊", 20)]) == []  # the same claim said again
    assert dedup.admit([alert("r1", "a", "最后两单了", 30)])  # another claim
    other_product = alert("r1", "a", "最后三单", 40).model_copy(update={"product_id": "p2"})
    assert dedup.admit([other_product]) == [other_product]


def test_state_is_pruned_to_the_window() -> None:
    state: dict = {}
    dedup = Deduplicator(state, timedelta(seconds=10))
    dedup.admit([alert("r1", "a", "x", 0)])
    dedup.admit([alert("r1", "a", "y", 100)])
    assert list(state["r1"]) == ["a\x1f\x1fy"]


def test_a_replayed_event_publishes_its_alert_again() -> None:
    state: dict = {}
    dedup = Deduplicator(state, timedelta(seconds=60))
    first = alert("r1", "a", "x", 0)
    assert dedup.admit([first]) == [first]
    assert dedup.admit([first]) == [first]  # the same event after a restart before commit
    other = first.model_copy(update={"event_id": "e2"})
    assert dedup.admit([other]) == []


def test_zero_window_disables_dedup() -> None:
    dedup = Deduplicator({}, timedelta(0))
    twice = [alert("r1", "a", "x", 0), alert("r1", "a", "x", 0)]
    assert dedup.admit(twice) == twice
