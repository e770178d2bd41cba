"""Tokenization: jieba, with every rule term in its dictionary, inside spaCy's `zh` pipeline.

Each rule set gets its own jieba dictionary (a `jieba.Tokenizer`, not the global one), so loading a
second rule set, as `backtest` and the tests do, never changes how the first one segments text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jieba
import spacy
from spacy.tokens import Doc

jieba.setLogLevel(logging.WARNING)


@dataclass(frozen=True)
class Token:
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


class ChineseTokenizer:
    def __init__(self, terms: Iterable[str] = ()):
        self._jieba = jieba.Tokenizer()
        freq, total = _base_dictionary()
        # A copy of the shared dictionary: this rule set's words go into its own.
        self._jieba.FREQ, self._jieba.total, self._jieba.initialized = dict(freq), total, True
        for term in sorted(set(terms)):
            if term.strip():
                # suggest_freq-based weight: the term can be cut out as one token but does not
                # swallow longer dictionary words that merely contain it (最 stays inside 最近).
                self._jieba.add_word(term)
        self.nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
        # spaCy's zh tokenizer calls `jieba_seg.cut`; give it this rule set's own dictionary.
        tokenizer: Any = self.nlp.tokenizer  # spaCy's ChineseTokenizer, typed as a plain callable
        tokenizer.segmenter = "jieba"
        tokenizer.jieba_seg = self._jieba

    def is_word(self, text: str) -> bool:
        """A word of jieba's dictionary (with this rule set's terms), not just a prefix of one."""
        return bool(self._jieba.FREQ.get(text))

    def doc(self, text: str) -> Doc:
        return self.nlp.make_doc(text)

    def words(self, text: str) -> list[Token]:
        """The tokens of `doc(text)` without building the Doc: jieba's words, whitespace left
        out, at their places in the text (spaCy's zh tokenizer places them the same way)."""
        found: list[Token] = []
        at = 0
        for word in self._jieba.cut(text, cut_all=False):
            if word and not word.isspace():
                found.append(Token(word, at, at + len(word)))
            at += len(word)
        return found

    @staticmethod
    def tokens(doc: Doc) -> list[Token]:
        return [Token(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
