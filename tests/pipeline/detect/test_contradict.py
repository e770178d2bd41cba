"""Claims the listing contradicts: both sides named, agreement and silence when unknown."""

from __future__ import annotations

from pathlib import Path

from pipeline.detect.engine import Engine
from pipeline.judge.judge import detect_segment

from ...conftest import make_listing, make_segment
from ..rulekit import engine as inline_engine
from ..rulekit import rule

MATERIAL = rule(
    "material",
    """
    match: {regex: '(?:纯)?(?:棉|聚酯纤维|真丝)'}
    contradicts:
      field: attributes.material|面料
      exclusive: [纯]
      values: {棉: [纯棉], 聚酯纤维: [涤纶], 桑蚕丝: [真丝]}
    """,
    kind="listing-contradiction",
)
CERTIFIED = rule(
    "blue-hat",
    """
    match: {regex: '蓝帽子'}
    contradicts: {field: certifications, certification: '国食健', when_unknown: fire}
    """,
    kind="listing-contradiction",
)


def _alerts(claims: Engine, text: str, **listing: object):
    facts = make_listing("apparel", **listing) if listing else None
    return detect_segment(claims, make_segment(text, "apparel"), facts)


def test_a_material_the_listing_does_not_name_is_a_contradiction_with_both_sides(tmp_path: Path) -> None:
    claims = inline_engine(tmp_path, MATERIAL)
    (alert,) = _alerts(claims, "这件是纯棉的", attributes={"material": "聚酯纤维100%"})
    conflict = alert.evidence.listing_conflict
    assert conflict is not None
    assert (conflict.field, conflict.listed, conflict.said) == ("attributes.material", "聚酯纤维100%", "纯棉")
    assert alert.kind == "listing-contradiction"


def test_an_exclusive_claim_is_contradicted_by_any_other_listed_material(tmp_path: Path) -> None:
    claims = inline_engine(tmp_path, MATERIAL)
    assert len(_alerts(claims, "这件是纯棉的", attributes={"面料": "棉60% 涤纶40%"})) == 1
    assert _alerts(claims, "这件是棉的", attributes={"面料": "棉60% 涤纶40%"}) == []


def test_the_listed_material_said_correctly_or_no_listing_stays_quiet(tmp_path: Path) -> None:
    claims = inline_engine(tmp_path, MATERIAL)
    assert _alerts(claims, "这件是纯棉的", attributes={"material": "棉100%"}) == []
    assert _alerts(claims, "这件是纯棉的") == []  # nothing to compare with
    assert _alerts(claims, "这件是纯棉的", attributes={"size": "XL"}) == []  # no material listed
    explained = claims.explain("这件是纯棉的", claims_facts({"material": "棉100%"}))
    (finding,) = explained.traces[0].findings
    assert finding.suppressed_by == "listing-agrees" and "棉100%" in (finding.reason or "")


def claims_facts(attributes: dict[str, str]):
    from pipeline.judge.judge import facts_for

    return facts_for(make_segment("x", "apparel"), make_listing("apparel", attributes=attributes))


def test_a_certificate_claim_needs_a_matching_listed_certification(tmp_path: Path) -> None:
    claims = inline_engine(tmp_path, CERTIFIED)
    (alert,) = _alerts(claims, "我们这是蓝帽子产品", certifications=["SC12345"])
    assert alert.evidence.listing_conflict.listed == "SC12345"
    assert _alerts(claims, "我们这是蓝帽子产品", certifications=["国食健注G2019"]) == []
    (unknown,) = _alerts(claims, "我们这是蓝帽子产品")  # when_unknown: fire
    assert unknown.evidence.listing_conflict is None


def test_a_listing_silent_on_certifications_is_unknown_and_one_listing_none_contradicts(tmp_path: Path) -> None:
    quiet_when_unknown = rule(
        "blue-hat",
        "match: {regex: '蓝帽子'}\ncontradicts: {field: certifications, certification: '国食健'}",
        kind="listing-contradiction",
    )
    claims = inline_engine(tmp_path, quiet_when_unknown)
    assert _alerts(claims, "我们这是蓝帽子产品", price=99.0) == []  # the listing does not say
    (alert,) = _alerts(claims, "我们这是蓝帽子产品", certifications=[])  # the listing says: none
    assert alert.evidence.listing_conflict is not None
    assert (alert.evidence.listing_conflict.field, alert.evidence.listing_conflict.listed) == ("certifications", "none")


def test_the_shipped_approval_rule_waits_for_a_listing_that_states_its_certificates(engine: Engine) -> None:
    said = make_segment("我们这个是蓝帽子产品 国家批准的 放心吃", "health_food")
    silent = make_listing("health_food", price=168.0)
    assert [a for a in detect_segment(engine, said, silent) if a.rule_id == "listing-approval-missing"] == []
    none = make_listing("health_food", price=168.0, certifications=[])
    assert [a.rule_id for a in detect_segment(engine, said, none)].count("listing-approval-missing") == 1


def test_shipped_price_rule_reads_yuan_and_jiao_and_names_the_listed_prices(engine: Engine) -> None:
    agrees = make_listing("food", price=69.9, original_price=89.9)
    assert detect_segment(engine, make_segment("划线价八十九块九 直播间六十九块九", "food"), agrees) == []
    invented = make_listing("food", price=69.9, original_price=79.9)
    (alert,) = [a for a in detect_segment(engine, make_segment("划线价八十九块九 直播间六十九块九", "food"), invented)
                if a.rule_id == "price-invented-original"]
    assert alert.evidence.listing_conflict.listed == "price 69.9, original_price 79.9"


def test_shipped_origin_rule_knows_a_place_inside_its_region(engine: Engine) -> None:
    said = make_segment("我们的大米产自五常 正宗的稻花香", "food")
    assert detect_segment(engine, said, make_listing("food", attributes={"产地": "黑龙江省五常市"})) == []
    (alert,) = detect_segment(engine, said, make_listing("food", attributes={"产地": "吉林"}))
    assert alert.rule_id == "listing-origin-mismatch" and alert.evidence.listing_conflict.field == "attributes.产地"


def test_amounts_are_compared_unit_by_unit_after_conversion() -> None:
    from pipeline.text.numbers import quantities

    assert quantities("净含量是一斤") == {"g": {500.0}}
    assert quantities("1.5升大瓶 还有30cm") == {"ml": {1500.0}, "mm": {300.0}}


def test_shipped_size_rule_fires_when_more_is_said_than_listed(engine: Engine) -> None:
    said = make_segment("这个精华一瓶足足50ml 能用三个月", "cosmetics")
    (alert,) = detect_segment(engine, said, make_listing("cosmetics", attributes={"size": "30ml"}))
    assert alert.rule_id == "listing-size-mismatch" and alert.evidence.listing_conflict.listed == "30ml"
    assert detect_segment(engine, said, make_listing("cosmetics", attributes={"size": "50ml"})) == []


def test_a_discount_is_measured_against_the_listed_prices(engine: Engine) -> None:
    from pipeline.text.numbers import spoken_discounts

    assert spoken_discounts("打一折 七五折 7.5折 对折 半价") == [0.1, 0.75, 0.75, 0.5, 0.5]
    said = make_segment("今天直接打一折 家人们", "apparel")
    borne_out = make_listing("apparel", price=99, original_price=990)
    assert [a.rule_id for a in detect_segment(engine, said, borne_out)] == []
    (alert,) = detect_segment(engine, said, make_listing("apparel", price=99, original_price=199))
    assert alert.rule_id == "price-fake-discount" and alert.evidence.listing_conflict.field == "price"
    assert [a.rule_id for a in detect_segment(engine, said, None)] == ["price-fake-discount"]  # nothing to measure by


def test_saying_less_than_the_listed_size_is_no_contradiction(engine: Engine) -> None:
    said = make_segment("这个精华一瓶足足30ml", "cosmetics")
    assert detect_segment(engine, said, make_listing("cosmetics", attributes={"size": "50ml"})) == []
