"""Offline scan: a file of listing and transcript events in, alerts out, through the same core
as the stream. A segment is joined by product_id to the newest listing version seen so far whose
`ts` is not later than the segment's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from models.alerts import Alert
from models.events import ProductListing, TranscriptSegment
from pipeline.context import ContextWindow
from pipeline.core import add_listing_version, detect_segment, listing_as_of
from pipeline.decode import MAX_TEXT_CHARS, decode_event
from pipeline.dedup import Deduplicator
from pipeline.engine import Engine
from pipeline.errors import EventError
from pipeline.settings import Settings


@dataclass
class ScanStats:
    lines: int = 0
    segments: int = 0
    listings: int = 0
    alerts: int = 0
    repeats_suppressed: int = 0
    rejected: list[EventError] = field(default_factory=list)


class Scanner:
    """Holds listing and dedup state across events; feed it events in order."""

    def __init__(
        self,
        engine: Engine,
        dedup_window: timedelta = timedelta(seconds=60),
        max_text_chars: int = MAX_TEXT_CHARS,
        context: ContextWindow | None = None,
    ):
        self.engine = engine
        self.listings: dict[str, list[ProductListing]] = {}
        self.dedup = Deduplicator({}, dedup_window)
        self.context = context or ContextWindow({})
        self.max_text_chars = max_text_chars
        self.stats = ScanStats()

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Scanner:
        """A scanner configured as the stream worker is, so both give the same alerts."""
        context = ContextWindow({}, settings.context_segments, settings.context_window)
        return cls(engine, settings.dedup_window, settings.max_text_chars, context)

    def handle(self, event: TranscriptSegment | ProductListing) -> list[Alert]:
        if isinstance(event, ProductListing):
            self.stats.listings += 1
            self.listings[event.product_id] = add_listing_version(self.listings.get(event.product_id, []), event)
            return []
        self.stats.segments += 1
        versions = self.listings.get(event.product_id, []) if event.product_id else []
        listing = listing_as_of(versions, event)
        found = detect_segment(self.engine, event, listing, self.context.before(event))
        self.context.remember(event)
        alerts = self.dedup.admit(found)
        self.stats.repeats_suppressed += len(found) - len(alerts)
        self.stats.alerts += len(alerts)
        return alerts

    def scan_lines(self, lines: Iterable[str]) -> Iterator[Alert]:
        """Blank lines are skipped; a bad line is recorded in stats.rejected and the rest goes on."""
        for number, line in enumerate(lines, start=1):
            self.stats.lines += 1
            if not line.strip():
                continue
            try:
                event = decode_event(line, where=f"line {number}", max_text_chars=self.max_text_chars)
            except EventError as exc:
                exc.raw = line
                self.stats.rejected.append(exc)
                continue
            yield from self.handle(event)
