import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text.tokenize import ChineseTokenizer


def test_rule_terms_segment_as_one_token() -> None:
    tokenizer = ChineseTokenizer(["全网最低价", "根治"])
    words = [t.text for t in tokenizer.tokens(tokenizer.doc("这个面霜是全网最低价根治湿疹"))]
    assert "全网最低价" in words
    assert "根治" in words


def test_longer_dictionary_words_are_not_split_by_a_term() -> None:
    tokenizer = ChineseTokenizer(["最", "大麻"])
    words = [t.text for t in tokenizer.tokens(tokenizer.doc("最近遇到大麻烦了"))]
    assert "最近" in words
    assert "大麻" not in words


def test_token_offsets_index_the_text() -> None:
    tokenizer = ChineseTokenizer()
    text = "家人们 hello 今天上新"
    for token in tokenizer.tokens(tokenizer.doc(text)):
        assert text[token.start : token.end] == token.text
        assert not token.text.isspace()


def test_each_tokenizer_has_its_own_dictionary() -> None:
    with_term = ChineseTokenizer(["面霜是全"])
    plain = ChineseTokenizer()
    assert "面霜是全" in [t.text for t in with_term.tokens(with_term.doc("这个面霜是全新的"))]
    assert "面霜是全" not in [t.text for t in plain.tokens(plain.doc("这个面霜是全新的"))]


_PIECES = ["家人们", "晚上好", " ", "  ", "\u3000", "\t", "type-c", "接口", "最好", "的", "29.9", "元", "，", "。", "S码", "根治", "湿疹",
           "abc", "😀", "大麻烦", "\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_words_are_the_tokens_of_the_doc(text: str) -> None:
    tokenizer = _shared_tokenizer()
    assert tokenizer.words(text) == ChineseTokenizer.tokens(tokenizer.doc(text))


@functools.lru_cache(maxsize=1)
def _shared_tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer(["根治", "湿疹"])
