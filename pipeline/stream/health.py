"""The worker's health, for a probe: a small JSON file rewritten as the worker goes.

`{"status": "starting" | "ok" | "failed", "reason": …, "segments": n, "alerts": n,
"rejected": n, "updated_at": ISO time, "pid": n}`. While the worker judges and delivers, the file
is rewritten at most once a second; a probe reads `status` and how old `updated_at` is (a worker
that stopped moving stops rewriting it). A failure of the worker itself (not of a record) writes
`failed` with its reason before the worker stops.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pipeline.judge.judge import Counters

EVERY_S = 1.0


class Health:
    def __init__(self, path: Path | None, counters: Counters):
        self.path = path
        self.counters = counters
        self._written = 0.0
        self.status = "starting"
        self.reason: str | None = None

    def ok(self) -> None:
        """The worker made progress; rewritten at most once a second."""
        self.status = "ok"
        if time.monotonic() - self._written >= EVERY_S:
            self.write()

    def failed(self, reason: str) -> None:
        self.status, self.reason = "failed", reason
        self.write()

    def write(self) -> None:
        self._written = time.monotonic()
        if self.path is None:
            return
        counted = self.counters
        record = {"status": self.status, "reason": self.reason, "segments": counted.segments,
                  "alerts": counted.alerts, "rejected": counted.rejected,
                  "updated_at": datetime.now(UTC).isoformat(), "pid": os.getpid()}  # fmt: skip
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_bytes(orjson.dumps(record))
        partial.replace(self.path)  # a probe never reads half a file
