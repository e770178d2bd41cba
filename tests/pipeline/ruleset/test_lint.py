"""Lint's advice: warnings that name the file, line and rule or list, and `--strict`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ruleset import load_ruleset
from pipeline.ruleset.lint import MAX_REGEX_LINE

from ..rulekit import rule, ruleset


def warnings(tmp_path: Path, rules: str, extra: str = "") -> list[str]:
    return [str(w) for w in ruleset(tmp_path, rules, extra).warnings]


def test_a_word_listed_twice_is_named_with_both_lines(tmp_path: Path) -> None:
    found = warnings(tmp_path, rule("r", "match: {terms: [$words]}"), extra="  words:\n    - 最好\n    - 最佳\n    - 最好\n")
    (warning,) = [w for w in found if "listed twice" in w]
    assert warning.startswith("rules/common.yaml:") and "[list words]" in warning and "first on line" in warning


def test_the_same_regex_in_two_rules_points_at_the_first(tmp_path: Path) -> None:
    found = warnings(tmp_path, rule("first", "match: {regex: '原价\\d+'}") + rule("second", "match: {regex: '原价\\d+'}"))
    (warning,) = [w for w in found if "same regex" in w]
    assert "[second]" in warning and "(first)" in warning and "define it once as a fragment" in warning


def test_a_regex_too_long_to_review_is_named_with_its_own_line(tmp_path: Path) -> None:
    long = "|".join(f"词{i}" for i in range(MAX_REGEX_LINE // 3))
    found = warnings(tmp_path, rule("long", f"match:\n  any:\n    - terms: [a]\n    - regex: '{long}'"))
    (warning,) = [w for w in found if "characters" in w]
    line = int(warning.split(":")[1].split()[0])
    text = (tmp_path / "rules" / "test.yaml").read_text(encoding="utf-8").splitlines()
    assert "[long]" in warning and long in text[line - 1]


def test_unused_fragments_are_warned_about(tmp_path: Path) -> None:
    found = warnings(tmp_path, rule("r", "match: {terms: [a]}"), extra="fragments:\n  spare: {regex: 'x'}\n")
    assert any("fragment 'spare' is never referenced" in w for w in found)


def test_strict_lint_fails_on_warnings_and_the_shipped_rules_have_none(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("r", "match: {terms: [a]}"), extra="  spare_words: [x]\n")
    runner = CliRunner()
    assert runner.invoke(app, ["rules", "lint", str(tmp_path / "rules")]).exit_code == 0
    assert runner.invoke(app, ["rules", "lint", "--strict", str(tmp_path / "rules")]).exit_code == 1
    assert load_ruleset().warnings == []
