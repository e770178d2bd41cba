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
