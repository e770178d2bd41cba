from pathlib import Path

import pytest

from pipeline.detect.facts import ProductFacts

from ..rulekit import engine, rule

NO_FACTS = ProductFacts()

def fired(eng, text: str, facts: ProductFacts = NO_FACTS) -> list[tuple[str, str]]:
    analysis = eng.analyze(text)
    return [(f.rule.spec.id, analysis.text[f.hit.start : f.hit.end]) for f in eng.detect(analysis, facts)]


def test_terms_fire_only_on_whole_tokens(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最, 大麻]}"))
    assert fired(eng, "最近遇到大麻烦了") == []
    assert fired(eng, "这个大麻不能卖") == [("t", "大麻")]


def test_list_references_expand(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [$words, 其他]}"), extra="  words: [顶级, 极品]\n")
    assert fired(eng, "顶级的货,极品的料") == [("t", "顶级"), ("t", "极品")]


def test_regex_is_re2_over_normalized_text(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("r", r"match: {regex: '原价\d+'}"))
    assert fired(eng, "原價９９９今天只要99") == [("r", "原价999")]


def test_token_pattern_with_list(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("p", "match: {pattern: [{TEXT: 最}, {TEXT: {IN: $heads}}]}"), extra="  heads: [便宜, 好看]\n")
    assert fired(eng, "这是最便宜的") == [("p", "最便宜")]
    assert fired(eng, "最近便宜了") == []


def test_all_needs_every_part_within_distance(tmp_path: Path) -> None:
    body = "match:\n  within: 4\n  all:\n    - terms: [湿疹]\n    - terms: [根治]\n"
    eng = engine(tmp_path, rule("a", body))
    assert fired(eng, "湿疹一抹就根治") == [("a", "湿疹一抹就根治")]
    assert fired(eng, "湿疹的问题我们今天不聊了说说根治") == []
    assert fired(eng, "只说根治") == []


def test_any_combines_and_overlaps_keep_the_longest(tmp_path: Path) -> None:
    body = "match:\n  any:\n    - terms: [全网最低价]\n    - regex: '最低价'\n"
    eng = engine(tmp_path, rule("o", body))
    assert fired(eng, "今天全网最低价") == [("o", "全网最低价")]


def test_near_misses_show_terms_inside_longer_words(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("t", "match: {terms: [最]}"))
    explanation = eng.explain("最近很忙", ProductFacts())
    assert explanation.fired == []
    (trace,) = explanation.traces
    assert "not a whole token" in trace.near_misses[0].via


def test_pattern_words_join_the_dictionary_but_exception_words_do_not(tmp_path: Path) -> None:
    body = "match: {pattern: [{TEXT: {IN: [药监部门]}}, {TEXT: 推荐}]}\nunless: [{phrases: [最后一个链接]}]"
    eng = engine(tmp_path, rule("p", body))
    assert fired(eng, "药监部门推荐的") == [("p", "药监部门推荐")]
    words = [t.text for t in eng.analyze("还有最后一个链接").tokens]
    assert "最后一个链接" not in words


def test_a_word_test_remembers_its_verdicts_and_forgets_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import re2

    from pipeline.detect import matchers

    test = matchers.WordTest(lower=False, regex=re2.compile(r"^[0-9]+$"), barred=frozenset({"0"}))
    words = ["12", "十二", "0", "12", "3a"]
    assert [test(w) for w in words] == [True, False, False, True, False]
    assert [test(w) for w in words] == [test._judge(w) for w in words]
    monkeypatch.setattr(matchers, "_VERDICTS_KEPT", 3)
    for word in ("1", "2", "3", "4", "5"):
        assert test(word)
        assert len(test._verdicts) <= 3
