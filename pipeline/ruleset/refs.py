"""How rules refer to what is defined once: `$name` for a word list in `terms`, `phrases` and token
patterns; `$name` for a regex fragment or a word list inside a regex; `{fragment: name}` for a
named matcher; a bare name in `unless` for a condition. Walkers over the specs that find them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from models.rules import ConditionSpec, MatcherSpec, RuleSpec

LIST_REF = re.compile(r"^\$([a-z][a-z0-9_-]*)$")
# Inside a regex a name ends at the first character that cannot be in it; `\$` is a literal dollar.
REGEX_REF = re.compile(r"(?<!\\)\$([a-z][a-z0-9_]*)")


def iter_matchers(spec: MatcherSpec) -> Iterator[MatcherSpec]:
    """The matcher and every matcher nested in it (not following fragment references)."""
    yield spec
    for child in (spec.all or []) + (spec.any or []):
        yield from iter_matchers(child)


def list_refs(items: Iterable[Any]) -> Iterator[str]:
    """The list names referenced as `$name` among terms, phrases or token-pattern values."""
    for item in items:
        if isinstance(item, str):
            ref = LIST_REF.match(item)
            if ref:
                yield ref.group(1)
        elif isinstance(item, dict):
            yield from list_refs(item.values())
        elif isinstance(item, list):
            yield from list_refs(item)


def regex_refs(regex: str) -> list[str]:
    return REGEX_REF.findall(regex)


def pattern_regexes(value: Any) -> Iterator[str]:
    """REGEX values in token patterns. spaCy runs them with Python's re over single tokens; lint
    holds them to RE2's syntax so that no rule author can write a backtracking construct."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "REGEX" and isinstance(item, str):
                yield item
            else:
                yield from pattern_regexes(item)
    elif isinstance(value, list):
        for item in value:
            yield from pattern_regexes(item)


def condition_list_refs(cond: ConditionSpec) -> Iterator[str]:
    if cond.negation:
        yield from list_refs(cond.negation.terms)
        yield from list_refs(cond.negation.except_terms)
    if cond.phrases:
        yield from list_refs(cond.phrases)
    if cond.near and cond.near.terms:
        yield from list_refs(cond.near.terms)


def condition_regexes(cond: ConditionSpec) -> Iterator[str]:
    if cond.near and cond.near.regex:
        yield cond.near.regex
    if cond.listing and cond.listing.certification:
        yield cond.listing.certification


def matcher_list_refs(spec: MatcherSpec) -> Iterator[str]:
    for matcher in iter_matchers(spec):
        yield from list_refs(matcher.terms or [])
        yield from list_refs(matcher.pattern or [])


def matcher_regexes(spec: MatcherSpec) -> Iterator[str]:
    for matcher in iter_matchers(spec):
        if matcher.regex is not None:
            yield matcher.regex


def contradiction_list_refs(spec: RuleSpec) -> list[str]:
    contradicts = spec.contradicts
    if contradicts is None:
        return []
    words = list(contradicts.exclusive) + [w for ws in (contradicts.values or {}).values() for w in ws]
    return list(list_refs(words))
