"""Tokenization: jieba's dictionary and algorithm, run by jieba-rs (rjieba), with every rule term
in the dictionary; spaCy Docs for token patterns are made from the same words.

Each rule set gets its own dictionary, so loading a second rule set, as `backtest` and the tests
do, never changes how the first one segments text. The words are jieba's own: the terms get the
weights jieba's `add_word` gives them (computed by jieba itself, once, at load), the dictionary
keeps jieba's total weight, and the one place where jieba-rs cuts differently (a run of Latin
letters, digits and symbols that is no word: jieba says `type - c`, jieba-rs `type-c`) is cut as
jieba cuts it. tests/pipeline/text/test_tokenize.py holds the two to the same words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import jieba
import rjieba
import spacy
from spacy.tokens import Doc
from spacy.util import get_words_and_spaces

jieba.setLogLevel(logging.WARNING)

# What jieba's HMM stage splits a run of non-Chinese characters with (jieba.finalseg.re_skip).
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_HAN = re.compile("[\u4e00-\u9fd5]")
# The symbols jieba keeps inside a run of text it segments (jieba.re_han_default).
_JIEBA_SYMBOLS = re.compile(r"[+#&._%\-]")
# jieba counts a word's weight into its total again when a word is added twice; jieba-rs sums
# the words it holds. The difference is kept under a key no text holds (supplementary private use).
_TOTAL_KEEPER = "\U000f0000\U000f0001\U000f0002"


class Token(NamedTuple):
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's own dictionary, read once per process (reading it takes most of a second)."""
    base = jieba.Tokenizer()
    base.initialize()
    return base.FREQ, base.total


def word_counts() -> dict[str, int]:
    """How often each word of jieba's dictionary was seen in its source corpus."""
    return _base_dictionary()[0]


def _weighted_terms(terms: Iterable[str]) -> tuple[dict[str, int], int]:
    """Each term with the weight jieba's `add_word` gives it in this set (weights depend on the
    terms added before, in sorted order), and jieba's total weight afterwards."""
    freq, total = _base_dictionary()
    builder = jieba.Tokenizer()
    # A copy of the shared dictionary, dropped once the weights are known.
    builder.FREQ, builder.total, builder.initialized = dict(freq), total, True
    added: dict[str, int] = {}
    for term in sorted(set(terms)):
        if term.strip():
            # suggest_freq-based weight: the term can be cut out as one token but does not
            # swallow longer dictionary words that merely contain it (最 stays inside 最近).
            builder.add_word(term)
            added[term] = builder.FREQ[term]
    return added, builder.total


class ChineseTokenizer:
    def __init__(self, terms: Iterable[str] = ()):
        base, _ = _base_dictionary()
        self._base = base
        self._added, total = _weighted_terms(terms)
        self._jieba = rjieba.Jieba()
        self._jieba.clear()
        held = 0
        for word, weight in base.items():
            if weight and word not in self._added:
                self._jieba.add_word(word, weight, None)
                held += weight
        for word, weight in self._added.items():
            self._jieba.add_word(word, weight, None)
            held += weight
        if total > held:
            self._jieba.add_word(_TOTAL_KEEPER, total - held, None)
        # Only the vocabulary is used: Docs are made from the words above.
        self.nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})

    def is_word(self, text: str) -> bool:
        """A word of jieba's dictionary (with this rule set's terms), not just a prefix of one."""
        return text in self._added or bool(self._base.get(text))

    def cut(self, text: str) -> list[str]:
        """jieba's words of the text, whitespace included, as `jieba.Tokenizer.cut` gives them."""
        words: list[str] = self._jieba.cut(text)
        if _JIEBA_SYMBOLS.search(text) is None:
            return words  # no symbol inside a word: nothing jieba cuts otherwise
        return [piece for word in words for piece in self._as_jieba(word)]

    def _as_jieba(self, word: str) -> list[str]:
        """A word without Chinese characters that no dictionary holds, cut where jieba's HMM
        stage cuts it (letters and digits apart from the symbols between them)."""
        if not _needs_jieba_skip(word) or self.is_word(word):
            return [word]
        return [piece for piece in _JIEBA_SKIP.split(word) if piece]

    def doc(self, text: str) -> Doc:
        words = [word for word in self.cut(text) if word]
        spaced, spaces = get_words_and_spaces(words, text)
        return Doc(self.nlp.vocab, words=spaced, spaces=spaces)

    def words(self, text: str) -> list[Token]:
        """The tokens of `doc(text)` without building the Doc: jieba's words, whitespace left
        out, at their places in the text (spaCy places them the same way)."""
        found: list[Token] = []
        at = 0
        for word in self.cut(text):
            if word and not word.isspace():
                found.append(Token(word, at, at + len(word)))
            at += len(word)
        return found

    @staticmethod
    def tokens(doc: Doc) -> list[Token]:
        return [Token(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]


def _needs_jieba_skip(word: str) -> bool:
    return len(word) > 1 and not word.isalnum() and _HAN.search(word) is None
