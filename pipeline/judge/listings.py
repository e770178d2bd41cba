"""Each product's listing history, and the version in force when a segment was said.

Joining on event time, not arrival order, is what lets the stream, where listings and transcripts
are separate topics read at their own pace, decide exactly as `scan` does. Where the history is
kept is the caller's: a dict in `scan`, a changelogged table in the worker (`ListingStore`).
"""

from __future__ import annotations

from typing import Protocol

from models.events import ProductListing, TranscriptSegment

LISTING_VERSIONS_KEPT = 16


class ListingStore(Protocol):
    """A product's listing versions in event-time order, newest last."""

    def versions(self, product_id: str) -> list[ProductListing]: ...

    def put(self, product_id: str, versions: list[ProductListing]) -> None: ...


class InMemoryListings:
    def __init__(self) -> None:
        self._versions: dict[str, list[ProductListing]] = {}

    def versions(self, product_id: str) -> list[ProductListing]:
        return self._versions.get(product_id, [])

    def put(self, product_id: str, versions: list[ProductListing]) -> None:
        self._versions[product_id] = versions


def add_listing_version(versions: list[ProductListing], listing: ProductListing) -> list[ProductListing]:
    """A product's listing history with one more version; a re-delivered version (same event_id)
    replaces itself, and only the newest versions are kept."""
    kept = [v for v in versions if v.event_id != listing.event_id] + [listing]
    kept.sort(key=lambda v: v.ts)
    return kept[-LISTING_VERSIONS_KEPT:]


def listing_as_of(versions: list[ProductListing], segment: TranscriptSegment) -> ProductListing | None:
    """The listing in force when the segment was said: the newest version not later than it."""
    current = None
    for version in versions:
        if version.ts <= segment.ts:
            current = version
        else:
            break
    return current
