"""The shipped rules over every text the project holds: a rule the prefilter leaves out has no
hit, and the split-claim window finds every claim across the boundary."""

import itertools

import pytest

from pipeline.detect.engine import Engine, Finding
from pipeline.detect.facts import ProductFacts
from pipeline.detect.matchers import PatternMatcher

from ..textkit import project_texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = project_texts()
    assert len(found) > 1000
    return found


def test_rules_left_out_have_no_hit(engine: Engine, texts: list[str]) -> None:
    judged = 0
    for text in texts:
        analysis = engine.analyze(text)
        chosen = {rule.spec.id for rule in engine.candidates(analysis)}
        judged += len(chosen)
        for rule in engine.rules:
            if rule.spec.id not in chosen:
                assert rule.matcher.hits(analysis) == [], (rule.spec.id, text)
    # The prefilter does leave rules out: on average far fewer than all are judged.
    assert judged < len(texts) * len(engine.rules) / 4


def test_the_window_judges_every_rule_that_crosses(engine: Engine, texts: list[str]) -> None:
    """`detect(across=...)` leaves out rules with no hit across the boundary: the claims it gives
    across it are exactly those of judging every rule."""
    facts = ProductFacts()
    crossed = 0
    for earlier, text in itertools.pairwise(texts):
        joined = earlier[-30:] + " " + text
        boundary = len(earlier[-30:]) + 1
        analysis = engine.analyze(joined)

        def across(findings: list[Finding], boundary: int = boundary) -> list[tuple[str, int, int]]:
            return [(f.rule.spec.id, f.start, f.end) for f in findings if f.start < boundary - 1 and f.end > boundary]

        expected = across(engine.detect(analysis, facts))
        assert across(engine.detect(analysis, facts, (boundary - 1, boundary))) == expected, joined
        crossed += bool(expected)
    assert crossed > 10  # the texts do hold claims across a boundary


def test_every_hit_lies_inside_the_reach_of_its_matcher(engine: Engine, texts: list[str]) -> None:
    """`reach` (asked without tokens) covers every hit, for every rule and text."""
    covered = 0
    for earlier, text in itertools.pairwise(texts[::2]):
        analysis = engine.analyze(earlier[-30:] + " " + text)
        for rule in engine.rules:
            spans = rule.matcher.reach(analysis)
            for hit in rule.matcher.hits(analysis):
                assert any(start <= hit.start and hit.end <= end for start, end in spans), (rule.spec.id, text)
                covered += 1
    assert covered > 500


def test_a_boundary_told_uncrossable_has_no_claim_across(engine: Engine, texts: list[str]) -> None:
    """`may_cross` is False only where judging the joined text finds no claim across the
    boundary; and it is False for most boundaries, or it would spare nothing."""
    facts = ProductFacts()
    told = crossed = 0
    for earlier, text in itertools.pairwise(texts):
        before = earlier[-30:]
        joined = before + " " + text
        boundary = len(before) + 1
        claims = [
            f for f in engine.detect(engine.analyze(joined), facts) if f.start < boundary - 1 and f.end > boundary
        ]
        if not engine.may_cross(before, engine.analyze(text), facts):
            told += 1
            assert claims == [], (before, text)
        crossed += bool(claims)
    assert crossed > 10
    assert told > len(texts) / 4


def test_patterns_whose_words_are_missing_have_no_match(engine: Engine, texts: list[str]) -> None:
    """A token pattern is matched only when each token it requires has a word to match: the
    texts left out that way have no match by spaCy's Matcher either."""
    left_out = 0
    for text in texts[::3]:
        analysis = engine.analyze(text)
        for key, matcher in _pattern_matchers(engine):
            words = analysis.word_texts
            if not all(any(test(word) for word in words) for test in matcher.word_tests):
                left_out += 1
                assert not analysis.pattern_hits.get(key), (key, text)
    assert left_out > 100


def _pattern_matchers(engine: Engine) -> list[tuple[str, PatternMatcher]]:
    found: list[tuple[str, PatternMatcher]] = []

    def walk(matcher: object) -> None:
        if isinstance(matcher, PatternMatcher):
            found.append((matcher.key, matcher))
        for child in getattr(matcher, "children", ()):
            walk(child)

    for rule in engine.rules:
        walk(rule.matcher)
    assert found
    return found
