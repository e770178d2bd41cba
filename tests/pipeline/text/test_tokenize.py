import functools

import jieba
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text.tokenize import ChineseTokenizer

from ..textkit import project_texts


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


# The words jieba itself gives, with the same terms added the same way: the reference the
# tokenizer (jieba's dictionary and algorithm, run by jieba-rs) is held to.
_TERMS = ["根治", "湿疹", "全网最低价", "最", "spf", "type-c接口", "降血压", "第一"]


@functools.lru_cache(maxsize=1)
def _reference() -> tuple[ChineseTokenizer, jieba.Tokenizer]:
    reference = jieba.Tokenizer()
    reference.initialize()
    for term in sorted(set(_TERMS)):
        reference.add_word(term)
    return ChineseTokenizer(_TERMS), reference


def _assert_cut_as_jieba(text: str) -> None:
    tokenizer, reference = _reference()
    assert tokenizer.cut(text) == list(reference.cut(text, cut_all=False)), text


_MIXED = st.text(
    alphabet=st.sampled_from(list("家人们今天这个面霜全网最低价根治湿疹降血压第一款好用的了吗呢")
                             + list("abcxyzSPFtype0123456789") + list("+#&._%-/ \t\r\n，。！？、—…·|😀")),
    max_size=24,
)


@settings(max_examples=1500, deadline=None)
@given(_MIXED)
def test_words_are_jiebas_words(text: str) -> None:
    _assert_cut_as_jieba(text)


def test_words_are_jiebas_words_where_jieba_rs_cuts_otherwise() -> None:
    for text in ["这个是type-c接口", "a_b", "x.y", "1.2.3版", "GB/T 8233-2018", "..", "你好..世界", "spf50+防晒",
                 "3.5折", "50%的", "a&b", "#话题#", "摸起来挺舒服的", "最先进的技术"]:
        _assert_cut_as_jieba(text)


def test_corpus_texts_are_cut_as_jieba_cuts_them() -> None:
    """Every text of the shipped corpora and samples, with the shipped rule set's terms."""
    engine_terms = _shipped_terms()
    tokenizer = ChineseTokenizer(engine_terms)
    reference = jieba.Tokenizer()
    reference.initialize()
    for term in sorted(set(engine_terms)):
        if term.strip():
            reference.add_word(term)
    texts = sorted(_shipped_texts())
    assert len(texts) > 3000
    differing = [t for t in texts if tokenizer.cut(t) != list(reference.cut(t, cut_all=False))]
    assert not differing, differing[:5]


def _shipped_terms() -> set[str]:
    from pipeline.detect.matchers import MatcherCompiler
    from pipeline.ruleset import load_ruleset

    ruleset = load_ruleset()
    compiler = MatcherCompiler(ruleset)
    for loaded in ruleset.rules:
        compiler.compile(loaded.spec.match, loaded.spec.id)
    return compiler.terms


def _shipped_texts() -> set[str]:
    from pipeline.ops.livemix import live_mix
    from pipeline.text.normalize import normalize

    texts = {normalize(text).text for text in project_texts()}
    texts.update(normalize(line.text).text for line in live_mix(3000))
    return texts
