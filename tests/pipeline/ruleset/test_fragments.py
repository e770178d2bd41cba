"""Fragments: a match piece defined once and used by name, as a matcher or inside a regex."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.detect.facts import ProductFacts
from pipeline.errors import RuleSetError
from pipeline.ruleset.model import is_one_group

from ..rulekit import engine, rule, ruleset

FRAGMENTS = """  drugs: [药, 降压药, 二甲双胍]
fragments:
  drug_word: {regex: '(?:吃药|打针)'}
  better: {regex: '管用|好使'}
  compared: {regex: '比$drug_word还$better'}
  drug_claims:
    any:
      - regex: '$compared'
      - regex: '$drugs都停了'
"""


def fired(eng, text: str) -> list[tuple[str, str]]:
    return [(f.rule.spec.id, f.words) for f in eng.detect(eng.analyze(text), ProductFacts())]


def test_a_regex_reads_as_it_would_written_out(tmp_path: Path) -> None:
    loaded = ruleset(tmp_path, rule("r", "match: {fragment: drug_claims}"), extra=FRAGMENTS)
    # A piece that is one group already goes in as it is; the whole regex is not wrapped either.
    assert loaded.expand_regex("$compared") == "比(?:吃药|打针)还(?:管用|好使)"
    assert loaded.expand_regex("胜过$drug_word") == "胜过(?:吃药|打针)"
    assert loaded.expand_regex("$better") == "管用|好使"
    # A word list: its normalized words, longest first, escaped.
    assert loaded.expand_regex("$drugs都停了") == "(?:二甲双胍|降压药|药)都停了"
    assert loaded.expand_regex(r"\$drugs") == r"\$drugs"  # an escaped dollar is a dollar


def test_a_fragment_is_a_matcher_wherever_a_matcher_goes(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("r", "match: {any: [{fragment: drug_claims}, {regex: '胜过$drug_word'}]}"),
                 extra=FRAGMENTS)
    assert fired(eng, "这个比吃药还管用") == [("r", "比吃药还管用")]
    assert fired(eng, "降压药都停了") == [("r", "降压药都停了")]
    assert fired(eng, "胜过打针") == [("r", "胜过打针")]
    assert fired(eng, "比吃饭还管用") == []


def test_words_of_a_regex_fragment_are_heard_by_sound(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("r", "match: {regex: '$compared'}"), extra=FRAGMENTS)
    assert fired(eng, "比吃yao还管用") == [("r", "比吃药还管用")]


@pytest.mark.parametrize(("body", "message"), [
    ("match: {fragment: nowhere}", "unknown fragment 'nowhere'"),
    ("match: {regex: '比$nowhere还'}", "$nowhere in a regex is neither a regex fragment nor a word list"),
    ("match: {regex: '$drug_claims'}", "$drug_claims is a fragment but not a regex"),
])
def test_bad_references_name_the_rule_and_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RuleSetError) as caught:
        ruleset(tmp_path, rule("bad-ref", body), extra=FRAGMENTS)
    found = [str(p) for p in caught.value.problems]
    assert any(message in p and "[bad-ref]" in p and p.startswith(f"{tmp_path}/rules/test.yaml:") for p in found), found


def test_fragments_that_refer_to_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    circle = "fragments:\n  a: {regex: 'x$b'}\n  b: {regex: 'y$a'}\n  c: {any: [{fragment: d}]}\n  d: {fragment: c}\n"
    with pytest.raises(RuleSetError) as caught:
        ruleset(tmp_path, rule("r", "match: {regex: '$a'}\n") + rule("s", "match: {fragment: c}"), extra=circle)
    found = "\n".join(str(p) for p in caught.value.problems)
    assert "refers to itself" in found and "fragments refer to each other in a circle" in found


def test_a_name_may_not_be_both_a_list_and_a_fragment(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError) as caught:
        ruleset(tmp_path, rule("r", "match: {regex: '$x'}"), extra="  x: [a]\nfragments:\n  x: {regex: 'b'}\n")
    assert any("names both a list and a fragment" in str(p) for p in caught.value.problems)


@pytest.mark.parametrize(("regex", "one"), [
    ("(?:a|b)", True), ("(a)", True), ("(?:a)|(?:b)", False), ("a|b", False), ("(?:a)?", False),
    (r"(?:[)]|\))", True), ("(?:[]a])", True), (r"(?:a\))b", False),
])
def test_one_group(regex: str, one: bool) -> None:
    assert is_one_group(regex) is one
