"""Rule matchers: each rule's `match:` compiled once, then read from an `Analysis`.

`MatcherCompiler` turns a rule's MatcherSpec into a matcher and collects, for the whole rule set,
every term (jieba's dictionary and the Aho-Corasick automaton), every token pattern (one spaCy
Matcher) and the Chinese words written literally in regexes (heard by sound).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import re2

from models.rules import MatcherSpec
from pipeline.detect.analysis import Analysis, Hit
from pipeline.ruleset.model import RuleSet
from pipeline.text.normalize import normalize_term


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

    def __init__(self, ruleset: RuleSet):
        self._ruleset = ruleset
        self._resolve = ruleset.resolve_terms
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
            regex = self._ruleset.expand_regex(spec.regex)
            self.regex_words.update(literal_words(regex))
            return RegexMatcher(regex)
        if spec.fragment is not None:
            return self.compile(self._ruleset.fragment(spec.fragment), f"{key}.{spec.fragment}")
        if spec.pattern is not None:
            pattern = [self._expand_pattern(token) for token in spec.pattern]
            self._collect_token_texts(pattern)
            self.patterns.append((key, pattern))
            return PatternMatcher(key, _describe_pattern(spec.pattern))
        if spec.any is not None:
            return AnyMatcher([self.compile(child, f"{key}.any{i}") for i, child in enumerate(spec.any)])
        assert spec.all is not None
        return AllMatcher([self.compile(child, f"{key}.all{i}") for i, child in enumerate(spec.all)], spec.within)
