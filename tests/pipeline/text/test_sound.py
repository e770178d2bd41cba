"""Matching by sound: pinyin, initials and homophones stand for a term; ordinary words do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.text.normalize import normalize, substitute
from pipeline.text.sound import SoundIndex, split_pinyin
from pipeline.text.tokenize import ChineseTokenizer

from ...conftest import make_segment
from ..rulekit import engine as inline_engine
from ..rulekit import rule

TERMS = ["根治", "治愈", "降血压", "史低", "嫩白", "降脂", "治疗", "治", "直肠炎", "肠炎", "减肥", "专柜", "正规", "最好用", "好用", "再见", "大姨妈"]


@pytest.fixture(scope="module")
def index() -> tuple[SoundIndex, ChineseTokenizer]:
    tokenizer = ChineseTokenizer(TERMS)
    return SoundIndex(TERMS, tokenizer.is_word), tokenizer


def heard(index: tuple[SoundIndex, ChineseTokenizer], text: str) -> set[tuple[str, str, str]]:
    sounds, tokenizer = index
    normalized = normalize(text)
    spans = [(t.start, t.end) for t in ChineseTokenizer.tokens(tokenizer.doc(normalized.text))]
    return {(h.variant, h.term, h.kind) for h in sounds.find_all(normalized, lambda: spans)}


def test_pinyin_runs_split_into_the_fewest_syllables() -> None:
    assert split_pinyin("jiangtang") == ("jiang", "tang")
    assert split_pinyin("xian") == ("xian",)
    assert split_pinyin("hello") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("喝了能根直", ("根直", "根治", "homophone")),
        ("喝这个降xue压", ("降xue压", "降血压", "mixed")),
        ("吃了 jiang xue ya", ("jiang xue ya", "降血压", "pinyin")),
        ("能zl湿疹", ("zl", "治疗", "initials")),
        ("这个减废神器", ("减废", "减肥", "homophone")),
    ],
)
def test_what_hosts_say_instead_is_heard_as_the_term(index, text: str, expected: tuple[str, str, str]) -> None:
    assert expected in heard(index, text)


@pytest.mark.parametrize(
    "text",
    [
        "至于效果因人而异",  # 至于 is a word, not 治愈
        "这个是低乳糖配方",  # 是 is a function word: not 史低
        "用一瓶就能白两个度",  # 能 likewise: not 嫩白
        "这个益生菌治肠炎",  # made of words the rules know, 治 and 肠炎, said as they are: not 直肠炎
        "减脂期的选这个",  # only -n/-ng apart from 降脂, and a word of its own
        "编号SC开头",  # upper-case letters are a code, not initials
        "净含量2kg",  # a unit
        "jiangtangyao里面的",  # pinyin must be a whole run
        "家人们点个gz不迷路",  # live-stream slang for 关注
        "拍一箱再减十块",  # 再 is a function word like 又 and 还: not 再见
        "胖一点的拿大一码",  # keeps one character of three: not 大姨妈
    ],
)
def test_ordinary_words_that_sound_alike_stay_quiet(index, text: str) -> None:
    assert heard(index, text) == set()


def test_a_dodge_only_partly_made_of_known_words_is_heard(index) -> None:
    """嘴好用 holds 好用, a word the rules know, but 嘴 is none: it is 最好用 said by sound (the
    README's 嘴好 for 最好)."""
    assert ("嘴好用", "最好用", "homophone") in heard(index, "这个面霜嘴好用")


def test_a_restored_word_maps_back_to_what_was_said() -> None:
    normalized = normalize("喝了 jiang xue ya 就好")
    start = normalized.text.index("jiang")
    end = normalized.text.index("ya") + 2
    restored, placed = substitute(normalized, [(start, end, "降血压")])
    assert restored.text == "喝了 降血压 就好"  # the pauses around the pinyin stay
    at = restored.text.index("降血压")
    assert placed == [at]
    assert restored.to_original(at, at + 3) == (3, 15)
    assert normalized.original[3:15] == "jiang xue ya"


def test_an_alert_found_by_sound_names_the_variant_and_the_term(tmp_path: Path) -> None:
    from pipeline.judge.judge import detect_segment

    claims = inline_engine(tmp_path, rule("cure", "match: {terms: [根治]}", kind="medical-claim"))
    (alert,) = detect_segment(claims, make_segment("这个能根直湿疹", "food"), None)
    assert alert.evidence.match == "根直" and alert.evidence.normalized == "根治"
    assert alert.evidence.evasion is not None
    assert (alert.evidence.evasion.kind, alert.evidence.evasion.variant, alert.evidence.evasion.term) == (
        "homophone", "根直", "根治")
    plain = detect_segment(claims, make_segment("这个能根治湿疹", "food"), None)
    assert plain[0].evidence.evasion is None


def test_a_dodge_one_rule_lists_is_still_heard_as_its_word_by_the_others(tmp_path: Path) -> None:
    """A rule may list a dodge itself (根直 in a regex); that does not make 根直 a word "said as
    it is": every other rule still reads it as 根治 (the README's own example)."""
    from pipeline.judge.judge import detect_segment

    claims = inline_engine(
        tmp_path,
        rule("dodge", "match: {regex: '(?:能|可以)根直'}", kind="medical-claim")
        + rule("cure", "match: {terms: [根治]}", kind="medical-claim"),
    )
    fired = {a.rule_id: a for a in detect_segment(claims, make_segment("这个根直湿疹的效果很好", "cosmetics"), None)}
    assert fired["cure"].evidence.evasion is not None and fired["cure"].evidence.evasion.variant == "根直"


def test_a_list_can_opt_out_of_sound(tmp_path: Path) -> None:
    from pipeline.judge.judge import detect_segment

    quiet = inline_engine(
        tmp_path, rule("cure", "match: {terms: [$cures]}", kind="medical-claim"),
        extra="  cures:\n    sound: false\n    terms: [根治]\n",
    )
    assert detect_segment(quiet, make_segment("这个能根直湿疹", "food"), None) == []
    assert len(detect_segment(quiet, make_segment("这个能根治湿疹", "food"), None)) == 1


def test_a_regex_hears_its_literal_words_by_sound(tmp_path: Path) -> None:
    from pipeline.judge.judge import detect_segment

    lowest = inline_engine(tmp_path, rule("lowest", "match: {regex: '(?:全网|全国)最低价'}", kind="price-fraud"))
    (alert,) = detect_segment(lowest, make_segment("我们这是全往最低价", "food"), None)
    assert alert.evidence.match == "全往最低价" and alert.evidence.evasion.term == "全网"


def test_initials_that_fit_several_words_stand_for_none(index) -> None:
    assert heard(index, "这个zg价三百") == set()  # zg: 专柜 or 正规: no guess
    assert ("zl", "治疗", "initials") in heard(index, "能zl湿疹")
