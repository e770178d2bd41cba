"""The detection core shared by `claimwatch scan` and the stream worker: one segment, the listing
of its product (if known), and the engine in; alerts out. Nothing here does I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from models.alerts import Alert
from models.events import Category, ProductListing, TranscriptSegment
from pipeline.alerts import build_alert
from pipeline.engine import Engine
from pipeline.filters import ProductFacts


def facts_for(segment: TranscriptSegment, listing: ProductListing | None) -> ProductFacts:
    """The listing is the authority on the product; the segment's own category is the fallback."""
    if listing is not None:
        return ProductFacts(
            category=listing.category,
            certifications=tuple(listing.certifications),
            price=listing.price,
            original_price=listing.original_price,
            attributes=tuple(sorted(listing.attributes.items())),
            source=f"listing {listing.product_id}",
        )
    if segment.category is not None:
        return ProductFacts(category=segment.category, source="segment")
    return ProductFacts()


def detect_segment(engine: Engine, segment: TranscriptSegment, listing: ProductListing | None) -> list[Alert]:
    facts = facts_for(segment, listing)
    analysis = engine.analyze(segment.text)
    return [build_alert(segment, f, analysis, facts, engine.version) for f in engine.detect(analysis, facts)]


LISTING_VERSIONS_KEPT = 16


def add_listing_version(versions: list[ProductListing], listing: ProductListing) -> list[ProductListing]:
    """A product's listing history in event-time order, newest last; a re-delivered version
    (same event_id) replaces itself, and only the newest versions are kept."""
    kept = [v for v in versions if v.event_id != listing.event_id] + [listing]
    kept.sort(key=lambda v: v.ts)
    return kept[-LISTING_VERSIONS_KEPT:]


def listing_as_of(versions: list[ProductListing], segment: TranscriptSegment) -> ProductListing | None:
    """The listing in force when the segment was said: the newest version not later than it.
    Joining on event time, not arrival order, is what lets the stream, where listings and
    transcripts are separate topics read at their own pace, decide exactly as `scan` does."""
    current = None
    for version in versions:
        if version.ts <= segment.ts:
            current = version
        else:
            break
    return current


CASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


def standalone_case(
    case_id: str, text: str, category: Category | str | None, listing: Mapping[str, Any] | None, room_id: str
) -> tuple[TranscriptSegment, ProductListing | None]:
    """A sentence judged on its own, with the listing of its product when the case gives one:
    how rule examples and labelled corpus items become events."""
    product_id = f"{case_id}-product"
    segment = TranscriptSegment(
        event_id=case_id, room_id=room_id, product_id=product_id, ts=CASE_TIME, text=text, category=category
    )
    if listing is None:
        return segment, None
    data = {"title": text[:20], "price": 0.0, "category": category or "other", **listing}
    data.update(type="listing", event_id=f"{case_id}-listing", product_id=product_id, ts=CASE_TIME)
    return segment, ProductListing.model_validate(data)
