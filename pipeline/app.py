"""The stream worker: Faust agents that do what `claimwatch scan` does, continuously.

Topics (the prefix is a setting): `<prefix>transcripts` (key room_id) and `<prefix>listings` (key
product_id) in, `<prefix>alerts` (key room_id) and `<prefix>deadletter` out. Listings live in a
GlobalTable backed by its changelog, so every worker knows every product; dedup state lives in a
Table keyed by room, co-partitioned with the transcripts. Each segment goes through
`pipeline.core.detect_segment` and the same `Deduplicator` as `scan`, so both publish the same
alerts. Offsets are acknowledged only after the alerts of their events are delivered.
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
from typing import Any, TypeVar

import faust
from faust.types import EventT, StreamT

from models.events import ProductListing, TranscriptSegment
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

    def __init__(self, settings: Settings, engine: Engine | None = None):
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
        partitions = settings.partitions
        self.transcripts = self.app.topic(settings.topic("transcripts"), partitions=partitions, value_serializer="raw")
        self.listings_topic = self.app.topic(settings.topic("listings"), partitions=partitions, value_serializer="raw")
        self.alerts = self.app.topic(settings.topic("alerts"), partitions=partitions, value_serializer="raw")
        self.deadletter = self.app.topic(settings.topic("deadletter"), partitions=partitions, value_serializer="raw")
        as_json = faust.Schema(key_serializer="json", value_serializer="json")
        self.listings = self.app.GlobalTable("listings", default=None, partitions=partitions, schema=as_json)
        self.dedup_state = self.app.Table("dedup", default=dict, partitions=partitions, schema=as_json)
        # Next offset to apply, per listings partition: lets a segment batch wait for listings
        # already on the topic, so a listing sent before a segment is used for it.
        self._listing_positions: dict[int, int] = {}
        self._graced: set[str] = set()
        self.app.agent(self.listings_topic, name="claimwatch.listings")(self._consume_listings)
        self.app.agent(self.transcripts, name="claimwatch.transcripts")(self._consume_transcripts)
        self.app.timer(30.0)(self._log_counters)

    # --- dead letters -------------------------------------------------------------------------

    async def _deadletter(self, event: EventT, exc: EventError) -> None:
        """Keep the original bytes with the reason and where they came from; nothing is lost."""
        message = event.message
        raw = message.value if isinstance(message.value, bytes) else str(message.value).encode()
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
        return decoded

    # --- listings -----------------------------------------------------------------------------

    async def _consume_listings(self, stream: StreamT) -> None:
        async for event in stream.events():
            message = event.message
            listing = await self._decode_or_deadletter(event, ProductListing)
            if listing is not None:
                known = [ProductListing.model_validate(v) for v in self.listings.get(listing.product_id) or []]
                versions = add_listing_version(known, listing)
                self.listings[listing.product_id] = [v.model_dump(mode="json") for v in versions]
                self.counters.listings += 1
            self._listing_positions[message.partition] = message.offset + 1

    def _listing(self, segment: TranscriptSegment) -> ProductListing | None:
        if not segment.product_id:
            return None
        versions = [ProductListing.model_validate(v) for v in self.listings.get(segment.product_id) or []]
        return listing_as_of(versions, segment)

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
        settings = self.settings
        dedup = Deduplicator(self.dedup_state, settings.dedup_window)
        # Known gap (see the README): events reach this batch through a stream.noack() child, but
        # the agent's own stream still acks them as they are read (faust-streaming issue #189), so
        # a commit can run ahead of the alerts and a SIGKILLed worker can lose some. Calling
        # noack_take on the agent's stream itself made batches and dedup go astray in our tests.
        async for events in stream.noack().noack_take(settings.batch_size, within=settings.batch_within_s):
            await self._await_listings()
            deliveries = []
            for event in events:
                deliveries.extend(await self._process_segment(stream, event, dedup))
            # At-least-once: offsets move only after every alert of the batch, and the dedup
            # changelog written for it, are on the broker.
            if deliveries:
                await asyncio.gather(*deliveries)
            await self.app.producer.flush()
            for event in events:
                await stream.ack(event)

    async def _process_segment(self, stream: StreamT, event: EventT, dedup: Deduplicator) -> list[Any]:
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
            found = detect_segment(self.engine, segment, listing)
            # Table writes go to the changelog partition of the current event: point it at this
            # event, not the last one of the batch, so a room's state restores where it belongs.
            stream._set_current_event(event)
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
    ensure_topics(settings)
    worker = Worker(settings)
    faust.Worker(worker.app, loglevel=loglevel).execute_from_commandline()
