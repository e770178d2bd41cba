import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text.normalize import (
    _normalize_in_place,
    joined_text,
    normalize,
    normalize_by_character,
    normalize_term,
)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("最|好的面霜", "最好的面霜"),
        ("祛 斑 美🌟白", "祛斑美白"),
        ("監(jiān)管部門", "监管部门"),
        ("頂級ＡＢＣ１２３", "顶级abc123"),
        ("根\u200b治", "根治"),
        ("最・好・用", "最好用"),
    ],
)
def test_normalize_undoes_evasion(original: str, expected: str) -> None:
    assert normalize(original).text == expected


def test_clause_punctuation_and_latin_spaces_are_kept() -> None:
    assert normalize("全网 最低价，买它").text == "全网最低价,买它"
    assert normalize("GB/T 8233-2018 标准").text == "gb/t 8233-2018 标准"
    assert normalize("hello world").text == "hello world"


@pytest.mark.parametrize("original", ["最|好的面霜", "監(jiān)管很严", "祛 斑 美🌟白效果", "頂級ＡＢＣ", "普通的一句话"])
def test_offsets_map_every_character_back(original: str) -> None:
    n = normalize(original)
    assert len(n.starts) == len(n.text) == len(n.ends)
    for i, ch in enumerate(n.text):
        source = original[n.starts[i] : n.ends[i]]
        assert normalize(source).text == ch


def test_span_maps_to_the_words_the_host_said() -> None:
    original = "这个是最|好的，監(jiān)管部门都说好"
    n = normalize(original)
    start = n.text.index("最好")
    s, e = n.to_original(start, start + 2)
    assert original[s:e] == "最|好"
    start = n.text.index("监管")
    s, e = n.to_original(start, start + 2)
    assert original[s:e] == "監(jiān)管"


def test_pinyin_in_parentheses_not_after_chinese_is_kept() -> None:
    assert normalize("(abc) 好").text == "(abc) 好"


def test_terms_normalize_like_text() -> None:
    assert normalize_term("頂級") == "顶级"
    assert normalize_term("ＮＯ．１") == "no.1"


def test_dropped_whitespace_is_remembered_as_a_pause() -> None:
    n = normalize("不是遮盖的 是真美白")
    assert n.text == "不是遮盖的是真美白"
    assert n.pauses == frozenset({5})
    assert normalize("祛斑美白").pauses == frozenset()


# The shortcut for plain text must agree with the character-by-character stages on everything:
# separators inside and around Chinese words, full-width forms, traditional characters, emoji,
# invisible characters, pinyin annotations and 丨 (a character and a separator at once).
_ALPHABET = list("家人们晚上好这款面霜根治湿疹最低价全网，。！？、,.!?~-_|丨/\\ \t\u3000abcXYZ019ＡＢ１２😀🌟\u200b監發髮(jiān)[]")


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=30).map("".join))
def test_plain_text_shortcut_agrees_with_every_stage(text: str) -> None:
    assert normalize(text) == normalize_by_character(text)


@pytest.mark.parametrize("text", ["家人们晚上好 小满来了", "到手价29.9 想要的直接拍", "祛 斑 霜", "S码和M码都还有", "這款 面霜"])
def test_plain_host_talk_takes_the_shortcut(text: str) -> None:
    assert _normalize_in_place(text) == normalize_by_character(text)


# Traditional phrases too: OpenCC converts some only as phrases (乾隆 keeps 乾), which must not
# reach across the space.
_JOIN_ALPHABET = [*_ALPHABET, "乾", "隆", "著", "看", "頭髮", "干"]


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(_JOIN_ALPHABET), min_size=1, max_size=20).map("".join),
    st.lists(st.sampled_from(_JOIN_ALPHABET), min_size=1, max_size=20).map("".join),
)
def test_a_joined_text_is_made_from_its_parts_as_normalizing_it_would(left: str, right: str) -> None:
    joined = joined_text(normalize(left), normalize(right))
    if joined is not None:
        text, at = joined
        whole = normalize(left + " " + right)
        assert text == whole.text
        # The right part begins where its first character's place in the original does.
        assert whole.starts[at] == len(left) + 1


def test_parts_that_touch_the_space_with_a_separator_are_not_joined() -> None:
    assert joined_text(normalize("祛斑-"), normalize("美白")) is None
    assert joined_text(normalize("祛斑"), normalize(" 美白")) is None
    assert joined_text(normalize("祛斑"), normalize("美白")) == ("祛斑美白", 2)
    assert joined_text(normalize("S码"), normalize("M码")) == ("s码 m码", 3)
