"""Required literals ("atoms") of a regex: strings one of which every match must contain.

The prefilter of the engine (Hyperscan and RE2's FilteredRE2 work the same way): a regex is
searched only when one of its atoms occurs in the text, and the atoms of every regex are found in
the one Aho-Corasick pass that also finds the rule terms. A regex whose atoms cannot be known
(`None`) is searched on every text, so an unknown never hides a claim.

The regex is read with Python's own parser (`re._parser`), which agrees with RE2 on the syntax
the rules use; anything it reads differently or not at all gives `None`. Atoms are lower-cased:
the normalized text is, and a case-insensitive regex matches it in lower case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser `re` itself uses

from pipeline.text.tokenize import word_counts

# Sets of exact strings grow by products over a concatenation; past this size a set stops
# growing and the longer strings are no longer tracked.
_MAX_EXACT = 64
# A character class of at most this many characters is read as that many one-character strings.
_MAX_CLASS = 64

# RE2's Unicode classes (\p{Han}, \PN) and POSIX classes ([:alpha:]) stand for one character of
# many: for atoms that is what Python's \w is, inside a class or out.
_RE2_CLASSES = re.compile(r"\\[pP](?:\{[^}]*\}|[A-Za-z])|\[:\^?[a-z]+:\]")
# RE2 syntax with no Python counterpart: \Q...\E quoting, \C. Such regexes have no atoms.
_RE2_ONLY = re.compile(r"\\[QEC]")


@dataclass(frozen=True)
class _Info:
    # Every string the node can match, when there are few of them ("" for an empty match).
    exact: frozenset[str] | None
    # Sets of strings, each of which holds one that every match contains: all of them are
    # required at once (semgrep's and RE2's prefilters AND the literals of a sequence).
    clauses: tuple[frozenset[str], ...] = ()


_ANY = _Info(None)


def _clauses_of(info: _Info) -> tuple[frozenset[str], ...]:
    if info.exact is not None:
        return () if "" in info.exact else (info.exact,)
    return info.clauses


def literal_cost(literal: str) -> float:
    """How often a literal is expected in speech: its count in jieba's dictionary (的 is in most
    sentences, 倍 in few); a string the dictionary lacks is rarer than its rarest character by a
    factor per extra character; a Latin letter or a digit is common."""
    counts = word_counts()
    known = counts.get(literal)
    if known:
        return float(known)
    rarest = min((counts.get(ch) or _COMMON for ch in literal), default=_COMMON)
    return rarest * 0.01 ** (len(literal) - 1)


_COMMON = 100_000


def sharpest(sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The most selective of literal sets each of which is required (the lowest expected count
    of the text holding one of them). None when none is known."""
    known = [s for s in sets if s is not None]
    if not known:
        return None
    return min(known, key=lambda s: (sum(literal_cost(x) for x in s), sorted(s)))


def _concat(parts: list[_Info]) -> _Info:
    exact: frozenset[str] = frozenset({""})
    clauses: list[frozenset[str]] = []
    whole = True  # every part exact and the product still tracked

    def flush(current: frozenset[str]) -> None:
        if "" not in current:
            clauses.append(current)

    for part in parts:
        if part.exact is not None:
            product = frozenset(a + b for a in exact for b in part.exact)
            if len(product) <= _MAX_EXACT:
                exact = product
                continue
            flush(exact)
            exact = part.exact
            whole = False
            continue
        flush(exact)
        whole = False
        clauses.extend(_clauses_of(part))
        exact = frozenset({""})
    if whole:
        return _Info(exact)
    flush(exact)
    return _Info(None, _distinct(clauses))


def _distinct(clauses: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    return tuple(dict.fromkeys(_minimal(clause) for clause in clauses))


def _minimal(clause: frozenset[str]) -> frozenset[str]:
    """A string holding another of the clause adds nothing: {吃, 吃了} is {吃}."""
    if len(clause) > _MAX_EXACT:
        return clause  # a long word list: its words rarely hold each other, and pairs cost
    return frozenset(a for a in clause if not any(b != a and b in a for b in clause))


def _branch(alternatives: list[_Info]) -> _Info:
    if all(a.exact is not None for a in alternatives):
        union = frozenset().union(*(a.exact for a in alternatives if a.exact is not None))
        if len(union) <= _MAX_EXACT:
            return _Info(union)
    # Each alternative requires its sharpest clause; one of those is required.
    sharpest_each = [sharpest(_clauses_of(a)) for a in alternatives]
    if any(s is None for s in sharpest_each):
        return _ANY
    return _Info(None, (frozenset().union(*(s for s in sharpest_each if s is not None)),))


def _class(items: list[tuple[object, object]]) -> _Info:
    chars: set[str] = set()
    for op, value in items:
        if op is sre_parse.LITERAL and isinstance(value, int):
            chars.add(chr(value))
        elif op is sre_parse.RANGE and isinstance(value, tuple) and value[1] - value[0] < _MAX_CLASS:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return _ANY
        if len(chars) > _MAX_CLASS:
            return _ANY
    return _Info(frozenset(chars))


def _node(op: object, value: object) -> _Info:
    if op is sre_parse.LITERAL and isinstance(value, int):
        return _Info(frozenset({chr(value)}))
    if op is sre_parse.AT:
        return _Info(frozenset({""}))
    if op is sre_parse.IN and isinstance(value, list):
        return _class(value)
    if op is sre_parse.SUBPATTERN and isinstance(value, tuple):
        return _sequence(value[-1])
    if op is sre_parse.BRANCH and isinstance(value, tuple):
        return _branch([_sequence(alternative) for alternative in value[1]])
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT) and isinstance(value, tuple):
        low, high, body = value
        inner = _sequence(body)
        if low == 0:
            if high == 1 and inner.exact is not None:
                return _Info(inner.exact | {""})
            return _Info(None)
        if low == high == 1:
            return inner
        return _Info(None, _clauses_of(inner))
    return _ANY


def _sequence(pattern: object) -> _Info:
    return _concat([_node(op, value) for op, value in pattern])  # type: ignore[attr-defined]


def required_clauses(regex: str) -> tuple[frozenset[str], ...]:
    """Sets of strings (lower-cased), each holding one that every match of `regex` contains;
    empty when nothing is known and the regex must be searched on every text."""
    if _RE2_ONLY.search(regex):
        return ()
    try:
        parsed = sre_parse.parse(_RE2_CLASSES.sub(r"\\w", regex))
    except (re.error, RecursionError, OverflowError):
        return ()
    return _distinct(frozenset(atom.lower() for atom in clause) for clause in _clauses_of(_sequence(parsed)))


def required_atoms(regex: str) -> frozenset[str] | None:
    """The most selective of `required_clauses`: strings one of which every match contains, or
    None when none are known."""
    return sharpest(required_clauses(regex))


@dataclass(frozen=True)
class Need:
    """What a text must hold for a matcher to hit: one literal of every clause, and one of the
    options of every group met (the children of an `any`). A Need with nothing in it is met by
    every text."""

    clauses: tuple[frozenset[str], ...] = ()
    groups: tuple[tuple[Need, ...], ...] = ()

    def met_by(self, found: frozenset[str]) -> bool:
        """`found`: the literals that occur in the text."""
        # Plain loops: this runs for every candidate rule of every text.
        for clause in self.clauses:
            if clause.isdisjoint(found):
                return False
        for group in self.groups:
            for option in group:
                if option.met_by(found):
                    break
            else:
                return False
        return True

    @property
    def known(self) -> bool:
        return bool(self.clauses or self.groups)

    def triggers(self) -> frozenset[str] | None:
        """Literals one of which every text meeting the need holds (the sharpest such set), for
        the prefilter's index; None when no such set is known."""
        candidates: list[frozenset[str] | None] = list(self.clauses)
        for group in self.groups:
            each = [option.triggers() for option in group]
            candidates.append(None if any(t is None for t in each) else frozenset().union(*(t for t in each if t)))
        return sharpest(candidates)

    def literals(self) -> set[str]:
        """Every literal the need reads: the automaton must find them all."""
        found = {literal for clause in self.clauses for literal in clause}
        for group in self.groups:
            for option in group:
                found |= option.literals()
        return found


def all_of(needs: Iterable[Need]) -> Need:
    needs = list(needs)
    return Need(_distinct(c for n in needs for c in n.clauses), tuple(g for n in needs for g in n.groups))


def any_of(needs: Iterable[Need]) -> Need:
    options = tuple(needs)
    if not options or any(not option.known for option in options):
        return Need()  # one option any text may meet: so may the whole
    if len(options) == 1:
        return options[0]
    return Need(groups=(options,))
