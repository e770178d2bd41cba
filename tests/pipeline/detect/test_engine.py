"""The engine's bounds: one finding per rule and claim, and work that grows with the text, not
with the square of its claims."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.detect.analysis import CLAUSE_BREAKS, longest_apart
from pipeline.detect.engine import HITS_PER_CLAUSE, Engine
from pipeline.detect.facts import ProductFacts

from ..rulekit import engine, rule

NO_FACTS = ProductFacts()


def test_one_finding_per_rule_and_claim(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("three-highs", "match: {terms: [降压, 降糖, 降血脂]}"))
    (finding,) = eng.detect(eng.analyze("这个茶降压降糖降血脂"), NO_FACTS)
    assert finding.words == "降压" and finding.clause == "这个茶降压降糖降血脂"
    assert finding.through == len("这个茶降压降糖降血脂")  # the claim reaches to its last repeat
    # Another clause is another claim, unless it says the very same thing.
    assert [f.clause for f in eng.detect(eng.analyze("这个茶降压，那个茶降糖，这个茶降压"), NO_FACTS)] == [
        "这个茶降压", "那个茶降糖",
    ]


def test_a_word_said_thousands_of_times_is_one_claim(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("cure", "match: {terms: [根治]}\nunless: [negated]"))
    text = "根治" * 2500
    (finding,) = eng.detect(eng.analyze(text), NO_FACTS)
    assert (finding.start, finding.through) == (0, len(text))
    # Only the longest few hits of a clause are judged; clauses apart are judged each.
    trace = next(t for t in eng.explain(text, NO_FACTS).traces if t.rule.spec.id == "cure")
    assert len(trace.findings) == HITS_PER_CLAUSE
    many = eng.explain("不能根治，" * 40 + "根治", NO_FACTS)
    assert [f.suppressed_by for t in many.traces for f in t.findings].count("negated") == 40
    assert len(eng.detect(eng.analyze("不能根治，" * 40 + "根治"), NO_FACTS)) == 1


spans = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 8)).map(lambda p: (p[0], p[0] + p[1])), max_size=40)


@settings(max_examples=300, deadline=None)
@given(spans)
def test_longest_apart_is_the_greedy_choice(items: list[tuple[int, int]]) -> None:
    def order(span: tuple[int, int]) -> tuple[int, int]:
        return (span[0] - span[1], span[0])

    greedy: list[tuple[int, int]] = []
    for span in sorted(items, key=order):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in greedy):
            greedy.append(span)
    assert longest_apart(items, lambda s: s, order) == sorted(greedy)


@pytest.fixture(scope="module")
def two_terms(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine(tmp_path_factory.mktemp("rules"), rule("t", "match: {terms: [最好, 根治]}"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="最好，。 !根治a", max_size=40), data=st.data())
def test_clause_bounds_and_occurrences_by_bisection_match_a_scan(two_terms: Engine, text: str, data: st.DataObject) -> None:
    analysis = two_terms.analyze(text)
    norm, pauses = analysis.text, analysis.normalized.pauses
    if not norm:
        return
    start = data.draw(st.integers(0, len(norm) - 1))
    end = data.draw(st.integers(start, len(norm)))
    left = start
    while left > 0 and norm[left - 1] not in CLAUSE_BREAKS and left not in pauses:
        left -= 1
    right = end
    while right < len(norm) and norm[right] not in CLAUSE_BREAKS and right not in pauses:
        right += 1
    assert analysis.clause_bounds(start, end) == (left, right)
    for term, found in analysis.occurrences.items():
        assert analysis.occurring(term, start, end) == [s for s in found if start <= s[0] < end]


@pytest.fixture(scope="module")
def shipped() -> Engine:
    from pipeline.ruleset import load_ruleset

    return Engine(load_ruleset())


_MIXED = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60) | st.lists(
    st.sampled_from(["根治", "最好", "全网最低价", "gēn zhì", "genzhi", "不", "，", " ", "😀", "\u0301", "九十九", "原价",
                     "国家认证", "\x00", "\u200b", "ｇｅｎ", "降压", "医美", "100%"]), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_MIXED)
def test_any_text_is_judged_and_every_finding_points_into_it(shipped: Engine, text: str) -> None:
    for finding in shipped.detect(shipped.analyze(text), NO_FACTS):
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.start <= finding.through <= len(text)
