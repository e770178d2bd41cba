from pathlib import Path

from pipeline.detect.facts import ProductFacts
from pipeline.detect.token_regex import with_re2_regexes

from ..rulekit import engine, rule


def test_no_regex_reaches_spacy_and_the_meaning_is_kept() -> None:
    pattern = [{"TEXT": {"REGEX": "^最[一-龥]", "NOT_IN": ["最后"]}}, {"LOWER": {"REGEX": "x"}, "_": {"other": 1}}]
    rewritten = with_re2_regexes(pattern)
    assert "REGEX" not in repr(rewritten)
    assert rewritten[0]["TEXT"] == {"NOT_IN": ["最后"]} and "LOWER" not in rewritten[1]
    assert rewritten[1]["_"]["other"] == 1 and len(rewritten[0]["_"]) == len(rewritten[1]["_"]) - 1 == 1
    assert pattern[0]["TEXT"]["REGEX"] == "^最[一-龥]"  # the rule's own pattern is left as it was


def test_a_backtracking_regex_in_a_token_pattern_cannot_hang_the_engine(tmp_path: Path) -> None:
    # Python's re takes minutes on this at 32 characters; RE2 answers at once.
    eng = engine(tmp_path, rule("bt", "match: {pattern: [{TEXT: {REGEX: '^(a+)+1$'}}]}"))
    assert eng.detect(eng.analyze("a" * 32 + "1"), ProductFacts())
    assert not eng.detect(eng.analyze("a" * 32 + "b"), ProductFacts())
