"""The worker's adapter logic without a broker: Faust's own test context drives the listings
agent, and the pieces around the judge (dead letters, batches, commits, the listings store) are
plain code. Delivery, restarts and parity with `scan` are tested on a real broker (test_app)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from models.events import ProductListing
from pipeline.errors import EventError
from pipeline.settings import Settings
from pipeline.stream.app import Worker, next_batch
from pipeline.stream.deadletter import deadletter_record
from pipeline.stream.listings import TableListings
from pipeline.stream.offsets import DeliveredOffsets
from pipeline.stream.writeback import WriteBack

from ..rulekit import engine, rule

LISTING = {"type": "listing", "event_id": "l1", "product_id": "p1", "ts": 0, "category": "drug", "title": "药",
           "price": 12}


def test_a_dead_letter_keeps_the_bytes_the_reason_and_the_origin() -> None:
    error = EventError("invalid JSON: x", where="t[1]@7", kind="json")
    value = deadletter_record(error, topic="t", partition=1, offset=7, key=b"room", value=b"\xff{",
                              now=datetime(2026, 1, 1, tzinfo=UTC))
    record = json.loads(value)
    assert record["reason"] == "json" and record["error"] == "invalid JSON: x"
    assert record["source"] == {"topic": "t", "partition": 1, "offset": 7}
    assert base64.b64decode(record["value_base64"]) == b"\xff{" and base64.b64decode(record["key_base64"]) == b"room"
    assert json.loads(deadletter_record(error, topic="t", partition=0, offset=0, key=None, value=None,
                                        now=datetime(2026, 1, 1, tzinfo=UTC)))["key_base64"] is None


def test_room_state_reaches_the_table_once_per_room_as_of_the_last_event_that_changed_it() -> None:
    table: dict[str, Any] = {"old": [0]}
    judging: list[str] = []
    state: WriteBack[str] = WriteBack(table, lambda: judging[-1])
    for event, room, value in [("e1", "a", [1]), ("e2", "b", [2]), ("e3", "a", [1, 3])]:
        judging.append(event)
        state[room] = value
        assert state.get(room) == value and state[room] == value  # reads see the batch's writes
    assert table == {"old": [0]}  # nothing written while the batch is judged
    assert state.get("old") == [0] and state.get("none") is None and sorted(state) == ["a", "b", "old"]
    written_as_of: list[tuple[str, dict[str, Any]]] = []
    assert state.write(lambda event: written_as_of.append((event, dict(table)))) == 2
    assert table == {"old": [0], "a": [1, 3], "b": [2]}
    # Each room written once, under the last event that changed it (its changelog partition).
    assert [event for event, _ in written_as_of] == ["e3", "e2"]
    assert state.write(lambda event: None) == 0


def test_the_listings_table_is_parsed_once_per_stored_value() -> None:
    table: dict[str, Any] = {}
    store = TableListings(table)
    listing = ProductListing.model_validate(LISTING)
    store.put("p1", [listing])
    assert table["p1"][0]["event_id"] == "l1"  # JSON in the table, as its changelog carries it
    first = store.versions("p1")
    assert first == [listing] and store.versions("p1") is first
    table["p1"] = [dict(table["p1"][0], price=10)]  # a new version arrives from the changelog
    assert store.versions("p1")[0].price == 10 and store.versions("missing") == []


def test_a_batch_takes_what_is_queued_no_more_than_its_size_and_an_idle_event_at_once() -> None:
    async def run() -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(5):
            queue.put_nowait(i)
        capped = await next_batch(queue, size=3, within_s=0.05)
        rest = await next_batch(queue, size=10, within_s=0.05)

        async def later(items: list[int], pause: float) -> None:
            for item in items:
                await asyncio.sleep(pause)
                queue.put_nowait(item)

        # Idle: the one event waiting is judged at once, not held for a window.
        queue.put_nowait(7)
        feeder = asyncio.ensure_future(later([8], 0.05))
        alone = await next_batch(queue, size=10, within_s=1.0)
        await feeder
        assert await next_batch(queue, size=10, within_s=0.05) == [8]
        # Under load: while events keep arriving the batch keeps taking them.
        queue.put_nowait(20)
        queue.put_nowait(21)
        feeder = asyncio.ensure_future(later([22, 23], 0.001))
        burst = await next_batch(queue, size=10, within_s=1.0)
        await feeder
        leftover = []
        while not queue.empty():
            leftover.append(queue.get_nowait())
        return capped, rest, alone, burst, leftover

    capped, rest, alone, burst, leftover = asyncio.run(run())
    assert (capped, rest, alone) == ([0, 1, 2], [3, 4], [7])
    assert burst + leftover == [20, 21, 22, 23] and burst[:2] == [20, 21]


def test_offsets_are_committed_after_delivery_coalesced_and_flushed() -> None:
    commits: list[dict[str, int]] = []

    async def commit(offsets: Mapping[Any, int]) -> bool:
        await asyncio.sleep(0.01)
        commits.append(dict(offsets))
        return offsets.get("tp-fail") is None

    async def run() -> None:
        offsets = DeliveredOffsets(commit)
        offsets.delivered([("tp0", 4), ("tp1", 9)])
        await asyncio.sleep(0.001)  # the commit is under way
        offsets.delivered([("tp0", 5)])  # two more batches meanwhile: one commit for both
        offsets.delivered([("tp0", 6), ("tp-fail", 1)])
        await offsets.flush()

    asyncio.run(run())
    # The next offset to read, after the last one delivered; a failed commit is only logged (its
    # events are read again and give the same alert ids).
    assert commits == [{"tp0": 5, "tp1": 10}, {"tp0": 7, "tp-fail": 2}]


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    settings = Settings(broker="127.0.0.1:9", topic_prefix="unit.")
    built = Worker(settings, engine(tmp_path, rule("m", "match: {terms: [治疗]}\nexcept_categories: [drug]")))
    sent: list[tuple[bytes | None, bytes]] = []

    async def keep(key: bytes | None = None, value: bytes = b"", **_: object) -> None:
        sent.append((key, value))

    built.deadletter.send = keep  # type: ignore[method-assign]
    built.dead_letters = sent  # type: ignore[attr-defined]
    return built


def test_the_listings_agent_feeds_the_judge_and_dead_letters_the_rest(worker: Worker) -> None:
    async def run() -> None:
        async with worker.app.agents["claimwatch.listings"].test_context() as agent:
            await agent.put(json.dumps(LISTING).encode())
            await agent.put(b"{not json")
            await agent.put(json.dumps({"type": "transcript", "event_id": "s", "room_id": "r", "ts": 0,
                                        "text": "x"}).encode())

    asyncio.run(run())
    (version,) = worker.judge.listings.versions("p1")
    assert version.category.value == "drug"
    assert worker.counters.listings == 1 and worker.counters.by_reason == {"json": 1, "schema": 1}
    reasons = [json.loads(value)["reason"] for _, value in worker.dead_letters]  # type: ignore[attr-defined]
    assert reasons == ["json", "schema"]


def test_the_worker_consumer_holds_a_fetch_no_longer_than_the_setting(tmp_path: Path) -> None:
    """Faust fixes the fetch wait at 1500 ms; the worker's own setting replaces it."""

    async def created() -> int:
        settings = Settings(broker="127.0.0.1:9", topic_prefix="unit.", fetch_max_wait_ms=77)
        built = Worker(settings, engine(tmp_path, rule("m", "match: {terms: [治疗]}")))
        thread = built.app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(built.app.transport)
        return int(consumer._fetch_max_wait_ms)

    assert asyncio.run(created()) == 77


def test_a_costly_batch_is_delivered_slice_by_slice_in_order(tmp_path: Path) -> None:
    settings = Settings(broker="127.0.0.1:9", topic_prefix="unit.", judge_slice_s=0.01)
    built = Worker(settings, engine(tmp_path, rule("m", "match: {terms: [治疗]}")))
    delivered: list[list[int]] = []

    async def judge_slowly(event: Any, segment: Any) -> list[Any]:
        time.sleep(0.004)  # a costly segment: the slice's time runs out after a few
        return []

    async def deliver(deliveries: list[Any], events: list[Any]) -> None:
        delivered.append(events)

    class Stream:
        def _set_current_event(self, event: Any) -> None:
            pass

    built._judge_segment = judge_slowly  # type: ignore[method-assign]
    built._deliver = deliver  # type: ignore[method-assign]
    batch = [(n, object()) for n in range(30)]

    async def run() -> None:
        start = 0
        while start < len(batch):
            start = await built._judge_slice(Stream(), batch, start)  # type: ignore[arg-type]
        assert built._delivering is not None
        await built._delivering

    asyncio.run(run())
    assert len(delivered) > 1, "the whole batch was held for one delivery"
    assert [n for piece in delivered for n in piece] == list(range(30))


def _record(offset: int, text: str) -> Any:
    value = json.dumps({"type": "transcript", "event_id": f"e{offset}", "room_id": "r", "ts": offset * 1000,
                        "text": text}, ensure_ascii=False).encode()
    message = SimpleNamespace(topic="unit.transcripts", partition=0, offset=offset, key=b"r", value=value,
                              tp=("unit.transcripts", 0))
    return SimpleNamespace(message=message)


class _BrokenTable(dict):  # type: ignore[type-arg]
    """A table whose writes fail, as Faust's did with PartitionsMismatch when a changelog topic
    was missing at the first assignment."""

    def __setitem__(self, key: str, value: Any) -> None:
        raise RuntimeError("PartitionsMismatch: the changelog topic has 1 partitions, the source 2")


def test_a_failure_of_the_worker_itself_is_not_dead_lettered_nor_committed_and_stops_it(
    worker: Worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.stream.app as app_module

    monkeypatch.setattr(app_module, "STEP_PAUSE_S", 0.0)
    health = tmp_path / "health.json"
    worker.health.path = health
    worker._room_state[0]._table = _BrokenTable()  # type: ignore[assignment]
    delivered: list[Any] = []
    stopped: list[bool] = []

    async def deliver(deliveries: list[Any], events: list[Any]) -> None:
        delivered.extend(events)

    async def nothing_to_wait_for(ask_broker: bool = False) -> None:
        return None

    async def sent(**_: object) -> Any:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    class Stream:
        def _set_current_event(self, event: Any) -> None:
            pass

    worker._deliver = deliver  # type: ignore[method-assign]
    worker._await_listings = nothing_to_wait_for  # type: ignore[method-assign]
    worker.alerts.send = sent  # type: ignore[method-assign]
    worker._stop = lambda: stopped.append(True)

    async def run() -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for offset, text in enumerate(["这个能治疗失眠", "你好", "治疗头疼"]):
            queue.put_nowait(_record(offset, text))
        await asyncio.wait_for(worker._judge_batches(Stream(), queue), timeout=10)  # type: ignore[arg-type]

    asyncio.run(run())
    assert worker.failure is not None and stopped == [True]
    assert worker.dead_letters == [] and delivered == []  # type: ignore[attr-defined]
    state = json.loads(health.read_text())
    assert state["status"] == "failed" and "PartitionsMismatch" in state["reason"] and state["segments"] == 3
