from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.events import Category, ProductListing, TranscriptSegment, parse_event


def test_timestamps_accept_iso_and_epoch_millis() -> None:
    iso = parse_event({"type": "transcript", "event_id": "a", "room_id": "r", "ts": "2026-11-01T20:00:00+08:00", "text": "x"})
    millis = parse_event({"type": "transcript", "event_id": "a", "room_id": "r", "ts": 1761998400000, "text": "x"})
    assert iso.ts == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert millis.ts == datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    naive = parse_event({"type": "transcript", "event_id": "a", "room_id": "r", "ts": "2026-11-01T20:00:00", "text": "x"})
    assert naive.ts.tzinfo is not None


def test_discriminated_by_type() -> None:
    listing = parse_event({"type": "listing", "event_id": "l", "product_id": "p", "ts": 0, "category": "cosmetics",
                           "title": "面霜", "price": 99, "certifications": ["国妆特字G1"]})
    assert isinstance(listing, ProductListing) and listing.category is Category.cosmetics
    segment = parse_event({"type": "transcript", "event_id": "s", "room_id": "r", "ts": 0, "text": "hi"})
    assert isinstance(segment, TranscriptSegment)


def test_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_event({"type": "listing", "event_id": "l", "product_id": "p", "ts": 0, "category": "toys",
                     "title": "x", "price": "cheap"})
    fields = {err["loc"][-1] for err in caught.value.errors()}
    assert fields == {"category", "price"}


def test_extra_fields_are_kept() -> None:
    segment = parse_event({"type": "transcript", "event_id": "s", "room_id": "r", "ts": 0, "text": "hi", "asr_conf": 0.9})
    assert segment.model_dump()["asr_conf"] == 0.9


def test_negative_price_is_rejected() -> None:
    with pytest.raises(ValidationError):
        ProductListing(event_id="l", product_id="p", ts=0, category="food", title="x", price=-1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "99"), ("price", True), ("original_price", "199"), ("seq", True), ("seq", "3"), ("start_ms", "10")],
)
def test_numbers_must_be_json_numbers_not_strings_or_booleans(field: str, value: object) -> None:
    base: dict[str, object] = (
        {"type": "listing", "event_id": "l", "product_id": "p", "ts": 0, "category": "food", "title": "x", "price": 9}
        if field in ("price", "original_price")
        else {"type": "transcript", "event_id": "s", "room_id": "r", "ts": 0, "text": "hi"}
    )
    with pytest.raises(ValidationError) as caught:
        parse_event({**base, field: value})
    assert {err["loc"][-1] for err in caught.value.errors()} == {field}
    assert parse_event({**base, field: 7}).model_dump()[field] == 7
