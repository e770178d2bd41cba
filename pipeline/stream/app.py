"""The stream worker: a Faust adapter around the judge that `claimwatch scan` uses.

Topics (the prefix is a setting): `<prefix>transcripts` (key room_id) and `<prefix>listings` (key
product_id) in, `<prefix>alerts` (key room_id) and `<prefix>deadletter` out. The adapter decodes
each record or dead-letters it, batches segments, hands them to the `Judge`, delivers the alerts
and commits. The judge's state lives in Faust tables: listings in a GlobalTable backed by its
changelog (every worker knows every product), the split-claim window and the repeat window in
Tables keyed by room, co-partitioned with the transcripts. The worker commits transcript offsets
itself, and only after the alerts of their events (and the table changes made for them) are on
the broker: Faust's own acking is switched off for that topic, because it could commit an event
that was read but not yet delivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import faust
from faust.streams import Stream
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP, EventT, Message, StreamT

from models.events import ProductListing, TranscriptSegment
from pipeline.detect.engine import Engine
from pipeline.errors import EventError, WorkerFailed
from pipeline.judge.decode import decode_event
from pipeline.judge.judge import Judge
from pipeline.kafka.feed import read_offsets
from pipeline.kafka.topics import ensure_topics, kafka_python_config
from pipeline.ruleset.load import load_ruleset
from pipeline.settings import Settings
from pipeline.stream.credentials import faust_credentials
from pipeline.stream.deadletter import deadletter_record
from pipeline.stream.health import Health
from pipeline.stream.listings import TableListings
from pipeline.stream.offsets import DeliveredOffsets
from pipeline.stream.quiet import quiet_client_logs
from pipeline.stream.sequence import InOrder, Verdict
from pipeline.stream.writeback import WriteBack

log = logging.getLogger("claimwatch.worker")
Event = TypeVar("Event", TranscriptSegment, ProductListing)


def _shorter_fetch_wait(create: Any) -> Any:
    """Faust builds its consumer with fetch_max_wait_ms=1500 and no setting for it. While a fetch
    is held for partitions with nothing new (the listings, mostly), no other fetch is sent to
    that broker, so new segments wait up to that long: on a quiet listings topic, events came
    in bursts every 1.5 s. The app says how long instead (`Settings.fetch_max_wait_ms`)."""

    def created(thread: Any, transport: Any) -> Any:
        consumer = create(thread, transport)
        wait_ms = getattr(thread.app, "claimwatch_fetch_max_wait_ms", None)
        if wait_ms is not None:
            consumer._fetch_max_wait_ms = wait_ms  # aiokafka hands it to its fetcher at start
        return consumer

    return created


AIOKafkaConsumerThread._create_worker_consumer = _shorter_fetch_wait(  # type: ignore[method-assign]
    AIOKafkaConsumerThread._create_worker_consumer
)


def _log_crash(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("judging transcripts stopped: %r; the agent restarts on its next event", task.exception())


async def next_batch(queue: asyncio.Queue[Any], size: int, within_s: float) -> list[Any]:
    """Wait for one item, then take what is already queued, at most `size` items. An event that
    finds the worker idle is judged at once; only while events keep arriving (under load) does the
    batch wait for more, a few milliseconds at a time and `within_s` at most, so that a busy
    worker delivers and commits once for many events."""
    loop = asyncio.get_running_loop()
    items = [await queue.get()]
    _drain(queue, items, size)
    deadline = loop.time() + within_s
    while 1 < len(items) < size and loop.time() < deadline:
        before = len(items)
        await asyncio.sleep(_POLL_S)
        _drain(queue, items, size)
        if len(items) == before:
            break  # the burst is over
    return items


_POLL_S = 0.005


def _drain(queue: asyncio.Queue[Any], items: list[Any], size: int) -> None:
    while len(items) < size:
        try:
            items.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            return


# A failing step that is the worker's, not a record's (writing room state to its tables), is
# tried this many times, waiting this long between tries, before the worker stops.
STEP_TRIES = 3
STEP_PAUSE_S = 1.0

def _stop_this_process() -> None:
    """Ask Faust to stop as on SIGTERM: it leaves the group and commits only what was delivered."""
    os.kill(os.getpid(), signal.SIGTERM)


class _Fetched:
    """A record read from the broker to fill a gap, as the Faust event the worker reads (only
    its message is used; weak references, as Faust keeps one to the current event)."""

    __slots__ = ("__weakref__", "message")

    def __init__(self, record: Any, tp: TP):
        self.message = Message(
            record.topic, record.partition, record.offset, record.timestamp / 1000.0, record.timestamp_type,
            list(record.headers or []), record.key, record.value, None, tp=tp,
        )  # fmt: skip


def _committed(consumer: Any, tp: TP) -> int | None:
    """The partition's committed offset as the consumer knows it (Faust keeps it only in
    `_committed_offset`), if it knows one."""
    offset: int | None = getattr(consumer, "_committed_offset", {}).get(tp)
    return offset


def _where(event: EventT) -> str:
    message = event.message
    return f"{message.topic}[{message.partition}]@{message.offset}"


class Worker:
    """Builds the Faust app for one settings object; `app` is what `faust` runs."""

    def __init__(self, settings: Settings, engine: Engine | None = None, partitions: dict[str, int] | None = None):
        """`partitions`: the input topics' partition counts as found on the broker; each table
        must have as many as the topic it is keyed like, whatever `settings.partitions` says."""
        self.settings = settings
        self.app = faust.App(
            settings.consumer_group,
            broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
            broker_credentials=faust_credentials(settings),
            store="memory://",
            topic_partitions=settings.partitions,
            topic_replication_factor=settings.replication_factor,
            value_serializer="raw",
            key_serializer="raw",
            web_enabled=False,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=1.0,
            broker_session_timeout=settings.session_timeout_s,
            # A rebalance waits for the members to rejoin; one is dropped no sooner there than it
            # would be for silence. A join takes that long at most, so requests may take longer
            # (Faust refuses a session timeout over its request timeout).
            broker_rebalance_timeout=max(60.0, settings.session_timeout_s),
            broker_request_timeout=max(90.0, settings.session_timeout_s + 30.0),
            broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
            consumer_group_instance_id=settings.group_instance_id,
            producer_acks=-1,
            processing_guarantee="at_least_once",
            stream_wait_empty=False,
        )
        self.app.claimwatch_fetch_max_wait_ms = settings.fetch_max_wait_ms  # type: ignore[attr-defined]  # read by _shorter_fetch_wait
        counts = partitions or {}

        def count(name: str) -> int:
            return counts.get(settings.topic(name), settings.partitions)

        transcript_partitions, listing_partitions = count("transcripts"), count("listings")
        # acks=False: Faust never commits this topic; DeliveredOffsets does, after delivery.
        self.transcripts = self.app.topic(
            settings.topic("transcripts"), partitions=transcript_partitions, value_serializer="raw", acks=False
        )
        self.listings_topic = self.app.topic(
            settings.topic("listings"), partitions=listing_partitions, value_serializer="raw"
        )
        self.alerts = self.app.topic(settings.topic("alerts"), partitions=count("alerts"), value_serializer="raw")
        self.deadletter = self.app.topic(
            settings.topic("deadletter"), partitions=count("deadletter"), value_serializer="raw"
        )
        as_json: faust.Schema[Any, Any] = faust.Schema(key_serializer="json", value_serializer="json")
        listings = self.app.GlobalTable("listings", default=None, partitions=listing_partitions, schema=as_json)
        dedup = self.app.Table("dedup", default=dict, partitions=transcript_partitions, schema=as_json)
        context = self.app.Table("context", default=list, partitions=transcript_partitions, schema=as_json)
        # The room state is written to its tables once per room and batch (see WriteBack).
        self._judging: EventT | None = None
        self._room_state = [WriteBack(table, self._event_judged) for table in (context, dedup)]
        self.judge = Judge(
            engine or Engine(load_ruleset(settings.rules_dir)),
            settings,
            listings=TableListings(listings),
            context_state=self._room_state[0],
            dedup_state=self._room_state[1],
        )
        self.counters = self.judge.counters
        self.health = Health(settings.health_file, self.counters)
        self.health.write()
        # Set when the worker stopped on a failure of its own; then nothing more is judged.
        self.failure: BaseException | None = None
        self._stop = _stop_this_process
        # Next offset to apply, per listings partition: lets a segment batch wait for listings
        # already on the topic, so a listing sent before a segment is used for it.
        self._listing_positions: dict[int, int] = {}
        self._graced: set[str] = set()
        self.offsets = DeliveredOffsets(self._commit)
        self.in_order = InOrder()
        self.app.on_partitions_assigned.connect(self._assigned)  # type: ignore[arg-type]  # mode's Signal types want a plain function
        self._delivering: asyncio.Future[None] | None = None  # the last batch's delivery
        self.app.agent(self.listings_topic, name="claimwatch.listings")(self._consume_listings)
        self.app.agent(self.transcripts, name="claimwatch.transcripts")(self._consume_transcripts)
        self.app.timer(30.0)(self._log_counters)
        self.app.timer(1.0)(self._beat)

    # --- decoding and dead letters ------------------------------------------------------------

    async def _deadletter(self, event: EventT, exc: EventError) -> None:
        """Keep the original bytes with the reason and where they came from; nothing is lost."""
        message = event.message
        self.counters.reject(exc)
        log.warning("dead-lettered %s: %s", _where(event), exc.reason)
        value = deadletter_record(
            exc, topic=message.topic, partition=message.partition, offset=message.offset,
            key=message.key, value=message.value, now=datetime.now(UTC),
        )  # fmt: skip
        await self.deadletter.send(key=message.key, value=value)

    async def _decode_or_deadletter(self, event: EventT, expected: type[Event]) -> Event | None:
        """The event, if it is valid and of the type this topic carries; else dead-letter it."""
        where = _where(event)
        try:
            decoded = decode_event(event.message.value, where=where, max_text_chars=self.settings.max_text_chars)
            if not isinstance(decoded, expected):
                raise EventError(f"field 'type': {decoded.type!r} does not belong on this topic", where=where)
        except EventError as exc:
            await self._deadletter(event, exc)
            return None
        except Exception as exc:
            log.exception("could not decode %s", where)
            await self._deadletter(event, EventError(f"could not decode: {exc!r}", where=where, kind="processing"))
            return None
        return decoded

    # --- listings -----------------------------------------------------------------------------

    async def _consume_listings(self, stream: StreamT[Any]) -> None:
        async for event in stream.events():
            listing = await self._decode_or_deadletter(event, ProductListing)
            if listing is not None:
                self.judge.listing(listing)
            self._listing_positions[event.message.partition] = event.message.offset + 1

    async def _await_listings(self, ask_broker: bool = False) -> None:
        """Wait (bounded) until every listings partition this worker reads is applied up to its
        end offset, so a listing sent before a segment is known when it is judged. The end is
        the one the consumer's last fetch saw (no request: asking the broker waits behind the
        consumer's fetches, most of a second under load), or with `ask_broker` (or before any
        fetch) the broker's own."""
        consumer = self.app.consumer
        topic = self.listings_topic.get_topic_name()
        mine = [tp for tp in consumer.assignment() if tp.topic == topic]
        if not mine:
            return
        seen = {tp: consumer.highwater(tp) for tp in mine}
        ends = await consumer.highwaters(*mine) if ask_broker or None in seen.values() else seen
        deadline = time.monotonic() + self.settings.listing_wait_s
        while time.monotonic() < deadline:
            if all(self._listing_position(consumer, tp) >= (end or 0) for tp, end in ends.items()):
                return
            await asyncio.sleep(0.005)
        log.warning("listings still behind after %.1fs; judging the batch with what is known",
                    self.settings.listing_wait_s)

    def _listing_position(self, consumer: Any, tp: TP) -> int:
        """Next listings offset this worker has applied. Before it applies one after a (re)start,
        the committed offset: everything before it is already in the table, restored from its
        changelog. (Faust keeps committed offsets only in `_committed_offset`.)"""
        return max(self._listing_positions.get(tp.partition, 0), _committed(consumer, tp) or 0)

    async def _grace_new_products(self, segments: list[TranscriptSegment]) -> None:
        """Products with no listing yet may have theirs in flight from the same producer on the
        other topic: once per product, the batch waits a short grace and the broker's end of the
        listings, then judges with what is known. One wait covers every new product of the
        batch, so a stream of products without listings costs one grace a batch, not one each."""
        new = {
            s.product_id
            for s in segments
            if s.product_id and s.product_id not in self._graced and self.judge.listing_for(s) is None
        }
        if not new:
            return
        self._graced.update(new)
        await asyncio.sleep(self.settings.listing_grace_s)
        await self._await_listings(ask_broker=True)

    # --- transcripts --------------------------------------------------------------------------

    async def _consume_transcripts(self, agent_stream: StreamT[Any]) -> None:
        """Reads events one by one into a bounded queue that a second task judges in batches.
        (Faust's take/noack_take buffers can drop events that arrive while a batch is being
        processed: their background filler may clear the guard meant to hold it back.)"""
        # Faust hands agents its Stream class; StreamT does not declare the noack() used below.
        stream = cast(Stream[Any], agent_stream)
        queue: asyncio.Queue[EventT] = asyncio.Queue(maxsize=self.settings.batch_size)
        judge = asyncio.ensure_future(self._judge_batches(stream, queue))
        judge.add_done_callback(_log_crash)
        try:
            # A noack() child, so the per-event table context set while judging cannot leak
            # into the stream being read.
            async for event in stream.noack().events():
                if judge.done():
                    judge.result()  # the judge crashed: raise its error here, in the agent
                for taken in await self._in_order(event):
                    await queue.put(taken)
        finally:
            judge.cancel()
            # A clean stop commits what was delivered, so a restart does not send it again.
            if self._delivering is not None:
                await asyncio.wait([self._delivering], timeout=10)
            await asyncio.wait_for(self.offsets.flush(), timeout=10)
            await self._log_counters()

    async def _in_order(self, event: EventT) -> list[Any]:
        """The events to judge for this one: each partition's events in offset order, none
        twice and none missing (pipeline/stream/sequence.py). Before an event that follows a
        gap come the missing ones, read from the broker."""
        message = event.message
        admission = self.in_order.admit(message.tp, message.offset, _committed(self.app.consumer, message.tp))
        if admission.verdict is Verdict.DROP:
            return []
        if admission.verdict is Verdict.TAKE:
            return [event]
        assert admission.start is not None
        records = await asyncio.get_running_loop().run_in_executor(
            None, read_offsets, kafka_python_config(self.settings), message.topic, message.partition,
            admission.start, message.offset,
        )  # fmt: skip
        log.info("%s: read %d missing events from the broker", message.tp, len(records))
        return [*(_Fetched(record, message.tp) for record in records), event]

    async def _assigned(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        self.in_order.reset()

    async def _judge_batches(self, stream: Stream[Any], queue: asyncio.Queue[EventT]) -> None:
        """Judge what the queue holds, batch after batch. A failure here that is not a record's
        (a record's own failure is dead-lettered in `_judge_segment`) stops the worker: nothing
        judged since the last commit is committed, so its successor reads it again."""
        try:
            while self.failure is None:
                events = await next_batch(queue, self.settings.batch_size, self.settings.batch_within_s)
                await self._await_listings()
                decoded = [(event, await self._decode_or_deadletter(event, TranscriptSegment)) for event in events]
                await self._grace_new_products([segment for _, segment in decoded if segment is not None])
                start = 0
                while start < len(decoded) and self.failure is None:
                    start = await self._judge_slice(stream, decoded, start)
                    await asyncio.sleep(0)  # heartbeats and fetches run between slices
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        """Stop the worker on a failure of its own: never dead-letter or commit past it."""
        if self.failure is not None:
            return
        self.failure = exc
        reason = f"{type(exc).__name__}: {exc}"
        log.error("worker failure, stopping: %s. Nothing judged since the last commit is committed; a restarted "
                  "worker reads it again", reason)
        self.health.failed(reason)
        self._stop()

    async def _write_room_state(self, stream: Stream[Any]) -> None:
        """Write the slice's room state to the tables, tried STEP_TRIES times."""
        for attempt in range(1, STEP_TRIES + 1):
            try:
                for state in self._room_state:
                    state.write(stream._set_current_event)
                return
            except Exception as exc:
                if attempt == STEP_TRIES:
                    raise
                log.warning("writing room state failed (try %d of %d), trying again: %r", attempt, STEP_TRIES, exc)
                await asyncio.sleep(STEP_PAUSE_S * attempt)

    async def _judge_slice(
        self, stream: Stream[Any], decoded: list[tuple[EventT, TranscriptSegment | None]], start: int
    ) -> int:
        """Judge the batch from `start` for at most `judge_slice_s` (and one segment more), then
        hand what was judged to delivery; returns where it stopped. A batch of costly segments
        is so delivered and committed piece by piece, never held for minutes."""
        deadline = time.monotonic() + self.settings.judge_slice_s
        deliveries = []
        end = start
        while end < len(decoded):
            event, segment = decoded[end]
            end += 1
            if segment is not None:
                deliveries.extend(await self._judge_segment(event, segment))
                if time.monotonic() > deadline:
                    break
        # Table writes go to the changelog partition of the current event: each room's state
        # is written as of the last event that changed it, so it restores where it belongs.
        await self._write_room_state(stream)
        # A slice is delivered while the next one is judged; one delivery at a time, so
        # offsets move in order and no more than two slices are held.
        if self._delivering is not None:
            await self._delivering
        judged = [event for event, _ in decoded[start:end]]
        self._delivering = asyncio.ensure_future(self._deliver(deliveries, judged))
        self._delivering.add_done_callback(self._delivered)
        self.health.ok()
        return end

    def _delivered(self, delivery: asyncio.Future[None]) -> None:
        # A delivery that failed after the client's own retries stops the worker even when no
        # slice follows to wait for it.
        if not delivery.cancelled() and delivery.exception() is not None:
            self._fail(cast(BaseException, delivery.exception()))

    async def _deliver(self, deliveries: list[Any], events: list[EventT]) -> None:
        # At-least-once: an offset moves only after every alert of its batch, and the table
        # changelogs written for it, are on the broker.
        if deliveries:
            await asyncio.gather(*deliveries)
        await self.app.producer.flush()
        self.offsets.delivered((event.message.tp, event.message.offset) for event in events)

    def _event_judged(self) -> EventT:
        assert self._judging is not None, "room state changes only while a segment is judged"
        return self._judging

    async def _commit(self, offsets: Any) -> bool:
        # Faust's own commit path skips partitions this worker no longer owns and keeps its
        # record of committed offsets current; its public commit() only commits acked events.
        return bool(await self.app.consumer._commit_offsets(offsets))  # type: ignore[attr-defined]  # Faust internal, see above

    async def _judge_segment(self, event: EventT, segment: TranscriptSegment) -> list[Any]:
        """Judge one decoded record; returns the futures of its alerts' delivery."""
        listing = self.judge.listing_for(segment)
        try:
            self._judging = event
            alerts = self.judge.segment(segment, listing)
        except Exception as exc:  # one bad segment must not stop the room: dead-letter it
            log.exception("failed on %s", _where(event))
            await self._deadletter(event, EventError(f"processing failed: {exc!r}", where=_where(event),
                                                     kind="processing"))
            return []
        emitted_at = datetime.now(UTC)
        return [
            await self.alerts.send(key=alert.room_id.encode(),
                                   value=alert.model_copy(update={"emitted_at": emitted_at}).model_dump_json().encode())
            for alert in alerts
        ]

    async def _log_counters(self) -> None:
        log.info("%s", self.counters.summary())

    async def _beat(self) -> None:
        if self.failure is None:
            self.health.ok()


class _QuietWorker(faust.Worker):
    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        quiet_client_logs(logger)


def run_worker(settings: Settings, loglevel: str = "info", say: Callable[[str], None] | None = None) -> None:
    """Run one worker until SIGTERM/SIGINT (topics are created if missing). `say` hears what
    happens before the worker's own logging starts: the rule set it judges with, and a broker
    that is awaited."""
    worker = Worker(settings, partitions=ensure_topics(settings, say=say))
    try:
        _QuietWorker(worker.app, loglevel=loglevel).execute_from_commandline()
    except SystemExit:
        if worker.failure is not None:
            raise WorkerFailed(f"the worker stopped on a failure of its own: {worker.failure!r}") from None
        raise
