"""The one judge that `claimwatch scan` and the stream worker both call.

Events go in in the order they arrive; for a segment: the listing in force at its time → the
engine on its text → claims split across segments (the room's window) → the repeat window → alerts.
State lives in mappings the caller provides (dicts for `scan`, changelogged Faust tables for the
worker), and the same code decides, so both publish the same alerts for the same events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from models.alerts import Alert
from models.events import ProductListing, TranscriptSegment
from pipeline.detect.engine import Engine
from pipeline.detect.facts import facts_for
from pipeline.errors import EventError
from pipeline.judge.build_alerts import build_alert, one_alert_per_claim
from pipeline.judge.dedup import Deduplicator, DedupState
from pipeline.judge.listings import InMemoryListings, ListingStore, add_listing_version, listing_as_of
from pipeline.judge.window import Claim, ContextState, ContextWindow, Said, claims_across
from pipeline.settings import Settings


@dataclass
class Counters:
    """What a judge has done: read by `scan`'s summary, the worker's log line and the tests."""

    segments: int = 0
    listings: int = 0
    alerts: int = 0
    repeats_suppressed: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def reject(self, error: EventError) -> None:
        self.rejected += 1
        self.by_reason[error.kind] = self.by_reason.get(error.kind, 0) + 1

    def summary(self) -> str:
        return (f"segments={self.segments} listings={self.listings} alerts={self.alerts} "
                f"repeats_suppressed={self.repeats_suppressed} rejected={self.rejected} {self.by_reason}")


def detect_segment(
    engine: Engine, segment: TranscriptSegment, listing: ProductListing | None, before: Sequence[Said] = ()
) -> list[Alert]:
    """A segment's alerts before the repeat window; with `before` (the earlier segments of a
    split claim) also the claims that cross from them into this segment."""
    return _detect(engine, segment, listing, before)[0]


def _detect(
    engine: Engine, segment: TranscriptSegment, listing: ProductListing | None, before: Sequence[Said]
) -> tuple[list[Alert], list[Claim]]:
    """The alerts, and the claims the segment makes (its own and those reaching into it) as
    offsets into its text, for the window to remember."""
    facts = facts_for(segment, listing)
    analysis = engine.analyze(segment.text)
    findings = engine.detect(analysis, facts)
    alerts = [build_alert(segment, f, facts, engine.version) for f in findings]
    claims = [(f.rule.spec.id, f.start, f.through) for f in findings]
    if before:
        own = [(f.rule.spec.id, f.start) for f in findings]
        across, reaching_in = claims_across(engine, segment, facts, before, own, analysis)
        alerts.extend(across)
        claims.extend(reaching_in)
    return one_alert_per_claim(alerts), claims


class Judge:
    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        *,
        listings: ListingStore | None = None,
        context_state: ContextState | None = None,
        dedup_state: DedupState | None = None,
    ):
        settings = settings or Settings()
        self.engine = engine
        self.listings: ListingStore = listings if listings is not None else InMemoryListings()
        self.window = ContextWindow(
            context_state if context_state is not None else {}, settings.context_segments, settings.context_window
        )
        self.dedup = Deduplicator(dedup_state if dedup_state is not None else {}, settings.dedup_window)
        self.counters = Counters()

    def event(self, event: TranscriptSegment | ProductListing) -> list[Alert]:
        if isinstance(event, ProductListing):
            self.listing(event)
            return []
        return self.segment(event, self.listing_for(event))

    def listing(self, listing: ProductListing) -> None:
        versions = add_listing_version(self.listings.versions(listing.product_id), listing)
        self.listings.put(listing.product_id, versions)
        self.counters.listings += 1

    def listing_for(self, segment: TranscriptSegment) -> ProductListing | None:
        """The listing of the segment's product in force when it was said, if any is known."""
        if not segment.product_id:
            return None
        return listing_as_of(self.listings.versions(segment.product_id), segment)

    def segment(self, segment: TranscriptSegment, listing: ProductListing | None) -> list[Alert]:
        """The alerts to publish for a segment judged against `listing` (see `listing_for`)."""
        found, claims = _detect(self.engine, segment, listing, self.window.before(segment))
        self.window.remember(segment, claims)
        alerts = self.dedup.admit(found)
        self.counters.segments += 1
        self.counters.alerts += len(alerts)
        self.counters.repeats_suppressed += len(found) - len(alerts)
        return alerts
