"""What is known of the product on air when a segment is judged: its listing, else the segment's
own category. Exceptions and listing checks read these facts; nothing else of the listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.events import Category, ProductListing, TranscriptSegment


@dataclass(frozen=True)
class ProductFacts:
    category: Category | None = None
    # None: the listing says nothing about certificates (unknown); (): it states there are none.
    certifications: tuple[str, ...] | None = None
    price: float | None = None
    original_price: float | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    source: str = "none"
    listed: bool = False  # the facts come from a listing, so claims can be compared with it
    # The listing they come from, by event id and time: the version an alert was judged against.
    listing_event_id: str | None = None
    listing_ts: datetime | None = None


def facts_for(segment: TranscriptSegment, listing: ProductListing | None) -> ProductFacts:
    """The listing is the authority on the product; the segment's own category is the fallback."""
    if listing is not None:
        return ProductFacts(
            category=listing.category,
            certifications=None if listing.certifications is None else tuple(listing.certifications),
            price=listing.price,
            original_price=listing.original_price,
            attributes=tuple(sorted(listing.attributes.items())),
            source=f"listing {listing.product_id}",
            listed=True,
            listing_event_id=listing.event_id,
            listing_ts=listing.ts,
        )
    if segment.category is not None:
        return ProductFacts(category=segment.category, source="segment")
    return ProductFacts()
