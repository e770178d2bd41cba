"""A sentence judged on its own: how rule examples and labelled corpus items become events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from models.events import Category, ProductListing, TranscriptSegment

CASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


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
