"""The detection core shared by `claimwatch scan` and the stream worker: one segment, the listing
of its product (if known), and the engine in; alerts out. Nothing here does I/O."""

from __future__ import annotations

from models.alerts import Alert
from models.events import ProductListing, TranscriptSegment
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
