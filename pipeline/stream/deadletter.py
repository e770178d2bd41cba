"""Dead letters: a rejected record kept whole, with why and where it came from."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from pipeline.errors import EventError


def deadletter_record(
    error: EventError, *, topic: str, partition: int, offset: int, key: bytes | None, value: object, now: datetime
) -> bytes:
    """The dead-letter value: the original bytes (base64), the reason and the record's origin."""
    raw = value if isinstance(value, bytes) else b"" if value is None else str(value).encode()
    record = {
        "error": error.reason,
        "reason": error.kind,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "key_base64": base64.b64encode(key).decode() if isinstance(key, bytes) else None,
        "value_base64": base64.b64encode(raw).decode(),
        "received_at": now.isoformat(),
    }
    return json.dumps(record, ensure_ascii=False).encode()
