"""One pass of analysis per text: everything the rule matchers read.

An `Analysis` holds the normalized text (with its map to the original), what was heard by sound
and restored, every occurrence of every literal the rule set needs (its terms and the atoms of its
regexes and patterns: one Aho-Corasick pass), and, when a matcher first asks, the jieba tokens (in
a spaCy Doc) and every token-pattern match (one spaCy Matcher pass). Rule matchers
(`pipeline.detect.matchers`) are cheap lookups over it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import ahocorasick
from spacy.matcher import Matcher
from spacy.tokens import Doc

from pipeline.detect.token_regex import with_re2_regexes
from pipeline.text.normalize import NormalizedText, normalize, substitute
from pipeline.text.sound import SoundHit, SoundIndex
from pipeline.text.tokenize import ChineseTokenizer, Token

_WHITESPACE_RUN = re.compile(r"\s+")
CLAUSE_BREAKS = frozenset(",，。!！?？;；:：\n\r")
# How far an alert's evidence may widen to take in the rest of a word the match cut.
WORD_REACH = 4


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


Item = TypeVar("Item")


def longest_apart(items: Iterable[Item], span: Callable[[Item], tuple[int, int]],
                  order: Callable[[Item], Any]) -> list[Item]:
    """The items taken in `order` (longest first, say), each kept unless its span overlaps one
    kept before; returned in text order. Bisection over the kept spans, which never overlap, so
    a text with thousands of hits costs k log k, not k squared."""
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Item] = []
    for item in sorted(items, key=order):
        start, end = span(item)
        at = bisect_left(starts, end)  # kept spans before `at` start before this one ends
        if at and ends[at - 1] > start:
            continue
        starts.insert(at, start)
        ends.insert(at, end)
        kept.insert(at, item)
    return kept


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
        restorations = self.restorations
        if len(restorations) < 8:
            return next((r for r in restorations if r.start < end and r.end > start), None)
        # Restorations are in text order and do not overlap: the first ending after `start`.
        at = bisect_right(self._restoration_ends, start)
        return restorations[at] if at < len(restorations) and restorations[at].start < end else None

    @cached_property
    def _restoration_ends(self) -> list[int]:
        return [r.end for r in self.restorations]

    def whole_words(self, start: int, end: int) -> tuple[int, int]:
        """The span widened to the words it cuts (最显 of 最显瘦, 最划 of 最划算), by at most
        WORD_REACH characters a side and never past a clause break: what a reviewer reads as the
        claim."""
        tokens = self.tokens
        if not tokens or end <= start:
            return start, end
        starts = self._token_start_list
        first = tokens[max(0, bisect_right(starts, start) - 1)]
        last = tokens[max(0, bisect_right(starts, end - 1) - 1)]
        text = self.text
        wide_start = first.start if first.end > start and start - first.start <= WORD_REACH else start
        wide_end = last.end if last.start < end and last.end - end <= WORD_REACH else end
        if any(ch in CLAUSE_BREAKS or ch.isspace() for ch in text[wide_start:start] + text[end:wide_end]):
            return start, end
        pauses = self.normalized.pauses  # a dropped space: the host paused there
        if any(wide_start < p <= start or end <= p < wide_end for p in pauses):
            return start, end
        return wide_start, wide_end

    @cached_property
    def _token_start_list(self) -> list[int]:
        return [t.start for t in self.tokens]

    def on_token_boundaries(self, start: int, end: int) -> bool:
        return start in self.token_starts and end in self.token_ends

    def clause_bounds(self, start: int, end: int) -> tuple[int, int]:
        """The clause around a span: up to punctuation or a spoken pause (dropped whitespace)."""
        lefts, rights = self._clause_cuts
        return lefts[bisect_right(lefts, start) - 1], rights[bisect_left(rights, end)]

    @cached_property
    def _clause_cuts(self) -> tuple[list[int], list[int]]:
        """Where clauses may begin (after a break, at a pause, at 0) and end (at a break or a
        pause, at the end), sorted: a clause is found by bisection, so a long text with many
        claims costs a logarithm per claim, not its length."""
        text, pauses = self.text, self.normalized.pauses
        breaks = [i for i, char in enumerate(text) if char in CLAUSE_BREAKS]
        lefts = sorted({0, *pauses, *(i + 1 for i in breaks)})
        rights = sorted({len(text), *pauses, *breaks})
        return lefts, rights

    def occurring(self, term: str, lo: int, hi: int) -> list[tuple[int, int]]:
        """The occurrences of `term` that start in [lo, hi), in text order."""
        spans = self.occurrences.get(term)
        if not spans:
            return []
        starts = self._starts.get(term)
        if starts is None:
            starts = self._starts[term] = [start for start, _ in spans]
        return spans[bisect_left(starts, lo) : bisect_left(starts, hi)]

    @cached_property
    def _starts(self) -> dict[str, list[int]]:
        return {}


class TermIndex:
    """Every term of the rule set (matchers, phrases, context words) in one automaton."""

    def __init__(self, terms: Iterable[str]):
        self._automaton = ahocorasick.Automaton()
        for term in sorted(set(terms)):
            if term:
                self._automaton.add_word(term, (term, len(term) - 1))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def find_all(self, text: str) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = {}
        if self._empty:
            return found
        # Plain dict and the length kept with the term: this loop runs for every literal of
        # every text.
        for end_index, (term, back) in self._automaton.iter(text):
            spans = found.get(term)
            if spans is None:
                found[term] = [(end_index - back, end_index + 1)]
            else:
                spans.append((end_index - back, end_index + 1))
        return found


class PatternIndex:
    """All token patterns of the rule set in one spaCy Matcher, keyed by an id per pattern."""

    def __init__(self, tokenizer: ChineseTokenizer):
        self._matcher = Matcher(tokenizer.nlp.vocab)
        self._count = 0

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        self._matcher.add(key, [with_re2_regexes(pattern)])
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
    chosen = longest_apart(found, lambda h: (h.start, h.end), lambda h: (-(h.end - h.start), h.start, h.term))
    if not chosen:
        return normalized, []
    restored, placed = substitute(normalized, [(h.start, h.end, h.term) for h in chosen])
    moved = [SoundHit(h.term, at, at + len(h.term), h.variant, h.kind) for h, at in zip(chosen, placed, strict=True)]
    return restored, moved
