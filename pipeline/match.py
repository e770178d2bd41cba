"""Matching: one pass of analysis per segment, then each rule's matcher reads from it.

An `Analysis` holds the normalized text, the spaCy Doc of jieba tokens, and every occurrence of
every term the rule set knows (one Aho-Corasick pass) and every token-pattern match (one spaCy
Matcher pass). Rule matchers are cheap lookups over it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import ahocorasick
import re2
from spacy.matcher import Matcher
from spacy.tokens import Doc

from models.rules import MatcherSpec
from pipeline.normalize import NormalizedText, normalize, normalize_term, substitute
from pipeline.sound import SoundHit, SoundIndex
from pipeline.tokenize import ChineseTokenizer, Token

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
        return max(0, max(self.start, other.start) - min(self.end, other.end))


@dataclass
class Analysis:
    normalized: NormalizedText
    doc: Doc
    tokens: list[Token]
    occurrences: dict[str, list[tuple[int, int]]]
    pattern_hits: dict[str, list[tuple[int, int]]]
    # Words heard as a sound-matched term (根直 as 根治), with their spans in `text`, which
    # already reads the term: every rule sees the claim the host meant.
    restorations: list[SoundHit] = field(default_factory=list)
    token_starts: frozenset[int] = field(init=False)
    token_ends: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        self.token_starts = frozenset(t.start for t in self.tokens)
        self.token_ends = frozenset(t.end for t in self.tokens)

    @property
    def text(self) -> str:
        return self.normalized.text

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


class CompiledMatcher(Protocol):
    def hits(self, analysis: Analysis) -> list[Hit]: ...

    def near_misses(self, analysis: Analysis) -> list[Hit]: ...


@dataclass
class TermsMatcher:
    terms: frozenset[str]
    # Sorted once: set order varies between processes (hash seeds), and the stream's workers and
    # `scan` must report the same term for the same claim.
    ordered: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.ordered = tuple(sorted(self.terms))

    def _all(self, analysis: Analysis) -> Iterable[tuple[str, int, int]]:
        for term in self.ordered:
            for start, end in analysis.occurrences.get(term, ()):
                yield term, start, end

    def hits(self, analysis: Analysis) -> list[Hit]:
        return [
            Hit(start, end, f"term {term}")
            for term, start, end in self._all(analysis)
            if analysis.on_token_boundaries(start, end)
        ]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        """Occurrences inside a longer word (最 in 最近): shown by `explain`, never fired."""
        return [
            Hit(start, end, f"term {term} (inside a longer word, not a whole token)")
            for term, start, end in self._all(analysis)
            if not analysis.on_token_boundaries(start, end)
        ]


@dataclass
class RegexMatcher:
    source: str
    compiled: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = re2.compile(self.source)

    def hits(self, analysis: Analysis) -> list[Hit]:
        # One search first: most regexes match nothing, and finditer costs more to set up.
        if self.compiled.search(analysis.text) is None:
            return []
        return [
            Hit(m.start(), m.end(), f"regex {self.source}")
            for m in self.compiled.finditer(analysis.text)
            if m.end() > m.start()
        ]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return []


@dataclass
class PatternMatcher:
    key: str
    description: str

    def hits(self, analysis: Analysis) -> list[Hit]:
        return [Hit(s, e, f"pattern {self.description}") for s, e in analysis.pattern_hits.get(self.key, ())]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return []


@dataclass
class AnyMatcher:
    children: list[CompiledMatcher]

    def hits(self, analysis: Analysis) -> list[Hit]:
        return [hit for child in self.children for hit in child.hits(analysis)]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return [hit for child in self.children for hit in child.near_misses(analysis)]


@dataclass
class AllMatcher:
    """Every child must match; the first child anchors, the others must stand `within` characters
    of it. The reported span runs from the earliest to the latest part."""

    children: list[CompiledMatcher]
    within: int | None

    def hits(self, analysis: Analysis) -> list[Hit]:
        anchor, *others = self.children
        other_hits = [child.hits(analysis) for child in others]
        if any(not hits for hits in other_hits):
            return []
        combined: list[Hit] = []
        for hit in anchor.hits(analysis):
            parts = [hit]
            for candidates in other_hits:
                in_reach = [c for c in candidates if self.within is None or c.gap_to(hit) <= self.within]
                if not in_reach:
                    break
                parts.append(min(in_reach, key=lambda c: (c.gap_to(hit), c.start)))
            else:
                combined.append(
                    Hit(
                        min(p.start for p in parts),
                        max(p.end for p in parts),
                        " + ".join(p.via for p in parts),
                    )
                )
        return combined

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        if self.hits(analysis):
            return []
        partial = [hit for child in self.children for hit in child.hits(analysis)]
        return [Hit(h.start, h.end, f"{h.via} (only part of an `all` matched)") for h in partial]


_CHARACTER_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_LITERAL_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def literal_words(regex: str) -> set[str]:
    """Runs of two or more Chinese characters written literally in a regex, outside character
    classes: the words it looks for."""
    return set(_LITERAL_WORD.findall(_CHARACTER_CLASS.sub(" ", regex)))


def _describe_pattern(pattern: list[dict[str, Any]]) -> str:
    parts = []
    for token in pattern:
        parts.append(",".join(f"{k}={v}" for k, v in token.items()) if token else "*")
    return "[" + " ".join(parts) + "]"


class MatcherCompiler:
    """Turns MatcherSpecs into compiled matchers, collecting every term for jieba and the
    automaton and every token pattern for the shared spaCy Matcher."""

    def __init__(self, resolve_terms: Any):
        self._resolve = resolve_terms
        # Matcher terms go into jieba's dictionary and the automaton; context terms (from `unless`)
        # only into the automaton, so an exception's phrase never changes how a claim segments.
        self.terms: set[str] = set()
        self.context_terms: set[str] = set()
        # Chinese words written literally in regexes (全网 in "(?:全网|全国)最低"): heard by sound
        # like terms, so a homophone is restored before the regex reads the text.
        self.regex_words: set[str] = set()
        self.patterns: list[tuple[str, list[dict[str, Any]]]] = []
        self._pending: list[tuple[PatternMatcher, list[dict[str, Any]]]] = []

    def normalized_terms(self, items: Iterable[str]) -> frozenset[str]:
        terms = frozenset(normalize_term(t) for t in self._resolve(items))
        self.terms.update(terms)
        return terms

    def context_terms_of(self, items: Iterable[str]) -> frozenset[str]:
        terms = frozenset(normalize_term(t) for t in self._resolve(items))
        self.context_terms.update(terms)
        return terms

    def _collect_token_texts(self, pattern: list[dict[str, Any]]) -> None:
        """Literal token texts in a pattern join jieba's dictionary, so 药监部门 can be one token."""
        for token in pattern:
            for key in ("TEXT", "ORTH", "LOWER", "NORM"):
                value = token.get(key)
                if isinstance(value, str):
                    self.terms.add(value)
                elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                    self.terms.update(v for v in value["IN"] if isinstance(v, str))

    def _expand_pattern(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._expand_pattern(v) for k, v in value.items()}
        if isinstance(value, list):
            expanded: list[Any] = []
            for item in value:
                if isinstance(item, str) and item.startswith("$"):
                    expanded.extend(normalize_term(t) for t in self._resolve([item]))
                else:
                    expanded.append(self._expand_pattern(item))
            return expanded
        if isinstance(value, str) and value.startswith("$"):
            return [normalize_term(t) for t in self._resolve([value])]
        return value

    def compile(self, spec: MatcherSpec, key: str) -> CompiledMatcher:
        if spec.terms is not None:
            return TermsMatcher(self.normalized_terms(spec.terms))
        if spec.regex is not None:
            self.regex_words.update(literal_words(spec.regex))
            return RegexMatcher(spec.regex)
        if spec.pattern is not None:
            pattern = [self._expand_pattern(token) for token in spec.pattern]
            self._collect_token_texts(pattern)
            self.patterns.append((key, pattern))
            return PatternMatcher(key, _describe_pattern(spec.pattern))
        if spec.any is not None:
            return AnyMatcher([self.compile(child, f"{key}.any{i}") for i, child in enumerate(spec.any)])
        assert spec.all is not None
        return AllMatcher([self.compile(child, f"{key}.all{i}") for i, child in enumerate(spec.all)], spec.within)


def analyze(
    text: str, tokenizer: ChineseTokenizer, terms: TermIndex, patterns: PatternIndex, sounds: SoundIndex | None = None
) -> Analysis:
    normalized = normalize(text)
    docs: dict[str, Doc] = {}

    def doc_of(words: str) -> Doc:
        # Sound guards may tokenize the text first; the same text is not tokenized twice.
        if words not in docs:
            docs[words] = tokenizer.doc(words)
        return docs[words]

    restorations: list[SoundHit] = []
    if sounds:
        normalized, restorations = _restore_by_sound(normalized, doc_of, sounds)
    doc = doc_of(normalized.text)
    return Analysis(
        normalized=normalized,
        doc=doc,
        tokens=ChineseTokenizer.tokens(doc),
        occurrences=terms.find_all(normalized.text),
        pattern_hits=patterns.find_all(doc),
        restorations=restorations,
    )


def _restore_by_sound(
    normalized: NormalizedText, doc_of: Callable[[str], Doc], sounds: SoundIndex
) -> tuple[NormalizedText, list[SoundHit]]:
    """Replace what sounds like a sound-matched term with the term (longest first, no overlaps),
    keeping the map to the original words; return the restored spans in the new text."""

    def token_spans() -> list[tuple[int, int]]:
        return [(t.start, t.end) for t in ChineseTokenizer.tokens(doc_of(normalized.text))]

    found = sounds.find_all(normalized, token_spans)
    chosen: list[SoundHit] = []
    for hit in sorted(found, key=lambda h: (-(h.end - h.start), h.start, h.term)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    if not chosen:
        return normalized, []
    chosen.sort(key=lambda h: h.start)
    restored, placed = substitute(normalized, [(h.start, h.end, h.term) for h in chosen])
    moved = [SoundHit(h.term, at, at + len(h.term), h.variant, h.kind) for h, at in zip(chosen, placed)]
    return restored, moved
