"""SARIF 2.1.0 logs of `rules lint` and `rules test`: the format GitHub code scanning (and other
code hosts) read to annotate files, so a CI run marks the rule file and line of each problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL = "claimwatch"

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Check:
    """A kind of problem (a SARIF reportingDescriptor): code hosts group and filter by it."""

    id: str
    name: str
    level: Level
    description: str


RULE_ERROR = Check("rule-error", "RuleSetError", "error",
                   "The rule set does not load: a schema error, a duplicate id, an unknown reference, a circle of "
                   "fragments or lists, a regex RE2 rejects, or a size limit.")  # fmt: skip
RULE_WARNING = Check("rule-warning", "RuleSetWarning", "warning",
                     "Advice on the rule set (an unused definition, a word listed twice, the same regex twice, a "
                     "regex too long to review); `rules lint --strict` fails on it.")  # fmt: skip
SHOULD_FIRE = Check("example-should-fire", "ExampleShouldFire", "error",
                    "A `hit` example of the rule did not fire through the real pipeline.")  # fmt: skip
SHOULD_STAY_QUIET = Check("example-should-stay-quiet", "ExampleShouldStayQuiet", "error",
                          "A `miss` example of the rule fired through the real pipeline.")  # fmt: skip
TODO_FIRES = Check("todo-hit-fires", "TodoHitFires", "note",
                   "A `todo_hit` example (a known gap) now fires: move it to `hit`.")  # fmt: skip

LINT_CHECKS = (RULE_ERROR, RULE_WARNING)
TEST_CHECKS = (RULE_ERROR, SHOULD_FIRE, SHOULD_STAY_QUIET, TODO_FIRES)


@dataclass(frozen=True)
class Result:
    check: Check
    message: str
    path: Path  # relative to the working directory, or absolute
    line: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def artifact_uri(path: Path) -> str:
    """A relative path stays relative (code hosts resolve it from the checkout); any other is a
    file: URI, which SARIF requires of an absolute location."""
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _descriptor(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": check.name,
        "shortDescription": {"text": check.description},
        "defaultConfiguration": {"level": check.level},
    }


def _result(result: Result, index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(result.path)}}
    if result.line is not None and result.line >= 1:  # SARIF lines start at 1; 0 means unknown
        location["region"] = {"startLine": result.line}
    shown: dict[str, Any] = {
        "ruleId": result.check.id,
        "ruleIndex": index,
        "level": result.check.level,
        "message": {"text": result.message},
        "locations": [{"physicalLocation": location}],
    }
    if result.properties:
        shown["properties"] = result.properties
    return shown


def sarif_log(
    checks: tuple[Check, ...], results: list[Result], tool_version: str, properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One run of claimwatch: its checks as the driver's rules, and the results."""
    index = {check.id: i for i, check in enumerate(checks)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL, "version": tool_version, "rules": [_descriptor(c) for c in checks]}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(r, index[r.check.id]) for r in results],
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
