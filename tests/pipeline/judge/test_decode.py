"""Records that are not events are rejected with a reason, never crash the reader."""

from __future__ import annotations

import pytest

from pipeline.errors import EventError
from pipeline.judge.decode import decode_event


@pytest.mark.parametrize(
    ("raw", "reason", "kind"),
    [
        (None, "tombstone", "tombstone"),
        (b"\xff\xfe", "not UTF-8", "utf8"),
        ("{oops", "invalid JSON", "json"),
        ("[1, 2]", "expected a JSON object", "schema"),
        ('{"type": "transcript", "event_id": "a", "room_id": "r", "ts": 1e300, "text": "x"}', "field 'ts'", "schema"),
        ('{"type": "transcript", "event_id": "a", "room_id": "r", "ts": 0, "text": "冲\\ud83d"}', "lone surrogate", "utf8"),
        ('{"type": "transcript", "event_id": "a", "room_id": "r", "ts": 0, "text": "' + "好" * 5001 + '"}',
         "over the limit", "size"),
    ],
)
def test_a_record_that_is_no_event_is_an_event_error(raw: object, reason: str, kind: str) -> None:
    """The kind, not the message's wording, is what dead letters and counters report."""
    with pytest.raises(EventError) as caught:
        decode_event(raw, where="t[0]@5")  # type: ignore[arg-type]
    assert str(caught.value).startswith("t[0]@5: ") and reason in str(caught.value)
    assert caught.value.kind == kind


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FIELDS = st.sampled_from(["type", "event_id", "room_id", "ts", "text", "product_id", "category", "seq", "price",
                           "title", "certifications", "attributes"])
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["transcript", "listing", "2026-11-20T20:00:00Z", "food"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_an_event_or_an_event_error(raw: bytes) -> None:
    try:
        decode_event(raw, where="fuzz")
    except EventError as exc:
        assert exc.kind in ("utf8", "json", "schema", "size") and str(exc).startswith("fuzz: ")


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_FIELDS, _VALUES, max_size=8))
def test_any_json_object_is_an_event_or_an_event_error_naming_a_field(record: dict) -> None:
    import json

    try:
        decode_event(json.dumps(record), where="fuzz")
    except EventError as exc:
        assert exc.kind in ("schema", "size", "utf8", "json")
        assert "field '" in exc.reason or "JSON object" in exc.reason or exc.kind != "schema"
