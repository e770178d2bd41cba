"""Lint's advice: warnings that name the file, line and rule or list, and `--strict`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.detect.engine import Engine
from pipeline.errors import RuleSetError
from pipeline.judge.scan import Scanner
from pipeline.ruleset import load_ruleset
from pipeline.ruleset.lint import MAX_REGEX_LINE

from ..rulekit import problems, rule, ruleset


def warnings(tmp_path: Path, rules: str, extra: str = "") -> list[str]:
    return [str(w) for w in ruleset(tmp_path, rules, extra).warnings]


def test_a_word_listed_twice_is_named_with_both_lines(tmp_path: Path) -> None:
    found = warnings(tmp_path, rule("r", "match: {terms: [$words]}"), extra="  words:\n    - 最好\n    - 最佳\n    - 最好\n")
    (warning,) = [w for w in found if "listed twice" in w]
    assert warning.startswith(f"{tmp_path}/rules/common.yaml:") and "[list words]" in warning and "first on line" in warning


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


def test_an_unknown_list_is_named_at_the_line_that_references_it_with_the_list_meant(tmp_path: Path) -> None:
    body = rule("typo-list", "match:\n  any:\n    - terms: [a]\n    - regex: 'x'\n    - terms: [$wrods]")
    found = problems(tmp_path, body, extra="  words: [最好]\n")
    line = 2 + body.splitlines().index("        - terms: [$wrods]")
    assert found == [f"{tmp_path}/rules/test.yaml:{line} [typo-list]: match references unknown list $wrods "
                     "(did you mean words?)"]


def test_unknown_names_inside_a_condition_or_a_regex_suggest_the_name_meant(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "cond.yaml").write_text(
        "conditions:\n  near-words:\n    near:\n      before: 3\n      terms: [$word]\n", encoding="utf-8"
    )
    body = rule("typo-cond", "match: {regex: '最$wordz'}\nunless: [near-word]")
    found = problems(tmp_path, body, extra="  words: [最好]\n")
    assert (f"{tmp_path}/rules/cond.yaml:5 [condition near-words]: the condition references unknown "
            "list $word (did you mean words?)") in found
    assert any("[typo-cond]" in p and "unknown condition 'near-word' (did you mean near-words?)" in p for p in found)
    assert any("[typo-cond]" in p and "$wordz in a regex is neither a regex fragment nor a word list "
               "(did you mean words?)" in p for p in found), found


def test_a_rule_of_a_kind_the_rule_set_does_not_declare_is_an_error_at_its_kind_line(tmp_path: Path) -> None:
    body = rule("new-kind", "match: {terms: [a]}", kind="infant-formula-claim")
    found = problems(tmp_path, body)
    line = 2 + body.splitlines().index("    kind: infant-formula-claim")
    assert found == [f"{tmp_path}/rules/test.yaml:{line} [new-kind]: kind 'infant-formula-claim' is not declared "
                     "under `kinds:`"]


def test_a_kind_declared_with_its_statute_is_what_the_rules_alerts_carry(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "formula.yaml").write_text(
        "kinds:\n  infant-formula-claim:\n    title: infant formula likened to breast milk\n"
        "    legal_basis: ['《广告法》第二十条']\n", encoding="utf-8")
    rules = ruleset(tmp_path, rule("formula-like-milk", "match: {terms: [媲美母乳]}", kind="infant-formula-claim"))
    segment = {"type": "transcript", "event_id": "e1", "room_id": "r1", "ts": 1_700_000_000_000,
               "text": "这款奶粉媲美母乳"}
    (alert,) = Scanner(Engine(rules)).scan_lines([json.dumps(segment, ensure_ascii=False)])
    assert alert.kind == "infant-formula-claim"
    assert rules.kinds["infant-formula-claim"].legal_basis == ["《广告法》第二十条"]
    misspelt = rule("formula-typo", "match: {terms: [b]}", kind="infant-formula-clam")
    (tmp_path / "rules" / "test.yaml").write_text("rules:\n" + misspelt, encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(tmp_path / "rules")
    assert "(did you mean infant-formula-claim?)" in str(caught.value)


def test_a_bad_regex_is_one_readable_line_without_the_engine_s_own_log(tmp_path: Path) -> None:
    import subprocess
    import sys

    ruleset_dir = tmp_path / "rules"
    ruleset_dir.mkdir()
    (ruleset_dir / "cond.yaml").write_text(
        "kinds:\n  absolute-term: {title: absolute terms, legal_basis: [test]}\n"
        "conditions:\n  broken:\n    near: {regex: '根治(湿疹', before: 3}\n", encoding="utf-8")
    (ruleset_dir / "test.yaml").write_text("rules:\n" + rule("r", "match: {terms: [a]}"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "rules", "lint", str(ruleset_dir)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error {ruleset_dir}/cond.yaml:5 [condition broken]: RE2 rejects '根治(湿疹': missing ): 根治(湿疹"]


def test_a_bad_regex_is_quoted_as_it_is_written_in_the_file(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("escaped", "match: {regex: '最\\s*好(的'}"))
    assert any("RE2 rejects '最\\s*好(的':" in p for p in found), found
