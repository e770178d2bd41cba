"""The stream worker: Faust agents that do what `claimwatch scan` does, continuously.

Topics (the prefix is a setting): `<prefix>transcripts` (key room_id) and `<prefix>listings` (key
product_id) in, `<prefix>alerts` (key room_id) and `<prefix>deadletter` out. Listings live in a
GlobalTable backed by its changelog, so every worker knows every product; dedup state lives in a
Table keyed by room, co-partitioned with the transcripts. Each segment goes through
`pipeline.core.detect_segment` and the same `Deduplicator` as `scan`, so both publish the same
alerts. The worker commits transcript offsets itself, and only after the alerts of their events
(and the dedup state written for them) are on the broker: Faust's own acking is switched off for
that topic, because it could commit an event that was read but not yet delivered.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Mapping, TypeVar

import faust
from faust.types import TP, EventT, StreamT

from models.events import ProductListing, TranscriptSegment
from pipeline.context import ContextWindow
from pipeline.core import add_listing_version, detect_segment, listing_as_of
from pipeline.decode import decode_event
from pipeline.dedup import Deduplicator
from pipeline.engine import Engine
from pipeline.errors import EventError
from pipeline.rules import load_ruleset
from pipeline.settings import Settings
from pipeline.topics import ensure_topics

log = logging.getLogger("claimwatch.worker")
Event = TypeVar("Event", TranscriptSegment, ProductListing)


@dataclass
class Counters:
    """What the worker has done; logged periodically and readable by tests."""

    segments: int = 0
    listings: int = 0
    alerts: int = 0
    repeats_suppressed: int = 0
    deadlettered: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


class DeliveredOffsets:
    """Next offset to commit per partition, advanced only once an event's alerts are delivered.

    Commits run in the background and coalesce, so a slow commit never holds up the next batch;
    a failed one (a rebalance took the partition) is only logged: the events are then read again
    and give the same alert ids."""

    def __init__(self, commit: Callable[[Mapping[TP, int]], Awaitable[bool]]):
        self._commit = commit
        self._pending: dict[TP, int] = {}
        self._task: asyncio.Future[None] | None = None

    def delivered(self, events: Iterable[EventT]) -> None:
        for event in events:
            self._pending[event.message.tp] = event.message.offset + 1
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._drain())

    async def flush(self) -> None:
        """Wait until everything delivered so far has been committed (or has failed to be)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._pending:
            await self._drain()

    async def _drain(self) -> None:
        while self._pending:
            offsets, self._pending = self._pending, {}
            try:
                done = await self._commit(offsets)
            except Exception as exc:  # noqa: BLE001 - at-least-once: uncommitted events are re-read
                done, reason = False, repr(exc)
            else:
                reason = "partitions no longer assigned, or the broker refused"
            if not done:
                log.warning("offsets not committed (%s); those events will be processed again: %s", reason, offsets)


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol == "PLAINTEXT":
        return None
    context = None
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None)
        if settings.ssl_certfile:
            context.load_cert_chain(str(settings.ssl_certfile), str(settings.ssl_keyfile) if settings.ssl_keyfile else None)
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(context)
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else None
    return faust.SASLCredentials(
        username=settings.sasl_username,
        password=password,
        mechanism=settings.sasl_mechanism,
        ssl_context=context,
    )


def _log_crash(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("judging transcripts stopped: %r; the agent restarts on its next event", task.exception())


def _reason(exc: EventError) -> str:
    """A short category for the dead-letter counter: json, utf8, schema or size."""
    text = exc.reason
    if text.startswith("not UTF-8"):
        return "utf8"
    if text.startswith("invalid JSON"):
        return "json"
    if "over the limit" in text:
        return "size"
    return "schema"


class Worker:
    """Builds the Faust app for one settings object; `app` is what `faust` runs."""

    def __init__(self, settings: Settings, engine: Engine | None = None, partitions: dict[str, int] | None = None):
        """`partitions`: the input topics' partition counts as found on the broker; each table
        must have as many as the topic it is keyed like, whatever `settings.partitions` says."""
        self.settings = settings
        self.engine = engine or Engine(load_ruleset(settings.rules_dir))
        self.counters = Counters()
        self.app = faust.App(
            settings.consumer_group,
            broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
            broker_credentials=_credentials(settings),
            store="memory://",
            topic_partitions=settings.partitions,
            topic_replication_factor=settings.replication_factor,
            value_serializer="raw",
            key_serializer="raw",
            web_enabled=False,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=1.0,
            broker_session_timeout=settings.session_timeout_s,
            broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
            producer_acks=-1,
            processing_guarantee="at_least_once",
            stream_wait_empty=False,
        )
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
        as_json = faust.Schema(key_serializer="json", value_serializer="json")
        self.listings = self.app.GlobalTable("listings", default=None, partitions=listing_partitions, schema=as_json)
        self.dedup_state = self.app.Table("dedup", default=dict, partitions=transcript_partitions, schema=as_json)
        # Each room's last segments, for claims split across segments (pipeline.context).
        self.context_state = self.app.Table("context", default=list, partitions=transcript_partitions, schema=as_json)
        # Next offset to apply, per listings partition: lets a segment batch wait for listings
        # already on the topic, so a listing sent before a segment is used for it.
        self._listing_positions: dict[int, int] = {}
        self._graced: set[str] = set()
        self.offsets = DeliveredOffsets(self._commit)
        self._parsed_listings: dict[str, tuple[Any, list[ProductListing]]] = {}
        self.app.agent(self.listings_topic, name="claimwatch.listings")(self._consume_listings)
        self.app.agent(self.transcripts, name="claimwatch.transcripts")(self._consume_transcripts)
        self.app.timer(30.0)(self._log_counters)

    # --- dead letters -------------------------------------------------------------------------

    async def _deadletter(self, event: EventT, exc: EventError) -> None:
        """Keep the original bytes with the reason and where they came from; nothing is lost."""
        message = event.message
        raw = message.value if isinstance(message.value, bytes) else b"" if message.value is None else str(message.value).encode()
        reason = _reason(exc)
        record = {
            "error": exc.reason,
            "reason": reason,
            "source": {"topic": message.topic, "partition": message.partition, "offset": message.offset},
            "key_base64": base64.b64encode(message.key).decode() if isinstance(message.key, bytes) else None,
            "value_base64": base64.b64encode(raw).decode(),
            "received_at": datetime.now(timezone.utc).isoformat(),
        }
        self.counters.deadlettered += 1
        self.counters.by_reason[reason] = self.counters.by_reason.get(reason, 0) + 1
        log.warning("dead-lettered %s[%s]@%s: %s", message.topic, message.partition, message.offset, exc.reason)
        await self.deadletter.send(key=message.key, value=json.dumps(record, ensure_ascii=False).encode())

    async def _decode_or_deadletter(self, event: EventT, expected: type[Event]) -> Event | None:
        """The event, if it is valid and of the type this topic carries; else dead-letter it."""
        message = event.message
        where = f"{message.topic}[{message.partition}]@{message.offset}"
        try:
            decoded = decode_event(message.value, where=where, max_text_chars=self.settings.max_text_chars)
            if not isinstance(decoded, expected):
                raise EventError(f"field 'type': {decoded.type!r} does not belong on this topic", where=where)
        except EventError as exc:
            await self._deadletter(event, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - no record may stop the worker; keep it instead
            log.exception("could not decode %s", where)
            await self._deadletter(event, EventError(f"could not decode: {exc!r}", where=where))
            return None
        return decoded

    # --- listings -----------------------------------------------------------------------------

    async def _consume_listings(self, stream: StreamT) -> None:
        async for event in stream.events():
            message = event.message
            listing = await self._decode_or_deadletter(event, ProductListing)
            if listing is not None:
                versions = add_listing_version(self._listing_versions(listing.product_id), listing)
                self.listings[listing.product_id] = [v.model_dump(mode="json") for v in versions]
                self.counters.listings += 1
            self._listing_positions[message.partition] = message.offset + 1

    def _listing(self, segment: TranscriptSegment) -> ProductListing | None:
        if not segment.product_id:
            return None
        return listing_as_of(self._listing_versions(segment.product_id), segment)

    def _listing_versions(self, product_id: str) -> list[ProductListing]:
        """A product's parsed listing versions. Parsed once per table value: the table holds
        the stored object until a new version replaces it (here or from the changelog)."""
        stored = self.listings.get(product_id)
        cached = self._parsed_listings.get(product_id)
        if cached is not None and cached[0] is stored:
            return cached[1]
        versions = [ProductListing.model_validate(v) for v in stored or []]
        self._parsed_listings[product_id] = (stored, versions)
        return versions

    async def _await_listings(self) -> None:
        """Wait (bounded) until every listings partition this worker reads is applied up to its
        end offset on the broker, so a listing sent before a segment is known when it is judged."""
        consumer = self.app.consumer
        topic = self.listings_topic.get_topic_name()
        mine = [tp for tp in consumer.assignment() if tp.topic == topic]
        if not mine:
            return
        ends = await consumer.highwaters(*mine)
        deadline = time.monotonic() + self.settings.listing_wait_s
        while time.monotonic() < deadline:
            if all(self._listing_position(consumer, tp) >= (end or 0) for tp, end in ends.items()):
                return
            await asyncio.sleep(0.005)
        log.warning("listings still behind after %.1fs; judging the batch with what is known", self.settings.listing_wait_s)

    def _listing_position(self, consumer: Any, tp: Any) -> int:
        """Next listings offset this worker has applied. Before it applies one after a (re)start,
        the committed offset: everything before it is already in the table, restored from its
        changelog. (Faust keeps committed offsets only in `_committed_offset`.)"""
        committed = getattr(consumer, "_committed_offset", {}).get(tp) or 0
        return max(self._listing_positions.get(tp.partition, 0), committed)

    # --- transcripts --------------------------------------------------------------------------

    async def _consume_transcripts(self, stream: StreamT) -> None:
        """Reads events one by one into a bounded queue that a second task judges in batches.
        (Faust's take/noack_take buffers can drop events that arrive while a batch is being
        processed: their background filler may clear the guard meant to hold it back.)"""
        settings = self.settings
        queue: asyncio.Queue[EventT] = asyncio.Queue(maxsize=settings.batch_size)
        judge = asyncio.ensure_future(self._judge_batches(stream, queue))
        judge.add_done_callback(_log_crash)
        try:
            # A noack() child, so the per-event table context set while judging cannot leak
            # into the stream being read.
            async for event in stream.noack().events():
                if judge.done():
                    judge.result()  # the judge crashed: raise its error here, in the agent
                await queue.put(event)
        finally:
            judge.cancel()
            # A clean stop commits what was delivered, so a restart does not send it again.
            await asyncio.wait_for(self.offsets.flush(), timeout=10)
            await self._log_counters()

    async def _judge_batches(self, stream: StreamT, queue: asyncio.Queue[EventT]) -> None:
        settings = self.settings
        dedup = Deduplicator(self.dedup_state, settings.dedup_window)
        context = ContextWindow(self.context_state, settings.context_segments, settings.context_window)
        loop = asyncio.get_running_loop()
        while True:
            events = [await queue.get()]
            deadline = loop.time() + settings.batch_within_s
            while len(events) < settings.batch_size:
                try:
                    events.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    if loop.time() >= deadline:
                        break
                    await asyncio.sleep(0.005)
            await self._judge_batch(stream, events, dedup, context)

    async def _judge_batch(
        self, stream: StreamT, events: list[EventT], dedup: Deduplicator, context: ContextWindow
    ) -> None:
        await self._await_listings()
        deliveries = []
        for event in events:
            deliveries.extend(await self._process_segment(stream, event, dedup, context))
        # At-least-once: an offset moves only after every alert of its batch, and the dedup and
        # context changelogs written for it, are on the broker.
        if deliveries:
            await asyncio.gather(*deliveries)
        await self.app.producer.flush()
        self.offsets.delivered(events)

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        # Faust's own commit path skips partitions this worker no longer owns and keeps its
        # record of committed offsets current; its public commit() only commits acked events.
        return bool(await self.app.consumer._commit_offsets(offsets))

    async def _process_segment(
        self, stream: StreamT, event: EventT, dedup: Deduplicator, context: ContextWindow
    ) -> list[Any]:
        message = event.message
        segment = await self._decode_or_deadletter(event, TranscriptSegment)
        if segment is None:
            return []
        listing = self._listing(segment)
        if listing is None and segment.product_id and segment.product_id not in self._graced:
            # A product with no listing yet: its listing may be in flight from the same producer
            # on the other topic. Look once more after a short grace, once per product.
            self._graced.add(segment.product_id)
            await asyncio.sleep(self.settings.listing_grace_s)
            await self._await_listings()
            listing = self._listing(segment)
        try:
            found = detect_segment(self.engine, segment, listing, context.before(segment))
            # Table writes go to the changelog partition of the current event: point it at this
            # event, not the last one of the batch, so a room's state restores where it belongs.
            stream._set_current_event(event)
            context.remember(segment)
            alerts = dedup.admit(found)
        except Exception as exc:  # one bad segment must not stop the room: dead-letter it
            where = f"{message.topic}[{message.partition}]@{message.offset}"
            log.exception("failed on %s", where)
            await self._deadletter(event, EventError(f"processing failed: {exc!r}", where=where))
            return []
        self.counters.segments += 1
        self.counters.alerts += len(alerts)
        self.counters.repeats_suppressed += len(found) - len(alerts)
        futures = []
        for alert in alerts:
            futures.append(
                await self.alerts.send(key=alert.room_id.encode(), value=alert.model_dump_json().encode())
            )
        return futures

    async def _log_counters(self) -> None:
        c = self.counters
        log.info(
            "segments=%d listings=%d alerts=%d repeats_suppressed=%d deadlettered=%d %s",
            c.segments, c.listings, c.alerts, c.repeats_suppressed, c.deadlettered, c.by_reason,
        )


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run one worker until SIGTERM/SIGINT (topics are created if missing)."""
    worker = Worker(settings, partitions=ensure_topics(settings))
    faust.Worker(worker.app, loglevel=loglevel).execute_from_commandline()
