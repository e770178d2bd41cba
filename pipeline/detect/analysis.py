"""One pass of analysis per text: everything the rule matchers read.

An `Analysis` holds the normalized text (with its map to the original), what was heard by sound
and restored, every occurrence of every literal the rule set needs (its terms and the atoms of its
regexes and patterns: one Aho-Corasick pass), and, when a matcher first asks, the jieba tokens (in
a spaCy Doc) and every token-pattern match (one spaCy Matcher pass). Rule matchers
(`pipeline.detect.matchers`) are cheap lookups over it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import ahocorasick
from spacy.matcher import Matcher
from spacy.tokens import Doc

from pipeline.text.normalize import NormalizedText, normalize, substitute
from pipeline.text.sound import SoundHit, SoundIndex
from pipeline.text.tokenize import ChineseTokenizer, Token

_WHITESPACE_RUN = re.compile(r"\s+")
CLAUSE_BREAKS = frozenset(",，。!！?？;；:：\n\r")


@dataclass(frozen=True)
class Hit:
    """A span of the normalized text that a matcher found, and what found it."""

    start: int
    end: int
    via: str

    @property
    def length(self) -> int:
        return self.end - self.start

    def gap_to(self, other: Hit) -> int:
        """Characters between two spans; 0 when they touch or overlap."""
        return span_gap((self.start, self.end), (other.start, other.end))


def span_gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Characters between two [start, end) spans; 0 when they touch or overlap."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


@dataclass
class Analysis:
    """What the matchers read. Tokens, the spaCy Doc and token-pattern matches are made on first
    use: a text in which no rule finds a candidate is never tokenized."""

    normalized: NormalizedText
    occurrences: dict[str, list[tuple[int, int]]]
    tokenizer: ChineseTokenizer = field(repr=False)
    patterns: PatternIndex = field(repr=False)
    # Words heard as a sound-matched term (根直 as 根治), with their spans in `text`, which
    # already reads the term: every rule sees the claim the host meant.
    restorations: list[SoundHit] = field(default_factory=list)
    # Tokens already made while restoring sounds, by text: the final text is not tokenized twice.
    made: dict[str, list[Token]] = field(default_factory=dict, repr=False)
    # The normalized text before sounds were restored (None: `normalized` is it).
    unrestored: NormalizedText | None = field(default=None, repr=False)

    @property
    def plain(self) -> NormalizedText:
        """The normalized text as normalization made it, before any sound was restored."""
        return self.unrestored if self.unrestored is not None else self.normalized

    @property
    def text(self) -> str:
        return self.normalized.text

    @cached_property
    def found(self) -> frozenset[str]:
        """The literals that occur in the text."""
        return frozenset(self.occurrences)

    @cached_property
    def doc(self) -> Doc:
        """The spaCy Doc, made only for token patterns (`tokens` needs none)."""
        return self.tokenizer.doc(self.text)

    @cached_property
    def tokens(self) -> list[Token]:
        made = self.made.get(self.text)
        return made if made is not None else self.tokenizer.words(self.text)

    @cached_property
    def word_texts(self) -> frozenset[str]:
        """Every word of the text, whitespace included: what a spaCy token's text can be."""
        return frozenset(self.tokenizer.cut(self.text)) | frozenset(_WHITESPACE_RUN.findall(self.text))

    @cached_property
    def token_starts(self) -> frozenset[int]:
        return frozenset(t.start for t in self.tokens)

    @cached_property
    def token_ends(self) -> frozenset[int]:
        return frozenset(t.end for t in self.tokens)

    @cached_property
    def pattern_hits(self) -> dict[str, list[tuple[int, int]]]:
        return self.patterns.find_all(self.doc)

    def evasion_in(self, start: int, end: int) -> SoundHit | None:
        """The first restored word inside a matched span, if the claim was said by sound."""
        return next((r for r in self.restorations if r.start < end and r.end > start), None)

    def on_token_boundaries(self, start: int, end: int) -> bool:
        return start in self.token_starts and end in self.token_ends

    def clause_bounds(self, start: int, end: int) -> tuple[int, int]:
        """The clause around a span: up to punctuation or a spoken pause (dropped whitespace)."""
        text, pauses = self.text, self.normalized.pauses
        left = start
        while left > 0 and text[left - 1] not in CLAUSE_BREAKS and left not in pauses:
            left -= 1
        right = end
        while right < len(text) and text[right] not in CLAUSE_BREAKS and right not in pauses:
            right += 1
        return left, right


class TermIndex:
    """Every term of the rule set (matchers, phrases, context words) in one automaton."""

    def __init__(self, terms: Iterable[str]):
        self._automaton = ahocorasick.Automaton()
        for term in sorted(set(terms)):
            if term:
                self._automaton.add_word(term, term)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find_all(self, text: str) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)
        if self._empty:
            return found
        for end_index, term in self._automaton.iter(text):
            found[term].append((end_index - len(term) + 1, end_index + 1))
        return found


class PatternIndex:
    """All token patterns of the rule set in one spaCy Matcher, keyed by an id per pattern."""

    def __init__(self, tokenizer: ChineseTokenizer):
        self._matcher = Matcher(tokenizer.nlp.vocab)
        self._count = 0

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        self._matcher.add(key, [pattern])
        self._count += 1

    def find_all(self, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)
        if not self._count:
            return found
        for match_id, start, end in self._matcher(doc):
            span = doc[start:end]
            found[doc.vocab.strings[match_id]].append((span.start_char, span.end_char))
        return found


def analyze(
    text: str, tokenizer: ChineseTokenizer, terms: TermIndex, patterns: PatternIndex, sounds: SoundIndex | None = None
) -> Analysis:
    return analyze_normalized(normalize(text), tokenizer, terms, patterns, sounds)


def analyze_normalized(
    normalized: NormalizedText,
    tokenizer: ChineseTokenizer,
    terms: TermIndex,
    patterns: PatternIndex,
    sounds: SoundIndex | None = None,
) -> Analysis:
    """`analyze` of a text already normalized."""
    plain = normalized
    made: dict[str, list[Token]] = {}

    def words_of(words: str) -> list[Token]:
        # Sound guards may tokenize the text first; the same text is not tokenized twice.
        if words not in made:
            made[words] = tokenizer.words(words)
        return made[words]

    restorations: list[SoundHit] = []
    if sounds:
        normalized, restorations = _restore_by_sound(normalized, words_of, sounds)
    unrestored = plain if restorations else None
    return Analysis(normalized, terms.find_all(normalized.text), tokenizer, patterns, restorations, made, unrestored)


def _restore_by_sound(
    normalized: NormalizedText, words_of: Callable[[str], list[Token]], sounds: SoundIndex
) -> tuple[NormalizedText, list[SoundHit]]:
    """Replace what sounds like a sound-matched term with the term (longest first, no overlaps),
    keeping the map to the original words; return the restored spans in the new text."""

    def token_spans() -> list[tuple[int, int]]:
        return [(t.start, t.end) for t in words_of(normalized.text)]

    found = sounds.find_all(normalized, token_spans)
    chosen: list[SoundHit] = []
    for hit in sorted(found, key=lambda h: (-(h.end - h.start), h.start, h.term)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    if not chosen:
        return normalized, []
    chosen.sort(key=lambda h: h.start)
    restored, placed = substitute(normalized, [(h.start, h.end, h.term) for h in chosen])
    moved = [SoundHit(h.term, at, at + len(h.term), h.variant, h.kind) for h, at in zip(chosen, placed, strict=True)]
    return restored, moved
