"""Small rule sets written inline, so engine tests do not depend on the shipped rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipeline.detect.engine import Engine
from pipeline.errors import RuleSetError
from pipeline.ruleset.load import RuleSet, load_ruleset

# `lists:` comes last so that a test's `extra` lines add lists to it.
COMMON = """
kinds:
  absolute-term: {title: absolute terms, legal_basis: [test 9]}
  medical-claim: {title: medical claims, legal_basis: [test 17]}
  price-fraud: {title: price fraud, legal_basis: [test 14]}
  listing-contradiction: {title: listing contradictions, legal_basis: [test 28]}
conditions:
  negated:
    negation: {before: 6}
lists:
  negations: [不是, 不能, 不说, 没有]
  affirmations: [不得不说]
"""

EXAMPLES = """
    examples:
      hit: [a1, a2]
      miss: [b1, b2]
"""


def rule(rule_id: str, body: str, kind: str = "absolute-term", severity: str = "medium") -> str:
    """One rule entry; `body` holds match/unless/categories lines indented by four spaces."""
    return (
        f"  - id: {rule_id}\n    title: test rule\n"
        f"    description: a rule written inline for a unit test of the engine\n"
        f"    kind: {kind}\n    severity: {severity}\n    legal_basis: [test {rule_id}]\n    message: 'said {{match}}'\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
        + EXAMPLES.lstrip("\n")
    )


def ruleset(tmp_path: Path, rules: str, extra: str = "") -> RuleSet:
    directory = tmp_path / "rules"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "common.yaml").write_text(COMMON + extra, encoding="utf-8")
    (directory / "test.yaml").write_text("rules:\n" + rules, encoding="utf-8")
    return load_ruleset(directory)


def engine(tmp_path: Path, rules: str, extra: str = "") -> Engine:
    return Engine(ruleset(tmp_path, rules, extra))


def problems(tmp_path: Path, rules: str, extra: str = "") -> list[str]:
    """Every problem that keeps the inline rule set from loading, as printed."""
    with pytest.raises(RuleSetError) as caught:
        ruleset(tmp_path, rules, extra)
    return [str(p) for p in caught.value.problems]
