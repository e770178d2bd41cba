"""Every error Claimwatch raises on purpose, in one hierarchy under `ClaimwatchError`, so a caller
catches one type and a command prints one line. Each says what failed and where (file and line,
record, topic or port)."""

from __future__ import annotations

from typing import Literal


class ClaimwatchError(Exception):
    """Base of every error Claimwatch raises deliberately."""


class RuleError(ClaimwatchError):
    """A rule file is invalid: names the file, the line when known, and the rule id."""

    def __init__(self, message: str, *, file: str, rule_id: str | None = None, line: int | None = None):
        self.file = file
        self.rule_id = rule_id
        self.line = line
        self.reason = message
        super().__init__(self.location() + ": " + message)

    def location(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return where + (f" [{self.rule_id}]" if self.rule_id else "")


class RuleSetError(ClaimwatchError):
    """A rule set could not be loaded; carries every problem found, not only the first."""

    def __init__(self, problems: list[RuleError]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# Why a record was rejected; the dead-letter topic and the counters report it.
#   tombstone: no value at all; utf8: not UTF-8; json: not JSON; schema: not a valid event (or not
#   one that belongs on its topic); size: text over the limit; processing: judging it failed.
RejectKind = Literal["tombstone", "utf8", "json", "schema", "size", "processing"]


class EventError(ClaimwatchError):
    """An input record is not a valid event: names the record (line or offset) and the field."""

    def __init__(self, message: str, *, where: str, kind: RejectKind = "schema", raw: bytes | str | None = None):
        self.where = where
        self.reason = message
        self.kind: RejectKind = kind
        self.raw = raw
        super().__init__(f"{where}: {message}")


class SettingsError(ClaimwatchError):
    """A setting (CLAIMWATCH_* variable or flag) is invalid: names it and says what is wrong."""


class TopicError(ClaimwatchError):
    """The pipeline's topics could not be created or checked."""


class RecordError(ClaimwatchError):
    """Recording could not start: a topic is missing or the broker is unreachable."""


class BrokerError(ClaimwatchError):
    """The embedded Kafka broker could not be fetched, started or kept running; says what failed."""


class BrokerInterrupted(BrokerError):
    """start() was cancelled (SIGTERM/SIGINT during start-up); the broker has been stopped."""


class WorkerFailed(ClaimwatchError):
    """The worker stopped on a failure of its own (not of a record): nothing past it was committed."""


class WorkerStartError(ClaimwatchError):
    """The worker subprocess exited or did not become ready."""
