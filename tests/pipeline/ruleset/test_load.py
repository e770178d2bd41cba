from pathlib import Path

import pytest

from pipeline.errors import RuleSetError
from pipeline.ruleset.load import load_ruleset

from ..rulekit import problems, rule, ruleset


def test_valid_ruleset_loads_with_a_content_version(tmp_path: Path) -> None:
    first = ruleset(tmp_path, rule("a-rule", "match: {terms: [最好]}"))
    again = load_ruleset(tmp_path / "rules")
    assert first.version == again.version and len(first.version) == 12
    (tmp_path / "rules" / "test.yaml").write_text(
        "rules:\n" + rule("a-rule", "match: {terms: [最佳]}"), encoding="utf-8"
    )
    assert load_ruleset(tmp_path / "rules").version != first.version


def test_duplicate_ids_are_reported_with_both_places(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("same-id", "match: {terms: [a]}") + rule("same-id", "match: {terms: [b]}"))
    assert any("duplicate rule id" in p and "[same-id]" in p and "test.yaml:" in p for p in found)


def test_unknown_list_and_condition_references(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("refs", "match: {terms: [$nope]}\nunless: [no-such-condition]"))
    assert any("unknown list $nope" in p and "[refs]" in p for p in found)
    assert any("unknown condition 'no-such-condition'" in p for p in found)


def test_regex_rejected_by_re2_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("bad-regex", r"match: {regex: '(a)\1'}"))
    assert any("RE2 rejects" in p and "[bad-regex]" in p for p in found)


def test_schema_errors_name_file_line_rule_and_field(tmp_path: Path) -> None:
    body = rule("few-examples", "match: {terms: [a]}").replace("hit: [a1, a2]", "hit: [a1]")
    found = problems(tmp_path, body)
    assert any(
        p.startswith(f"{tmp_path}/rules/test.yaml:") and "[few-examples]" in p and "examples.hit" in p for p in found
    ), found


def test_rule_ids_must_be_kebab_case(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("Not_Kebab", "match: {terms: [a]}"))
    assert any("id" in p and "pattern" in p.lower() for p in found)


def test_matcher_needs_exactly_one_kind(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("two-kinds", "match: {terms: [a], regex: b}"))
    assert any("exactly one of" in p for p in found)


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("typo", "match: {terms: [a]}\nunles: [negated]"))
    assert any("unles" in p for p in found)


def test_lists_defined_in_two_files_are_reported(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("ok-rule", "match: {terms: [a]}"))
    (tmp_path / "rules" / "more.yaml").write_text("lists:\n  negations: [别]\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(tmp_path / "rules")
    assert any("list 'negations' is already defined in" in str(p) for p in caught.value.problems)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "broken.yaml").write_text("rules:\n  - id: x\n    title: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(directory)
    assert "not valid YAML" in str(caught.value) and "broken.yaml:" in str(caught.value)


def test_unused_lists_are_warnings_not_errors(tmp_path: Path) -> None:
    loaded = ruleset(tmp_path, rule("a-rule", "match: {terms: [a]}"), extra="  spare_words: [x]\n")
    assert any("spare_words" in str(w) for w in loaded.warnings)


def test_shipped_ruleset_is_clean() -> None:
    shipped = load_ruleset()
    assert len(shipped.rules) >= 9
    assert {r.spec.kind for r in shipped.rules} == set(shipped.kinds) >= {
        "absolute-term", "state-endorsement", "medical-claim", "health-food-claim", "cosmetic-efficacy",
        "unverifiable-claim", "price-fraud", "fake-scarcity", "false-endorsement", "listing-contradiction",
    }
    assert all(r.spec.legal_basis for r in shipped.rules)
    assert all(kind.legal_basis and kind.title for kind in shipped.kinds.values())


def test_lists_that_multiply_by_referencing_lists_are_refused_without_expanding_them(tmp_path: Path) -> None:
    # Ten references to the list before, nine levels deep: a few hundred bytes, 10^10 words.
    levels = ["  l0: [" + ", ".join(f"w{i}" for i in range(10)) + "]"]
    levels += [f"  l{k}: [" + ", ".join([f"$l{k - 1}"] * 10) + "]" for k in range(1, 10)]
    found = problems(tmp_path, rule("bomb", "match: {terms: [$l9]}"), extra="\n".join(levels) + "\n")
    assert any("[list l9]" in p and "expands to 10,000,000,000 words" in p for p in found)
    assert not any("[list l4]" in p for p in found)  # 100,000 words is within the bound
    assert all(p.startswith(f"{tmp_path}/rules/common.yaml:") for p in found)


def test_lists_referring_to_each_other_in_a_circle(tmp_path: Path) -> None:
    found = problems(tmp_path, rule("circle", "match: {terms: [$a]}"), extra="  a: [x, $b]\n  b: [y, $a]\n")
    assert any("lists refer to each other in a circle: $a -> $b -> $a" in p for p in found)


def test_a_huge_regex_is_quoted_in_part(tmp_path: Path) -> None:
    regex = "(" + "a" * 5000 + "(\\1)"
    (found,) = [p for p in problems(tmp_path, rule("huge", f"match: {{regex: '{regex}'}}")) if "RE2 rejects" in p]
    assert "(5,005 characters): invalid escape sequence" in found and len(found) < 400


def test_a_token_pattern_has_a_bounded_length(tmp_path: Path) -> None:
    tokens = ", ".join(["{TEXT: 好}"] * 65)
    found = problems(tmp_path, rule("long", f"match: {{pattern: [{tokens}]}}"))
    assert any("65 tokens (over 64)" in p and "[long]" in p for p in found)


def test_a_misspelt_key_is_named_at_its_line_with_the_key_meant(tmp_path: Path) -> None:
    body = rule("typo", "match: {terms: [a]}").replace("    severity: medium\n", "    severty: medium\n")
    found = problems(tmp_path, body)
    line = 2 + body.splitlines().index("    severty: medium")  # test.yaml starts with "rules:"
    assert f"{tmp_path}/rules/test.yaml:{line} [typo]: rules[0].severty: unknown key (did you mean severity?)" in found
    assert any("rules[0].severity: Field required" in p for p in found)


def test_a_union_value_is_reported_by_its_place_in_the_file_not_by_the_branches_it_failed(tmp_path: Path) -> None:
    body = rule("inline-unless", "match: {terms: [a]}\nunless: [{near: {terms: [b]}}]")
    found = problems(tmp_path, body)
    line = 2 + body.splitlines().index("    unless: [{near: {terms: [b]}}]")
    assert found == [f"{tmp_path}/rules/test.yaml:{line} [inline-unless]: rules[0].unless[0].near: give `before` or "
                     "`after` (characters of context to search)"]


def test_paths_are_printed_so_that_they_open_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    body = rule("few-examples", "match: {terms: [a]}").replace("hit: [a1, a2]", "hit: [a1]")
    (found,) = problems(tmp_path, body)
    assert found.startswith("rules/test.yaml:") and (tmp_path / found.split(":")[0]).is_file()
