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
from pipeline.detect.analysis import Analysis, Hit, span_gap
from pipeline.detect.atoms import Need, all_of, any_of, required_clauses
from pipeline.ruleset.model import RuleSet
from pipeline.text.normalize import normalize_term


class CompiledMatcher(Protocol):
    def hits(self, analysis: Analysis) -> list[Hit]: ...

    def near_misses(self, analysis: Analysis) -> list[Hit]: ...

    def need(self) -> Need:
        """The literals the text must hold for the matcher to hit (met by any text when none
        are known)."""
        ...

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        """Spans that cover every hit (each hit lies inside one), found without tokens or a
        Doc: the split-claim window asks whether a hit could cross a boundary before paying
        for the hits themselves."""
        ...



@dataclass
class TermsMatcher:
    terms: frozenset[str]

    def need(self) -> Need:
        return Need((self.terms,))

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

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        return [(start, end) for _, start, end in self._all(analysis)]

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
    needed: Need = field(init=False)

    def __post_init__(self) -> None:
        self.compiled = re2.compile(self.source)
        self.needed = Need(required_clauses(self.source))

    def need(self) -> Need:
        return self.needed

    def hits(self, analysis: Analysis) -> list[Hit]:
        if not self.needed.met_by(analysis.found):
            return []
        # One search first: most regexes match nothing, and finditer costs more to set up.
        if self.compiled.search(analysis.text) is None:
            return []
        return [
            Hit(m.start(), m.end(), f"regex {self.source}")
            for m in self.compiled.finditer(analysis.text)
            if m.end() > m.start()
        ]

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        return [(hit.start, hit.end) for hit in self.hits(analysis)]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return []


@dataclass
class PatternMatcher:
    key: str
    description: str
    needed: Need
    # For each token the pattern requires, a test one of the text's words must pass (its TEXT,
    # ORTH or LOWER conditions): a text failing one has no match, and no Doc is made for it.
    word_tests: tuple[WordTest, ...] = ()

    def need(self) -> Need:
        return self.needed

    def _may_match(self, analysis: Analysis) -> bool:
        if not self.needed.met_by(analysis.found):
            return False  # no token the pattern needs: no Doc, no Matcher pass
        if self.word_tests:
            words = analysis.word_texts
            return all(any(test(word) for word in words) for test in self.word_tests)
        return True

    def hits(self, analysis: Analysis) -> list[Hit]:
        if not self._may_match(analysis):
            return []
        return [Hit(s, e, f"pattern {self.description}") for s, e in analysis.pattern_hits.get(self.key, ())]

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        """The whole text when the pattern may match: where needs the Doc."""
        return [(0, len(analysis.text))] if self._may_match(analysis) else []

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return []


@dataclass
class AnyMatcher:
    children: list[CompiledMatcher]

    def need(self) -> Need:
        return any_of(child.need() for child in self.children)

    def hits(self, analysis: Analysis) -> list[Hit]:
        return [hit for child in self.children for hit in child.hits(analysis)]

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        return [span for child in self.children for span in child.reach(analysis)]

    def near_misses(self, analysis: Analysis) -> list[Hit]:
        return [hit for child in self.children for hit in child.near_misses(analysis)]


@dataclass
class AllMatcher:
    """Every child must match; the first child anchors, the others must stand `within` characters
    of it. The reported span runs from the earliest to the latest part."""

    children: list[CompiledMatcher]
    within: int | None

    def need(self) -> Need:
        return all_of(child.need() for child in self.children)

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

    def reach(self, analysis: Analysis) -> list[tuple[int, int]]:
        """Per anchor span, the span from the earliest to the latest span of every other child
        within reach of it: a hit takes one of them per child, so it lies inside."""
        anchor, *others = self.children
        other_spans = [child.reach(analysis) for child in others]
        if any(not spans for spans in other_spans):
            return []
        covered: list[tuple[int, int]] = []
        for start, end in anchor.reach(analysis):
            low, high = start, end
            for spans in other_spans:
                in_reach = [s for s in spans if self.within is None or span_gap(s, (start, end)) <= self.within]
                if not in_reach:
                    break
                low = min(low, min(s for s, _ in in_reach))
                high = max(high, max(e for _, e in in_reach))
            else:
                covered.append((low, high))
        return covered

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


# spaCy OP values under which a token may be absent from a match.
_OPTIONAL_OPS = ("?", "*", "!")


def _required(token: dict[str, Any]) -> bool:
    """Every match of the pattern has a token matching this one (its OP allows no absence)."""
    op = str(token.get("OP", ""))
    return not (op in _OPTIONAL_OPS or op.startswith(("{0", "{,")))


def _token_clauses(token: dict[str, Any]) -> list[frozenset[str]]:
    """Sets of texts, one of each of which a token matching this pattern token holds."""
    if not _required(token):
        return []
    found: list[frozenset[str]] = []
    for key in ("TEXT", "ORTH", "LOWER"):
        value = token.get(key)
        if isinstance(value, str):
            found.append(frozenset({value.lower()}))
        elif isinstance(value, dict) and isinstance(value.get("IN"), list):
            found.append(frozenset(v.lower() for v in value["IN"] if isinstance(v, str)))
        elif isinstance(value, dict) and isinstance(value.get("REGEX"), str):
            found.extend(required_clauses(value["REGEX"]))  # spaCy's REGEX is Python's re: same parser
    return found


# Regex syntax that can match whitespace, which spaCy may make a token of its own: a REGEX with
# any of it gives no word test.
_MAY_MATCH_SPACE = re.compile(r"\\[sSWDpPhHvV]|\.|\[\^|\s|\\[tnrfu]")


# Word-test verdicts remembered per test; past this a test's memory starts over.
_VERDICTS_KEPT = 50_000


@dataclass(frozen=True)
class WordTest:
    """Conditions of one pattern token on the text of a word (one of its TEXT, ORTH, LOWER)."""

    lower: bool
    allowed: frozenset[str] | None = None
    regex: re2._Regexp | None = None
    barred: frozenset[str] = frozenset()
    # A verdict reads the word alone, and live talk says the same words all day: an RE2 search
    # costs far more than a lookup.
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, word: str) -> bool:
        verdict = self._verdicts.get(word)
        if verdict is None:
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()
            verdict = self._verdicts[word] = self._judge(word)
        return verdict

    def _judge(self, word: str) -> bool:
        if self.lower:
            word = word.lower()
        if self.allowed is not None and word not in self.allowed:
            return False
        if self.regex is not None and self.regex.search(word) is None:
            return False
        return word not in self.barred


def _word_tests(token: dict[str, Any]) -> list[WordTest]:
    """What the text of a word matching this pattern token must satisfy (nothing when the token
    may be absent, or its conditions could hold for whitespace)."""
    if not _required(token):
        return []
    tests: list[WordTest] = []
    for key in ("TEXT", "ORTH", "LOWER"):
        value = token.get(key)
        lower = key == "LOWER"
        if isinstance(value, str) and value.strip():
            tests.append(WordTest(lower, allowed=frozenset({value})))
        elif isinstance(value, dict):
            listed = value.get("IN")
            allowed = frozenset(v for v in listed if isinstance(v, str)) if isinstance(listed, list) else None
            if allowed is not None and (not allowed or any(not v.strip() for v in allowed)):
                allowed = None
            regex = value.get("REGEX")
            compiled = re2.compile(regex) if isinstance(regex, str) and not _MAY_MATCH_SPACE.search(regex) else None
            unlisted = value.get("NOT_IN")
            barred = frozenset(v for v in unlisted if isinstance(v, str)) if isinstance(unlisted, list) else frozenset()
            if allowed is not None or compiled is not None:  # NOT_IN alone may hold for whitespace
                tests.append(WordTest(lower, allowed, compiled, barred))
    return tests


def pattern_word_tests(pattern: list[dict[str, Any]]) -> tuple[WordTest, ...]:
    """Per required token, what some word of a text must pass for the pattern to match in it."""
    return tuple(test for token in pattern for test in _word_tests(token))


def pattern_need(pattern: list[dict[str, Any]]) -> Need:
    """The literals every match of a token pattern holds: those of each required token."""
    return all_of(Need(tuple(_token_clauses(token))) for token in pattern)


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
            self.atoms.update(matcher.needed.literals())
            return matcher
        if spec.fragment is not None:
            return self.compile(self._ruleset.fragment(spec.fragment), f"{key}.{spec.fragment}")
        if spec.pattern is not None:
            pattern = [self._expand_pattern(token) for token in spec.pattern]
            self._collect_token_texts(pattern)
            self.patterns.append((key, pattern))
            needed = pattern_need(pattern)
            self.atoms.update(needed.literals())
            return PatternMatcher(key, _describe_pattern(spec.pattern), needed, pattern_word_tests(pattern))
        if spec.any is not None:
            return AnyMatcher([self.compile(child, f"{key}.any{i}") for i, child in enumerate(spec.any)])
        assert spec.all is not None
        return AllMatcher([self.compile(child, f"{key}.all{i}") for i, child in enumerate(spec.all)], spec.within)
