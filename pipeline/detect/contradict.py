"""Claims the listing contradicts: what the host says about the product on air against what its
listing says (materials, origin, size, certificates, prices). The check runs after a rule's
`unless` exceptions; it either names both sides of a contradiction, or says why there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import re2

from models.alerts import ListingConflict
from models.rules import ContradictionSpec
from pipeline.detect.analysis import Analysis, Hit
from pipeline.detect.facts import ProductFacts
from pipeline.text.normalize import normalize_term
from pipeline.text.numbers import price_end, quantities, spoken_discounts, spoken_numbers


@dataclass(frozen=True)
class Verdict:
    """A contradiction (`conflict`), or none and why (`reason`); `unknown` when the listing
    does not say, so nothing could be compared."""

    conflict: ListingConflict | None = None
    reason: str = ""
    unknown: bool = False


class Contradiction:
    def __init__(
        self,
        spec: ContradictionSpec,
        resolve_terms: Callable[[list[str]], list[str]],
        expand_regex: Callable[[str], str],
    ):
        self.spec = spec
        # word -> the canonical value it names, longest words first so 纯棉 wins over 棉.
        self._names: list[tuple[str, str]] = sorted(
            ((normalize_term(word), value) for value, words in (spec.values or {}).items()
             for word in [*resolve_terms(words), value]),
            key=lambda pair: -len(pair[0]),
        )
        self._exclusive = [normalize_term(w) for w in resolve_terms(spec.exclusive)]
        self._certification = re2.compile(expand_regex(spec.certification)) if spec.certification else None

    def judge(self, analysis: Analysis, hit: Hit, facts: ProductFacts) -> Verdict:
        said = analysis.text[hit.start : hit.end]
        if not facts.listed:
            return Verdict(reason="no listing to compare with", unknown=True)
        field = self.spec.field
        if field == "certifications":
            return self._certifications(said, facts)
        if field == "price":
            # A price said as 六十九块九 can end past the match (六十九): its jiao changes the number.
            priced = analysis.text[hit.start : price_end(analysis.text, hit.end)]
            return self._price(said, priced, facts)
        return self._attribute(said, facts)

    def values_in(self, text: str) -> set[str]:
        """The canonical values a text names (each word counted once, longest first)."""
        found: set[str] = set()
        taken = [False] * len(text)
        for word, value in self._names:
            start = text.find(word)
            while start != -1:
                if not any(taken[start : start + len(word)]):
                    found.add(value)
                    taken[start : start + len(word)] = [True] * len(word)
                start = text.find(word, start + 1)
        return found

    def _attribute(self, said: str, facts: ProductFacts) -> Verdict:
        attributes = dict(facts.attributes)
        name = next((n for n in self.spec.attribute_names if n in attributes), None)
        if name is None:
            return Verdict(reason=f"the listing has no {self.spec.field.removeprefix('attributes.')}", unknown=True)
        listed_text = attributes[name]
        if self.spec.quantities:
            return _compare_quantities(said, name, listed_text)
        claimed, listed = self.values_in(said), self.values_in(normalize_term(listed_text))
        if not claimed:
            return Verdict(reason="the claim names no value the rule knows", unknown=True)
        if not listed:
            return Verdict(reason=f"the listed {name} {listed_text!r} names no value the rule knows", unknown=True)
        conflict = ListingConflict(field=f"attributes.{name}", listed=listed_text, said=said)
        if not claimed & listed:
            return Verdict(conflict)
        if any(word in said for word in self._exclusive) and listed - claimed:
            return Verdict(conflict)
        return Verdict(reason=f"the listed {name} {listed_text!r} agrees")

    def _certifications(self, said: str, facts: ProductFacts) -> Verdict:
        assert self._certification is not None
        if facts.certifications is None:
            return Verdict(reason="the listing says nothing about certifications", unknown=True)
        if any(self._certification.search(c) for c in facts.certifications):
            return Verdict(reason="the listing shows a matching certification")
        listed = ", ".join(facts.certifications) or "none"
        return Verdict(ListingConflict(field="certifications", listed=listed, said=said))

    def _price(self, said: str, priced: str, facts: ProductFacts) -> Verdict:
        numbers, discounts = spoken_numbers(priced), spoken_discounts(priced)
        if not numbers and not discounts:
            return Verdict(reason="no price or discount said to compare", unknown=True)
        listed = ", ".join(f"{name} {value:g}" for name, value in
                           (("price", facts.price), ("original_price", facts.original_price)) if value is not None)
        listed = listed or "none"
        conflict = Verdict(ListingConflict(field="price", listed=listed, said=said))
        prices = [p for p in (facts.price, facts.original_price) if p is not None]
        if numbers and not all(any(abs(n - p) < 0.05 for p in prices) for n in numbers):
            return conflict
        if discounts:
            if facts.price is None or not facts.original_price:
                return Verdict(reason="the listing gives no original price to measure a discount by", unknown=True)
            share = facts.price / facts.original_price
            if any(abs(d - share) > 0.05 for d in discounts):
                return conflict
        return Verdict(reason="the listing's price and original price agree")


def _compare_quantities(said: str, name: str, listed_text: str) -> Verdict:
    claimed, listed = quantities(said), quantities(normalize_term(listed_text))
    shared = set(claimed) & set(listed)
    if not shared:
        return Verdict(reason=f"the listed {name} {listed_text!r} gives no amount in the unit said", unknown=True)
    if all(max(claimed[unit]) <= max(listed[unit]) for unit in shared):
        return Verdict(reason=f"the listed {name} {listed_text!r} agrees")
    return Verdict(ListingConflict(field=f"attributes.{name}", listed=listed_text, said=said))
