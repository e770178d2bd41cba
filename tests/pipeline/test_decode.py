"""Records that are not events are rejected with a reason, never crash the reader."""

from __future__ import annotations

import pytest

from pipeline.decode import decode_event
from pipeline.errors import EventError


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "tombstone"),
        (b"\xff\xfe", "not UTF-8"),
        ('{"type": "transcript", "event_id": "a", "room_id": "r", "ts": 1e300, "text": "x"}', "field 'ts'"),
        ('{"type": "transcript", "event_id": "a", "room_id": "r", "ts": 0, "text": "冲\\ud83d"}', "lone surrogate"),
    ],
)
def test_a_record_that_is_no_event_is_an_event_error(raw: object, reason: str) -> None:
    with pytest.raises(EventError) as caught:
        decode_event(raw, where="t[0]@5")  # type: ignore[arg-type]
    assert str(caught.value).startswith("t[0]@5: ") and reason in str(caught.value)
