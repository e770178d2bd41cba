"""False-positive filters: small named predicates that decide when a match is not a claim.

Each rule's `unless` list compiles to these. A predicate either holds (the match is lawful or not
a claim, and the reason says why) or not; `explain` shows each by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import re2

from models.events import Category
from models.rules import ConditionSpec, NearSpec
from pipeline.detect.analysis import Analysis, Hit
from pipeline.detect.facts import ProductFacts
from pipeline.text.numbers import spoken_numbers


def _inside(start: int, end: int, hit: Hit) -> bool:
    """Context found inside the match itself is part of the claim, not context around it."""
    return start >= hit.start and end <= hit.end


def _present(analysis: Analysis, terms: frozenset[str]) -> list[str]:
    """The terms that occur in the text, sorted: set order varies between processes, and explain
    must give the same reason everywhere. (A list may hold thousands, a text holds few.)"""
    return sorted(analysis.found & terms)


def _occurs_within(
    analysis: Analysis, terms: frozenset[str], lo: int, hi: int, hit: Hit, in_match: bool
) -> str | None:
    for term in _present(analysis, terms):
        for start, end in analysis.occurring(term, lo, hi):
            if end <= hi and (in_match or not _inside(start, end, hit)):
                return term
    return None


@dataclass
class Predicate:
    name: str
    describe: str
    test: Callable[[Analysis, Hit, ProductFacts], str | None] = field(repr=False)

    def holds(self, analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        """None when the predicate does not hold, else a short reason."""
        return self.test(analysis, hit, facts)


def negation(negations: frozenset[str], affirming: frozenset[str], before: int) -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        clause_start, _ = analysis.clause_bounds(hit.start, hit.end)
        lo = max(clause_start, hit.start - before)
        # "不得不说", "不是我吹" contain a negation but affirm the claim that follows.
        covered = {
            i
            for term in _present(analysis, affirming)
            for start, end in analysis.occurring(term, lo - len(term) + 1, hit.start)
            for i in range(start, end)
        }
        for term in _present(analysis, negations):
            for start, end in analysis.occurring(term, lo, hit.start):
                if not any(i in covered for i in range(start, end)):
                    return f"negated by {term!r}"
        return None

    return test


def phrases(allowed: frozenset[str]) -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        for term in _present(analysis, allowed):
            if len(term) <= hit.length:
                continue
            for _, end in analysis.occurring(term, hit.end - len(term), hit.start + 1):
                if end >= hit.end:
                    return f"part of allowed phrase {term!r}"
        return None

    return test


def near_terms(context: frozenset[str], spec: NearSpec) -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        lo, hi = _window(analysis, hit, spec)
        found = _occurs_within(analysis, context, lo, hi, hit, spec.in_match)
        return f"context {found!r} nearby" if found else None

    return test


def near_regex(regex: str, spec: NearSpec) -> Callable[..., str | None]:
    compiled = re2.compile(regex)

    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        lo, hi = _window(analysis, hit, spec)
        for found in compiled.finditer(analysis.text[lo:hi]):
            start, end = found.start() + lo, found.end() + lo
            if end > start and (spec.in_match or not _inside(start, end, hit)):
                return f"context {found.group(0)!r} nearby"
        return None

    return test


def _window(analysis: Analysis, hit: Hit, spec: NearSpec) -> tuple[int, int]:
    lo, hi = hit.start - spec.before, hit.end + spec.after
    if not spec.cross_clause:
        clause_lo, clause_hi = analysis.clause_bounds(hit.start, hit.end)
        lo, hi = max(lo, clause_lo), min(hi, clause_hi)
    return max(0, lo), min(len(analysis.text), hi)


def listing_certification(pattern: str) -> Callable[..., str | None]:
    compiled = re2.compile(pattern)

    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        for cert in facts.certifications or ():
            if compiled.search(cert):
                return f"listing certification {cert!r}"
        return None

    return test


def listing_category(categories: frozenset[Category]) -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        if facts.category is not None and facts.category in categories:
            return f"product category is {facts.category.value}"
        return None

    return test


def listing_supports_price() -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        listed = [p for p in (facts.price, facts.original_price) if p is not None]
        if facts.original_price is None:
            return None
        said = spoken_numbers(analysis.text[hit.start : hit.end])
        if said and all(any(abs(s - p) < 0.5 for p in listed) for s in said):
            return f"listing price {facts.price} / original price {facts.original_price} match what was said"
        return None

    return test


def compile_condition(
    name: str,
    spec: ConditionSpec,
    normalized_terms: Callable[[list[str]], frozenset[str]],
    expand_regex: Callable[[str], str],
) -> Predicate:
    """Build the predicate for one `unless` item; `normalized_terms` resolves `$list` references
    in words, `expand_regex` the `$name` references in a regex."""
    describe = spec.description or ""
    if spec.negation is not None:
        neg = spec.negation
        test = negation(normalized_terms(neg.terms), normalized_terms(neg.except_terms), neg.before)
        return Predicate(name, describe or "negated or denied", test)
    if spec.phrases is not None:
        return Predicate(name, describe or "inside an allowed phrase", phrases(normalized_terms(spec.phrases)))
    if spec.near is not None:
        near = spec.near
        if near.terms is not None:
            test = near_terms(normalized_terms(near.terms), near)
        else:
            test = near_regex(expand_regex(near.regex or ""), near)
        return Predicate(name, describe or "lawful context nearby", test)
    assert spec.listing is not None
    listing = spec.listing
    tests: list[Callable[..., str | None]] = []
    if listing.certification is not None:
        tests.append(listing_certification(expand_regex(listing.certification)))
    if listing.categories is not None:
        tests.append(listing_category(frozenset(listing.categories)))
    if listing.supports_price:
        tests.append(listing_supports_price())

    def all_hold(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        reasons = [t(analysis, hit, facts) for t in tests]
        return "; ".join(r for r in reasons if r) if all(reasons) else None

    return Predicate(name, describe or "the listing makes it lawful", all_hold)

