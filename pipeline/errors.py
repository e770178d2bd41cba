"""One base exception for everything Claimwatch raises on purpose, so callers catch one type."""

from __future__ import annotations


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


class EventError(ClaimwatchError):
    """An input record is not a valid event: names the record (line or offset) and the field."""

    def __init__(self, message: str, *, where: str, raw: bytes | str | None = None):
        self.where = where
        self.reason = message
        self.raw = raw
        super().__init__(f"{where}: {message}")
