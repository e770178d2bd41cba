"""The prefilter may only ever skip work that would have found nothing."""

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.detect.atoms import Need, all_of, any_of, required_atoms, required_clauses


def test_alternatives_and_concatenations_make_whole_words() -> None:
    assert required_atoms("(?:全网|全国)最低") == {"全网最低", "全国最低"}
    assert required_atoms("原价\\s*\\d+") == {"原价"}
    assert required_atoms("(?:杀死|杀灭)(?:掉)?(?:细菌|病毒)") == {
        "杀死细菌", "杀死病毒", "杀灭细菌", "杀灭病毒", "杀死掉细菌", "杀死掉病毒", "杀灭掉细菌", "杀灭掉病毒"}


def test_every_literal_a_sequence_requires_is_a_clause() -> None:
    assert set(required_clauses("(?:吃|喝)了?\\d+天.{0,4}瘦了?\\d+斤")) == {
        frozenset({"吃", "喝"}), frozenset({"天"}), frozenset({"瘦"}), frozenset({"斤"})}
    assert required_clauses("\\d+") == ()


def test_a_need_is_met_only_by_its_literals() -> None:
    need = all_of([Need((frozenset({"瘦"}),)), any_of([Need((frozenset({"斤"}),)), Need((frozenset({"kg"}),))])])
    assert need.met_by(frozenset({"瘦", "kg"}))
    assert not need.met_by(frozenset({"瘦"}))
    assert not need.met_by(frozenset({"斤", "kg"}))
    assert need.triggers() in ({"瘦"}, {"斤", "kg"})
    assert not any_of([need, Need()]).known  # one option any text meets


def test_rare_literal_is_preferred_to_a_common_one() -> None:
    # 的 is in most sentences; 倍 in few.
    assert required_atoms("的\\d+倍") == {"倍"}


def test_re2_classes_are_read_as_one_character_of_many() -> None:
    assert required_atoms("销量\\p{Han}{0,8}?领先") in ({"销量"}, {"领先"})
    assert required_atoms("明星[^\\P{Han}品款]{2,3}同款") in ({"明星"}, {"同款"})


def test_case_insensitive_regex_gives_lower_case_atoms() -> None:
    assert required_atoms("(?i)SPF\\d+") == {"spf"}


def test_no_atoms_when_a_match_may_be_empty_or_unknown() -> None:
    assert required_atoms("a*") is None
    assert required_atoms("(?:最好)?") is None
    assert required_atoms("\\d+") is None
    assert required_atoms("\\Q最好\\E") is None  # RE2 quoting Python cannot read
    assert required_atoms("(") is None


_PIECES = ["最", "好", "全网", "最低", "原价", "9", "99", "元", "的", "倍", "细菌", "杀死", "掉", " ", "，"]
_REGEXES = ["(?:全网|全国)最低", "原价\\s*\\d+", "(?:杀死|杀灭)(?:掉)?(?:细菌|病毒)", "最.{0,3}好", "的\\d+倍",
            "(?:原价|最)\\p{Han}{0,2}(?:好|低)", "[最全]网?最?低|倍"]


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(_REGEXES), st.lists(st.sampled_from(_PIECES), max_size=10).map("".join))
def test_a_text_the_regex_matches_holds_an_atom(regex: str, text: str) -> None:
    atoms = required_atoms(regex)
    if atoms is not None and re2.search(regex, text):
        assert any(atom in text for atom in atoms)
    if re2.search(regex, text):
        for clause in required_clauses(regex):
            assert any(literal in text for literal in clause), (regex, text, clause)
