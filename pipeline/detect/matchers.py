"""Rule matchers: each rule's `match:` compiled once, then read from an `Analysis`.

`MatcherCompiler` turns a rule's MatcherSpec into a matcher and collects, for the whole rule set,
every term (jieba's dictionary and the Aho-Corasick automaton), every token pattern (one spaCy
Matcher) and the Chinese words written literally in regexes (heard by sound).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import re2

from models.rules import MatcherSpec
from pipeline.detect.analysis import Analysis, Hit
from pipeline.detect.atoms import required_atoms, sharpest
from pipeline.ruleset.model import RuleSet
from pipeline.text.normalize import normalize_term


class CompiledMatcher(Protocol):
    def hits(self, analysis: Analysis) -> list[Hit]: ...

    def near_misses(self, analysis: Analysis) -> list[Hit]: ...

    def triggers(self) -> frozenset[str] | None:
        """Literals one of which must occur in the text for the matcher to hit; None when any
        text may do."""
        ...

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        """Spans that every hit is made of, or more, found without tokenizing; None when that
        cannot be known."""
        ...

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        """False only when no hit can start where `starts_in` holds and end where `ends_in` holds
        (checked without tokenizing, so the split-claim window skips rules that cannot cross)."""
        ...


# A test on a span's start or end offset (in the normalized text).
Span = Callable[[int], bool]


def _any_occurs(literals: frozenset[str], analysis: Analysis) -> bool:
    # The text holds few literals and a list may hold thousands: walk the ones found.
    return any(found in literals for found in analysis.occurrences)


@dataclass
class TermsMatcher:
    terms: frozenset[str]

    def triggers(self) -> frozenset[str] | None:
        return self.terms

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        occurrences = analysis.occurrences
        return [span for found in occurrences if found in self.terms for span in occurrences[found]]

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        return any(starts_in(s) and ends_in(e) for s, e in self.parts(analysis) or ())

    def _all(self, analysis: Analysis) -> Iterable[tuple[str, int, int]]:
        occurrences = analysis.occurrences
        for term in sorted(found for found in occurrences if found in self.terms):
            for start, end in occurrences[term]:
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
    atoms: frozenset[str] | None = field(init=False)

    def __post_init__(self) -> None:
        self.compiled = re2.compile(self.source)
        self.atoms = required_atoms(self.source)

    def triggers(self) -> frozenset[str] | None:
        return self.atoms

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        return [(hit.start, hit.end) for hit in self.hits(analysis)]

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        return any(starts_in(hit.start) and ends_in(hit.end) for hit in self.hits(analysis))

    def hits(self, analysis: Analysis) -> list[Hit]:
        if self.atoms is not None and not _any_occurs(self.atoms, analysis):
            return []
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
    atoms: frozenset[str] | None

    def triggers(self) -> frozenset[str] | None:
        return self.atoms

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        return None  # token patterns are matched on tokens

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        return self.atoms is None or _any_occurs(self.atoms, analysis)

    def hits(self, analysis: Analysis) -> list[Hit]:
        if self.atoms is not None and not _any_occurs(self.atoms, analysis):
            return []  # no token the pattern needs: no Doc, no Matcher pass
        return [Hit(s, e, f"pattern {self.description}") for s, e in analysis.pattern_hits.get(self.key, ())]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return []


@dataclass
class AnyMatcher:
    children: list[CompiledMatcher]

    def triggers(self) -> frozenset[str] | None:
        found = [child.triggers() for child in self.children]
        if any(literals is None for literals in found):
            return None
        return frozenset().union(*(literals for literals in found if literals is not None))

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        return _all_parts(self.children, analysis)

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        return any(child.may_span(analysis, starts_in, ends_in) for child in self.children)

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

    def triggers(self) -> frozenset[str] | None:
        # Every child must hit, so any child's literals will do: take the sharpest.
        return sharpest(child.triggers() for child in self.children)

    def parts(self, analysis: Analysis) -> list[tuple[int, int]] | None:
        return _all_parts(self.children, analysis)

    def may_span(self, analysis: Analysis, starts_in: Span, ends_in: Span) -> bool:
        # A hit runs from its earliest part to its latest: some part must start, and some
        # part end, where the span may.
        found = self.parts(analysis)
        if found is None:
            return True
        return any(starts_in(s) for s, _ in found) and any(ends_in(e) for _, e in found)

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


def _all_parts(children: list[CompiledMatcher], analysis: Analysis) -> list[tuple[int, int]] | None:
    found: list[tuple[int, int]] = []
    for child in children:
        spans = child.parts(analysis)
        if spans is None:
            return None
        found.extend(spans)
    return found


_CHARACTER_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_LITERAL_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def literal_words(regex: str) -> set[str]:
    """Runs of two or more Chinese characters written literally in a regex, outside character
    classes: the words it looks for."""
    return set(_LITERAL_WORD.findall(_CHARACTER_CLASS.sub(" ", regex)))


# spaCy OP values under which a token may be absent from a match.
_OPTIONAL_OPS = ("?", "*", "!")


def _token_atoms(token: dict[str, Any]) -> frozenset[str] | None:
    """Texts one of which a token matching this pattern token must be, or start with."""
    op = str(token.get("OP", ""))
    if op in _OPTIONAL_OPS or op.startswith(("{0", "{,")):
        return None
    found: frozenset[str] | None = None
    for key in ("TEXT", "ORTH", "LOWER"):
        value = token.get(key)
        if isinstance(value, str):
            candidate: frozenset[str] | None = frozenset({value.lower()})
        elif isinstance(value, dict) and isinstance(value.get("IN"), list):
            candidate = frozenset(v.lower() for v in value["IN"] if isinstance(v, str))
        elif isinstance(value, dict) and isinstance(value.get("REGEX"), str):
            candidate = required_atoms(value["REGEX"])  # spaCy's REGEX is Python's re: same parser
        else:
            candidate = None
        found = sharpest((found, candidate))
    return found


def pattern_atoms(pattern: list[dict[str, Any]]) -> frozenset[str] | None:
    """Literals one of which every match of a token pattern contains: the texts of its sharpest
    required token (None when no token is both required and literal)."""
    return sharpest(_token_atoms(token) for token in pattern)


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
        # The required literals of regexes and patterns: found in the same automaton as the terms.
        self.atoms: set[str] = set()
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
            matcher = RegexMatcher(regex)
            self.atoms.update(matcher.atoms or ())
            return matcher
        if spec.fragment is not None:
            return self.compile(self._ruleset.fragment(spec.fragment), f"{key}.{spec.fragment}")
        if spec.pattern is not None:
            pattern = [self._expand_pattern(token) for token in spec.pattern]
            self._collect_token_texts(pattern)
            self.patterns.append((key, pattern))
            atoms = pattern_atoms(pattern)
            if atoms:
                self.atoms.update(atoms)
            return PatternMatcher(key, _describe_pattern(spec.pattern), atoms)
        if spec.any is not None:
            return AnyMatcher([self.compile(child, f"{key}.any{i}") for i, child in enumerate(spec.any)])
        assert spec.all is not None
        return AllMatcher([self.compile(child, f"{key}.all{i}") for i, child in enumerate(spec.all)], spec.within)
