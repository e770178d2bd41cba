"""Every error Claimwatch raises on purpose, in one hierarchy under `ClaimwatchError`, so a caller
catches one type and a command prints one line. Each says what failed and where (file and line,
record, topic or port)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """" (did you mean X?)" for the known name nearest a misspelt one, or "" when none is near."""
    near = difflib.get_close_matches(given, list(known), n=1)
    return f" (did you mean {near[0]}?)" if near else ""


# Exit statuses, one table for every command (the README prints it).
EXIT_OK = 0
EXIT_FINDINGS = 1  # it ran, and found problems in its input (rejected lines, failing examples)
EXIT_USAGE = 2  # it could not start: a usage, setting, rule-set or connection-setup mistake
EXIT_KAFKA = 3  # Kafka could not be reached (or the embedded broker could not be started)
EXIT_WORKER_FAILED = 70  # the worker stopped on a failure of its own (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # a signal stopped a command before it had done its job


class ClaimwatchError(Exception):
    """Base of every error Claimwatch raises deliberately. `exit_status` is what a command
    exits with when this error ends it."""

    exit_status = EXIT_FINDINGS


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

    exit_status = EXIT_USAGE

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

    exit_status = EXIT_USAGE


class BrokerUnreachable(ClaimwatchError):
    """No bootstrap address answered (nothing listening, or no Kafka answering) within the wait:
    an outage, or a wrong address. Names the addresses and how long it waited."""

    exit_status = EXIT_KAFKA


class ConnectionSetupError(ClaimwatchError):
    """The broker answers, but not to these settings: names the address and the likely cause."""

    exit_status = EXIT_USAGE


class TopicError(ClaimwatchError):
    """The pipeline's topics could not be created or checked."""

    exit_status = EXIT_KAFKA


class RecordError(ClaimwatchError):
    """Recording (or tailing) could not start: a topic it was asked for is not on the broker."""

    exit_status = EXIT_USAGE


class BrokerError(ClaimwatchError):
    """The embedded Kafka broker could not be fetched, started or kept running; says what failed."""

    exit_status = EXIT_KAFKA


class BrokerInterrupted(BrokerError):
    """start() was cancelled (SIGTERM/SIGINT during start-up); the broker has been stopped."""


class WorkerFailed(ClaimwatchError):
    """The worker stopped on a failure of its own (not of a record): nothing past it was committed."""

    exit_status = EXIT_WORKER_FAILED


class WorkerStartError(ClaimwatchError):
    """The worker subprocess exited or did not become ready."""

    exit_status = EXIT_WORKER_FAILED
