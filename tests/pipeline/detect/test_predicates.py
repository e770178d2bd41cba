from pathlib import Path

import pytest

from models.events import Category
from pipeline.detect.facts import ProductFacts

from ..rulekit import engine, rule

NO_FACTS = ProductFacts()

def verdicts(eng, text: str, facts: ProductFacts = NO_FACTS) -> list[str | None]:
    explanation = eng.explain(text, facts)
    return [f.suppressed_by for trace in explanation.traces for f in trace.findings]


def test_negation_before_the_claim_in_the_same_clause(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("n", "match: {terms: [最好]}\nunless: [negated]"))
    assert verdicts(eng, "我们不说最好") == ["negated"]
    assert verdicts(eng, "这不是问题,最好的面霜") == [None]  # the negation is in another clause
    assert verdicts(eng, "不得不说这是最好的") == [None]  # an affirmation, not a denial


def test_allowed_phrase_must_contain_the_match(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("p", "match: {regex: '第一'}\nunless: [{phrases: [第一次]}]"))
    assert verdicts(eng, "第一次上架") == ["phrases#1"]
    assert verdicts(eng, "销量第一") == [None]


def test_near_terms_respect_window_and_clause(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("u", "match: {terms: [最好]}\nunless: [{near: {terms: [冷藏], after: 4}}]"))
    assert verdicts(eng, "最好冷藏保存") == ["near#1"]
    assert verdicts(eng, "最好的东西,冷藏") == [None]
    assert verdicts(eng, "最好的面霜买回去冷藏") == [None]


def test_near_regex(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("g", "match: {terms: [一级]}\nunless: [{near: {regex: '压榨', after: 3}}]"))
    assert verdicts(eng, "一级压榨花生油") == ["near#1"]


def test_listing_certification_and_category(tmp_path: Path) -> None:
    body = "match: {terms: [美白]}\nunless: [{listing: {certification: '国妆特字'}}, {listing: {categories: [drug]}}]"
    eng = engine(tmp_path, rule("c", body))
    certified = ProductFacts(category=Category.cosmetics, certifications=("国妆特字G20200001",))
    assert verdicts(eng, "美白效果好", certified) == ["listing#1"]
    assert verdicts(eng, "美白效果好", ProductFacts(category=Category.cosmetics, certifications=("国妆网备字",))) == [None]
    assert verdicts(eng, "美白效果好", ProductFacts(category=Category.drug)) == ["listing#2"]


def test_listing_supports_price(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("pr", r"match: {regex: '原价\d+今天只要\d+'}" + "\nunless: [{listing: {supports_price: true}}]"))
    honest = ProductFacts(price=99, original_price=999)
    invented = ProductFacts(price=99, original_price=129)
    assert verdicts(eng, "原价999今天只要99", honest) == ["listing#1"]
    assert verdicts(eng, "原价999今天只要99", invented) == [None]
    assert verdicts(eng, "原价999今天只要99", ProductFacts()) == [None]


def test_categories_scope_rules(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("m", "match: {terms: [治疗]}\nexcept_categories: [drug]"))
    analysis = eng.analyze("可以治疗头疼")
    assert eng.detect(analysis, ProductFacts(category=Category.drug)) == []
    assert len(eng.detect(analysis, ProductFacts(category=Category.food))) == 1
    assert len(eng.detect(analysis, ProductFacts())) == 1  # unknown category: the rule applies


def test_a_spoken_pause_ends_the_clause_for_negation(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("n", "match: {terms: [美白]}\nunless: [negated]"))
    assert verdicts(eng, "不是遮盖的 是真美白") == [None]
    assert verdicts(eng, "不是美白") == ["negated"]


def test_context_inside_the_match_does_not_count_unless_asked(tmp_path: Path) -> None:
    body = "match: {regex: '大数据显示'}\nunless: [{near: {terms: [显示], before: 2, after: 2}}]"
    eng = engine(tmp_path, rule("d", body))
    assert verdicts(eng, "大数据显示有效") == [None]
    body = "match: {regex: '国家3c认证'}\nunless: [{near: {terms: [3c], before: 2, after: 2, in_match: true}}]"
    eng = engine(tmp_path / "b", rule("c", body))
    assert verdicts(eng, "国家3C认证") == ["near#1"]


def test_price_support_reads_chinese_numerals_and_ignores_counts(tmp_path: Path) -> None:
    eng = engine(tmp_path, rule("pr", "match: {regex: '原价.*只要.+'}\nunless: [{listing: {supports_price: true}}]"))
    honest = ProductFacts(price=99, original_price=999)
    assert verdicts(eng, "原价九百九十九今天只要九十九", honest) == ["listing#1"]
    assert verdicts(eng, "原价999拍2件只要99", honest) == ["listing#1"]
    assert verdicts(eng, "原价一千九百九十九今天只要九十九", honest) == [None]


@pytest.mark.parametrize(
    ("said", "numbers", "discounts"),
    [
        ("原价1.5万今天只要九千九", [15000.0, 9900.0], []),
        ("原价九块九毛九今天只要五块八", [9.99, 5.8], []),
        ("原价一百今天打七五折", [100.0], [0.75]),
        ("七点五折", [], [0.75]),
        ("划线价八十九块九 直播间六十九块九", [89.9, 69.9], []),
    ],
)
def test_prices_and_discounts_as_said(said: str, numbers: list[float], discounts: list[float]) -> None:
    from pipeline.text.numbers import spoken_discounts, spoken_numbers

    assert spoken_numbers(said) == numbers
    assert spoken_discounts(said) == pytest.approx(discounts)
