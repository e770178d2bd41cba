"""False-positive filters: small named predicates that decide when a match is not a claim.

Each rule's `unless` list compiles to these. A predicate either holds (the match is lawful or not
a claim, and the reason says why) or not; `explain` shows each by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import cn2an
import re2

from models.events import Category
from models.rules import ConditionSpec, NearSpec
from pipeline.match import Analysis, Hit

# A number said as digits or Chinese numerals, unless a count or unit follows (拍2件, 打5折).
_NUMBER = re.compile(
    r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)(?![件单个盒瓶支袋罐斤克天折号次%.\d]|包(?!邮)|g|ml)"
)


# 八十九块九, 9块9, 十九元八, 九块九毛九: yuan, jiao (and fen) said as one price (89.9, 9.99).
_YUAN_JIAO = re.compile(
    r"(\d+|[零〇一二两三四五六七八九十百千万]+)[块元]([0-9一二三四五六七八九])(?:毛|角)?([0-9一二三四五六七八九])?分?"
    r"(?![0-9零〇一二两三四五六七八九十百千万])"
)
# 1.5万, 3千: digits with a Chinese multiplier.
_DIGITS_TIMES = re.compile(r"(\d+(?:\.\d+)?)\s*([万千])")
_DISCOUNT = re.compile(
    r"(对|[0-9](?:\.[0-9])?|[一二三四五六七八九]点[一二三四五六七八九]|[一二三四五六七八九][一二三四五六七八九]?)折|(半价)"
)
_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _digit(ch: str) -> int:
    return int(ch) if ch.isdigit() else _DIGIT[ch]


def _as_decimal(found: re.Match[str]) -> str:
    try:
        yuan = cn2an.cn2an(found.group(1), "smart")
    except (ValueError, KeyError):
        return found.group(0)
    fen = str(_digit(found.group(3))) if found.group(3) else ""
    return f"{int(yuan)}.{_digit(found.group(2))}{fen}"


def _times(found: re.Match[str]) -> str:
    return f"{float(found.group(1)) * (10000 if found.group(2) == '万' else 1000):g}"


def spoken_discounts(text: str) -> list[float]:
    """Discounts as said, as the share of the price paid: 一折 0.1, 7.5折, 七五折 and 七点五折
    0.75, 对折 and 半价 0.5."""
    shares = []
    for found in _DISCOUNT.finditer(text):
        said = found.group(1) or found.group(2)
        if said in ("对", "半价"):
            shares.append(0.5)
        elif said[0].isdigit():
            shares.append(float(said) / 10)
        else:
            digits = [_DIGIT[c] for c in said if c != "点"]
            shares.append(digits[0] / 10 + (digits[1] / 100 if len(digits) > 1 else 0))
    return shares


def spoken_numbers(text: str) -> list[float]:
    """Prices as said: 999, 九百九十九, 一万二, 1.5万, 八十九块九 all become numbers (cn2an's
    smart mode). Discounts (三折, 七五折) are not prices and are left out."""
    text = _DISCOUNT.sub(" ", text)
    text = _DIGITS_TIMES.sub(_times, text)
    text = _YUAN_JIAO.sub(_as_decimal, text)
    numbers = []
    for found in _NUMBER.finditer(text):
        try:
            numbers.append(float(cn2an.cn2an(found.group(1), "smart")))
        except (ValueError, KeyError):
            continue
    return numbers


@dataclass(frozen=True)
class ProductFacts:
    """What is known of the product on air: from its listing, else from the segment itself."""

    category: Category | None = None
    certifications: tuple[str, ...] = ()
    price: float | None = None
    original_price: float | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    source: str = "none"
    listed: bool = False  # the facts come from a listing, so claims can be compared with it


def _inside(start: int, end: int, hit: Hit) -> bool:
    """Context found inside the match itself is part of the claim, not context around it."""
    return start >= hit.start and end <= hit.end


def _occurs_within(
    analysis: Analysis, terms: list[str], lo: int, hi: int, hit: Hit, in_match: bool
) -> str | None:
    for term in terms:
        for start, end in analysis.occurrences.get(term, ()):
            if start >= lo and end <= hi and (in_match or not _inside(start, end, hit)):
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
    # Sorted: set order varies between processes, and explain must give the same reason everywhere.
    terms, affirmations = sorted(negations), sorted(affirming)
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        clause_start, _ = analysis.clause_bounds(hit.start, hit.end)
        lo = max(clause_start, hit.start - before)
        # "不得不说", "不是我吹" contain a negation but affirm the claim that follows.
        covered = {
            i
            for term in affirmations
            for start, end in analysis.occurrences.get(term, ())
            if end > lo and start < hit.start
            for i in range(start, end)
        }
        for term in terms:
            for start, end in analysis.occurrences.get(term, ()):
                if lo <= start < hit.start:
                    if not any(i in covered for i in range(start, end)):
                        return f"negated by {term!r}"
        return None

    return test


def phrases(allowed: frozenset[str]) -> Callable[..., str | None]:
    terms = sorted(allowed)
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        for term in terms:
            for start, end in analysis.occurrences.get(term, ()):
                if start <= hit.start and end >= hit.end and (end - start) > hit.length:
                    return f"part of allowed phrase {term!r}"
        return None

    return test


def near_terms(context: frozenset[str], spec: NearSpec) -> Callable[..., str | None]:
    terms = sorted(context)
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        lo, hi = _window(analysis, hit, spec)
        found = _occurs_within(analysis, terms, lo, hi, hit, spec.in_match)
        return f"context {found!r} nearby" if found else None

    return test


def near_regex(spec: NearSpec) -> Callable[..., str | None]:
    compiled = re2.compile(spec.regex)

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
        for cert in facts.certifications:
            if compiled.search(cert):
                return f"listing certification {cert!r}"
        return None

    return test


def listing_category(categories: frozenset[Category]) -> Callable[..., str | None]:
    def test(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        if facts.category in categories:
            return f"product category is {facts.category.value}"  # type: ignore[union-attr]
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
) -> Predicate:
    """Build the predicate for one `unless` item; `normalized_terms` resolves `$list` references."""
    describe = spec.description or ""
    if spec.negation is not None:
        neg = spec.negation
        test = negation(normalized_terms(neg.terms), normalized_terms(neg.except_terms), neg.before)
        return Predicate(name, describe or "negated or denied", test)
    if spec.phrases is not None:
        return Predicate(name, describe or "inside an allowed phrase", phrases(normalized_terms(spec.phrases)))
    if spec.near is not None:
        near = spec.near
        test = near_terms(normalized_terms(near.terms), near) if near.terms is not None else near_regex(near)
        return Predicate(name, describe or "lawful context nearby", test)
    assert spec.listing is not None
    listing = spec.listing
    tests: list[Callable[..., str | None]] = []
    if listing.certification is not None:
        tests.append(listing_certification(listing.certification))
    if listing.categories is not None:
        tests.append(listing_category(frozenset(listing.categories)))
    if listing.supports_price:
        tests.append(listing_supports_price())

    def all_hold(analysis: Analysis, hit: Hit, facts: ProductFacts) -> str | None:
        reasons = [t(analysis, hit, facts) for t in tests]
        return "; ".join(r for r in reasons if r) if all(reasons) else None

    return Predicate(name, describe or "the listing makes it lawful", all_hold)

