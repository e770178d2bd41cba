"""The stream worker against a real Kafka broker: what goes in as plain Kafka records must come
out as exactly the alerts `claimwatch scan` gives for the same events."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.kafka.feed import read_to_end, send_events
from pipeline.kafka.topics import ensure_topics

from ...conftest import DATA
from ..streamkit import ROOT, WorkerProcess, read_json, unique_prefix

TS0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in epoch ms


def transcript(event_id: str, room: str, text: str, second: float, **extra: object) -> str:
    record = {"type": "transcript", "event_id": event_id, "room_id": room, "ts": TS0 + int(second * 1000),
              "text": text, **extra}
    return json.dumps(record, ensure_ascii=False)


def listing(event_id: str, product: str, category: str, second: float, **extra: object) -> str:
    record = {"type": "listing", "event_id": event_id, "product_id": product, "ts": TS0 + int(second * 1000),
              "category": category, "title": "商品", "price": 99, **extra}
    return json.dumps(record, ensure_ascii=False)


def scenario_events() -> list[str]:
    """Late listing, category change, repeats inside and outside the dedup window."""
    return [
        # A listing that arrives after a segment is used for the later segments.
        transcript("late-1", "room-x", "这个可以治疗头疼", 0, product_id="p-late", category="food"),
        listing("late-l", "p-late", "drug", 1),
        transcript("late-2", "room-x", "这个可以治疗头疼", 70, product_id="p-late"),
        # Re-categorising a product changes later decisions.
        listing("chg-l1", "p-chg", "drug", 2),
        transcript("chg-1", "room-y", "吃了能治疗失眠", 3, product_id="p-chg"),
        listing("chg-l2", "p-chg", "food", 4),
        transcript("chg-2", "room-y", "吃了能治疗失眠", 80, product_id="p-chg"),
        # A claim split across two segments of one room and product.
        transcript("split-1", "room-s", "这个珍珠项链原价九千八", 20, product_id="p-pearl", category="other"),
        transcript("split-2", "room-s", "今天九百八", 22, product_id="p-pearl", category="other"),
        # The same claim in the same room: once per window of event time.
        transcript("rep-1", "room-z", "这是全网最低价", 10),
        transcript("rep-2", "room-z", "这是全网最低价", 40),
        transcript("rep-3", "room-z", "这是全网最低价", 75),
    ]


def corpus_events() -> list[str]:
    items = [json.loads(line) for line in (DATA / "dev_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    return [transcript(f"dev-{i}", f"room-{i % 5}", item["text"], 5 * i, category=item["category"])
            for i, item in enumerate(items)]


def scan_alerts(engine: Engine, lines: list[str]) -> list[dict]:
    scanner = Scanner(engine)
    return [json.loads(a.model_dump_json()) for a in scanner.scan_lines(lines)]


def read_until(bootstrap: str, topic: str, ids: set[str], timeout_s: float) -> list[dict]:
    """The topic's alerts once every id expected is among them, or what it holds at the deadline.
    Each look reads the whole topic to its end, so a slow broker never cuts a read short."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = [json.loads(m.value) for m in read_to_end(bootstrap, topic)]
        if ids <= {a["alert_id"] for a in got} or time.monotonic() > deadline:
            return got
        time.sleep(2)


def by_id(alerts: list[dict]) -> dict[str, dict]:
    return {a["alert_id"]: a for a in alerts}


def content(alert: dict) -> dict:
    """What an alert says: all of it but when it was published, the one field that is the
    stream's own (null in scan, later on each re-delivery)."""
    return {key: value for key, value in alert.items() if key != "emitted_at"}


@pytest.fixture(scope="module")
def events() -> list[str]:
    demo = (ROOT / "samples" / "demo_stream.jsonl").read_text(encoding="utf-8").splitlines()
    return demo + scenario_events() + corpus_events()


def test_stream_gives_the_alerts_scan_gives_and_keeps_bad_records(
    kafka_bootstrap: str, engine: Engine, events: list[str], tmp_path: Path
) -> None:
    expected = scan_alerts(engine, events)
    bad = [b"\xff\xfe not utf-8", b"{not json", json.dumps({"type": "transcript", "event_id": "s"}).encode(),
           transcript("huge", "room-x", "好" * 6000, 1).encode()]
    half = len(events) // 2
    prefix = unique_prefix()
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path):
        send_events(kafka_bootstrap, prefix, events[:half] + bad + events[half:])
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=180)
        dead = read_json(kafka_bootstrap, f"{prefix}deadletter", until=len(bad), idle_s=10)

    only_stream = [(a["event_id"], a["rule_id"]) for i, a in by_id(got).items() if i not in by_id(expected)]
    only_scan = [(a["event_id"], a["rule_id"]) for i, a in by_id(expected).items() if i not in by_id(got)]
    assert (only_stream, only_scan) == ([], [])
    # At least once: a rebalance may re-send an alert, but always with the same id and content;
    # only the time it was published is the stream's own.
    for alert in got:
        emitted_at = datetime.fromisoformat(alert["emitted_at"])
        assert emitted_at.tzinfo is not None and emitted_at > datetime.fromisoformat(alert["ts"])
        assert content(alert) == content(by_id(expected)[alert["alert_id"]])
    assert all(a["emitted_at"] is None for a in expected)  # scan's alerts are the same on every run

    assert sorted(d["reason"] for d in dead) == ["json", "schema", "size", "utf8"]
    for record in dead:
        assert record["source"]["topic"] == f"{prefix}transcripts"
        assert record["source"]["offset"] >= 0 and record["error"]
    import base64

    assert base64.b64decode(next(d for d in dead if d["reason"] == "utf8")["value_base64"]) == bad[0]

    # The scenario's decisions, by exact rule id.
    fired = {(a["event_id"], a["rule_id"]) for a in got}
    assert ("late-1", "medical-cure-claim") in fired
    assert not any(event == "late-2" for event, _ in fired)
    assert not any(event == "chg-1" for event, _ in fired)
    assert ("chg-2", "medical-cure-claim") in fired
    assert ("rep-1", "price-lowest-claim") in fired and ("rep-3", "price-lowest-claim") in fired
    (split,) = [a for a in got if a["event_id"] == "split-2"]
    assert split["rule_id"] == "price-invented-original" and split["related_event_ids"] == ["split-1"]
    assert not any(event == "rep-2" for event, _ in fired)


def test_worker_killed_mid_stream_loses_no_alert(
    kafka_bootstrap: str, engine: Engine, events: list[str], tmp_path: Path
) -> None:
    expected = scan_alerts(engine, events)
    prefix = unique_prefix()
    first = WorkerProcess(kafka_bootstrap, prefix, tmp_path).start()
    try:
        send_events(kafka_bootstrap, prefix, events[: len(events) // 2])
        some = read_json(kafka_bootstrap, f"{prefix}alerts", until=5, idle_s=20)
        assert some, "the first worker published nothing before it was killed"
        send_events(kafka_bootstrap, prefix, events[len(events) // 2 :])
    finally:
        first.kill()
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path):
        # The killed member stays in the group until its session times out; only then does the
        # new worker get the partitions, so wait for the alerts rather than for a quiet topic.
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=240)
    # At least once: every alert arrives, perhaps twice, always with the same id and content.
    missing = [(a["event_id"], a["rule_id"]) for i, a in by_id(expected).items() if i not in by_id(got)]
    assert by_id(got).keys() == by_id(expected).keys(), f"missing {missing}; worker logs in {tmp_path}"
    for alert in got:
        assert content(alert) == content(by_id(expected)[alert["alert_id"]])


def test_a_replacement_with_the_dead_workers_instance_id_takes_over_without_waiting_out_its_session(
    kafka_bootstrap: str, engine: Engine, events: list[str], tmp_path: Path
) -> None:
    """Static membership: the killed member's session (and so its rebalance timeout) is five
    minutes, more than twice what this test waits for the alerts; a replacement without the
    dead one's id would wait that out before it got a partition (checked by hand: it fails)."""
    expected = scan_alerts(engine, events)
    prefix = unique_prefix()
    env = {"CLAIMWATCH_GROUP_INSTANCE_ID": "worker-a", "CLAIMWATCH_SESSION_TIMEOUT_S": "300"}
    first = WorkerProcess(kafka_bootstrap, prefix, tmp_path, env=env).start()
    try:
        send_events(kafka_bootstrap, prefix, events[: len(events) // 2])
        assert read_json(kafka_bootstrap, f"{prefix}alerts", until=5, idle_s=20)
        send_events(kafka_bootstrap, prefix, events[len(events) // 2 :])
    finally:
        first.kill()
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path, env=env):
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=120)
    missing = [(a["event_id"], a["rule_id"]) for i, a in by_id(expected).items() if i not in by_id(got)]
    assert by_id(got).keys() == by_id(expected).keys(), f"missing {missing}; worker logs in {tmp_path}"


def committed_and_end(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = {tp.partition: meta.offset
                     for tp, meta in admin.list_group_offsets(group)[group].items() if tp.topic == topic}
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        admin.close()
        consumer.close()
    return committed, ends


def test_clean_stop_commits_what_was_delivered_and_a_restart_resends_nothing(
    kafka_bootstrap: str, engine: Engine, tmp_path: Path
) -> None:
    events = scenario_events()
    expected = scan_alerts(engine, events)
    prefix = unique_prefix()
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path):
        send_events(kafka_bootstrap, prefix, events)
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=120)
    assert sorted(a["alert_id"] for a in got) == sorted(by_id(expected))

    committed, ends = committed_and_end(kafka_bootstrap, f"{prefix}worker", f"{prefix}transcripts")
    written = {partition: end for partition, end in ends.items() if end}
    assert committed == written and sum(ends.values()) == sum(1 for e in events if '"transcript"' in e)

    # Nothing is left to re-read, so a second worker of the same group sends no alert again.
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path):
        time.sleep(8)
    again = read_json(kafka_bootstrap, f"{prefix}alerts", idle_s=3)
    assert sorted(a["alert_id"] for a in again) == sorted(by_id(expected))


def test_two_workers_share_the_partitions_and_give_the_alerts_scan_gives(
    kafka_bootstrap: str, engine: Engine, tmp_path: Path
) -> None:
    # Segments carry their own category here: with listings, a second worker learns a product
    # from the listings table's changelog, which the listings barrier does not wait for (README).
    events = scenario_events()[-3:] + corpus_events()
    expected = scan_alerts(engine, events)
    prefix = unique_prefix()
    with WorkerProcess(kafka_bootstrap, prefix, tmp_path) as first, WorkerProcess(kafka_bootstrap, prefix, tmp_path) as second:
        send_events(kafka_bootstrap, prefix, events)
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=240)
    assert by_id(got).keys() == by_id(expected).keys()
    for alert in got:
        assert content(alert) == content(by_id(expected)[alert["alert_id"]])
    # Both took part: each judged some of the segments, and together all of them (a rebalance
    # may make one re-read a few, never fewer).
    judged = [int(re.findall(r"segments=(\d+)", worker.log())[-1]) for worker in (first, second)]
    assert all(judged) and sum(judged) >= len(events), judged


def test_costly_segments_make_one_alert_per_claim_and_all_are_committed(
    kafka_bootstrap: str, engine: Engine, tmp_path: Path
) -> None:
    # Segments of one claim said over and over, queued at once, judged in slices of 50 ms.
    events = [transcript(f"flood-{i}", f"room-{i % 3}", "根治湿疹" * 500, 30 * i, category="drug") for i in range(40)]
    expected = scan_alerts(engine, events)
    assert len(expected) <= 6 * len(events)  # one alert per claim and rule, not one per repeat
    prefix = unique_prefix()
    worker = WorkerProcess(kafka_bootstrap, prefix, tmp_path, env={"CLAIMWATCH_JUDGE_SLICE_S": "0.05"})
    ensure_topics(worker.settings)
    send_events(kafka_bootstrap, prefix, events)  # a backlog
    with worker:
        got = read_until(kafka_bootstrap, f"{prefix}alerts", set(by_id(expected)), timeout_s=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            committed, _ = committed_and_end(kafka_bootstrap, worker.settings.consumer_group, f"{prefix}transcripts")
            if sum(committed.values()) == len(events):
                break
            time.sleep(0.5)
    assert by_id(got).keys() == by_id(expected).keys()
    assert sum(committed.values()) == len(events)


def test_events_that_never_reached_the_agent_are_read_from_the_broker_in_their_place(
    kafka_bootstrap: str, engine: Engine
) -> None:
    import asyncio
    from types import SimpleNamespace

    from faust.types import TP

    from pipeline.settings import Settings
    from pipeline.stream.app import Worker

    settings = Settings(broker=kafka_bootstrap, topic_prefix=unique_prefix(), partitions=1)
    ensure_topics(settings)
    lines = [transcript(f"gap-{i}", "room-g", "这个可以治疗头疼", i) for i in range(8)]
    send_events(kafka_bootstrap, settings.topic_prefix, lines)
    worker = Worker(settings, engine)
    tp = TP(settings.topic("transcripts"), 0)

    def handed_on(offset: int) -> SimpleNamespace:
        return SimpleNamespace(message=SimpleNamespace(topic=tp.topic, partition=0, offset=offset, tp=tp))

    async def run() -> list[list[int]]:
        taken = []
        for offset in (0, 1, 5, 3, 6):  # 2..4 were lost on the way; 3 is handed on again later
            taken.append([event.message.offset for event in await worker._in_order(handed_on(offset))])
        return taken

    assert asyncio.run(run()) == [[0], [1], [2, 3, 4, 5], [], [6]]
    filled = asyncio.run(worker._in_order(handed_on(7)))  # in order: nothing to fill
    assert [e.message.offset for e in filled] == [7]
    worker.in_order.reset()
    worker.in_order.admit(tp, 0)
    (first, _) = asyncio.run(worker._in_order(handed_on(2)))
    assert json.loads(first.message.value)["event_id"] == "gap-1" and first.message.tp == tp
