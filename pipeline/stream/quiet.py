"""The Kafka clients' own log lines, rate-limited, and the worker's word on the broker.

While the broker is away, aiokafka logs every failed connection attempt, about a hundred lines a
second, and nothing says what the worker is doing. Each distinct client message (by its format)
is let through once every QUIET_S seconds, with how many like it were held back since, and the
first such error says in the worker's own words that it is waiting for the broker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

QUIET_S = 30.0
CLIENT_LOGGERS = ("aiokafka", "kafka")
# What the clients say when the broker cannot be reached (not a harmless error at start-up).
UNREACHABLE = ("Unable connect", "Connect call failed", "KafkaConnectionError", "NodeNotReadyError")
# A group's coordinator is not known yet, logged as an error and retried: on a broker that has
# never had a consumer group it creates __consumer_offsets first, so every first start said
# "[ERROR] … CoordinatorNotAvailableError" about nothing wrong. Held back for this long after the
# worker starts; one that lasts longer is a real problem and is shown.
COORDINATOR_LOOKUP = "Group Coordinator Request failed"
START_GRACE_S = 60.0

log = logging.getLogger("claimwatch.worker")


class QuietClientLogs(logging.Filter):
    def __init__(self, every_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every_s = every_s
        self._clock = clock
        self._last: dict[tuple[str, object], float] = {}
        self._held: dict[tuple[str, object], int] = {}
        self._said_waiting: float | None = None
        self._started = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(CLIENT_LOGGERS):
            return True
        key = (record.name, record.msg)
        now = self._clock()
        message = record.getMessage()
        if _retried_coordinator_lookup(record) and now - self._started < START_GRACE_S:
            return False
        if any(sign in message for sign in UNREACHABLE) and (
            self._said_waiting is None or now - self._said_waiting >= self.every_s
        ):
            self._said_waiting = now
            log.warning("the broker cannot be reached; the worker waits and retries, and judges again once it is "
                        "back (the client's repeated messages are shown once every %.0f s)", self.every_s)
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like it in the last {self.every_s:.0f} s)"
        return True


def _retried_coordinator_lookup(record: logging.LogRecord) -> bool:
    error = record.args[0] if isinstance(record.args, tuple) and record.args else None
    return str(record.msg).startswith(COORDINATOR_LOOKUP) and bool(getattr(error, "retriable", False))


def quiet_client_logs(root: logging.Logger, every_s: float = QUIET_S) -> QuietClientLogs:
    """Install the filter on every handler of the root logger (where the clients' lines end up)."""
    quiet = QuietClientLogs(every_s)
    for handler in root.handlers:
        handler.addFilter(quiet)
    return quiet
