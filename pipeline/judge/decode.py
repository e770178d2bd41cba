"""Decode and validate one input record. Shared by `scan` (records are lines) and the stream
(records are Kafka messages), so both reject the same records with the same reasons."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from models.events import ProductListing, TranscriptSegment, parse_event
from pipeline.errors import EventError
from pipeline.settings import MAX_TEXT_CHARS


def _field_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        # The discriminated union puts the event type first ("transcript.ts"); keep it as context.
        field = ".".join(loc[1:]) if len(loc) > 1 and loc[0] in ("transcript", "listing") else ".".join(loc)
        parts.append(f"field '{field or 'type'}': {err['msg']}")
    return "; ".join(parts)


def validate_event(data: Any, where: str, max_text_chars: int = MAX_TEXT_CHARS) -> TranscriptSegment | ProductListing:
    if not isinstance(data, dict):
        raise EventError(f"expected a JSON object, got {type(data).__name__}", where=where)
    if "type" not in data:
        raise EventError("field 'type': missing (expected 'transcript' or 'listing')", where=where)
    try:
        event = parse_event(data)
    except ValidationError as exc:
        raise EventError(_field_errors(exc), where=where) from None
    except (OverflowError, ValueError, OSError) as exc:  # e.g. a ts of 1e300 ms: no such time
        raise EventError(f"field 'ts': {exc}", where=where) from None
    if isinstance(event, TranscriptSegment) and len(event.text) > max_text_chars:
        raise EventError(
            f"field 'text': {len(event.text)} characters, over the limit of {max_text_chars}", where=where, kind="size"
        )
    return event


def decode_event(
    raw: bytes | str | None, where: str, max_text_chars: int = MAX_TEXT_CHARS
) -> TranscriptSegment | ProductListing:
    """Bytes or text of one JSON object to a validated event; EventError names what is wrong."""
    if raw is None:
        raise EventError("no value (a tombstone record)", where=where, kind="tombstone")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventError(f"not UTF-8: {exc.reason} at byte {exc.start}", where=where, kind="utf8") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in exc.msg:
            # Half an emoji ("\\ud83d" with no partner) is not text; nothing downstream can encode it.
            raise EventError(
                "not UTF-8: a lone surrogate (half of a character) in a text field", where=where, kind="utf8"
            ) from None
        raise EventError(f"invalid JSON: {exc.msg} at column {exc.colno}", where=where, kind="json") from None
    return validate_event(data, where, max_text_chars)
