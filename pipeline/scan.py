"""Offline scan: a file of listing and transcript events in, alerts out, through the same core
as the stream. Listings are joined to segments by product_id, in file order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from models.alerts import Alert
from models.events import ProductListing, TranscriptSegment
from pipeline.core import detect_segment
from pipeline.decode import decode_event
from pipeline.engine import Engine
from pipeline.errors import EventError


@dataclass
class ScanStats:
    lines: int = 0
    segments: int = 0
    listings: int = 0
    alerts: int = 0
    rejected: list[EventError] = field(default_factory=list)


class Scanner:
    """Holds listing state across events; feed it events in order."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.listings: dict[str, ProductListing] = {}
        self.stats = ScanStats()

    def handle(self, event: TranscriptSegment | ProductListing) -> list[Alert]:
        if isinstance(event, ProductListing):
            self.stats.listings += 1
            self.listings[event.product_id] = event
            return []
        self.stats.segments += 1
        listing = self.listings.get(event.product_id) if event.product_id else None
        alerts = detect_segment(self.engine, event, listing)
        self.stats.alerts += len(alerts)
        return alerts

    def scan_lines(self, lines: Iterable[str]) -> Iterator[Alert]:
        """Blank lines are skipped; a bad line is recorded in stats.rejected and the rest goes on."""
        for number, line in enumerate(lines, start=1):
            self.stats.lines += 1
            if not line.strip():
                continue
            try:
                event = decode_event(line, where=f"line {number}")
            except EventError as exc:
                exc.raw = line
                self.stats.rejected.append(exc)
                continue
            yield from self.handle(event)
