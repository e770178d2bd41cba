"""`claimwatch rules test`: every rule's own examples through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass

from models.events import Category, ProductListing, TranscriptSegment
from models.rules import ExampleSpec
from pipeline.detect.engine import Engine
from pipeline.judge.judge import detect_segment
from pipeline.quality.cases import standalone_case


@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    expectation: str  # "hit", "miss" or "todo_hit"
    example: ExampleSpec
    fired: bool
    alerts: tuple[str, ...]

    @property
    def ok(self) -> bool:
        if self.expectation == "hit":
            return self.fired
        if self.expectation == "miss":
            return not self.fired
        return True  # a todo_hit documents a gap; it never fails the suite

    @property
    def todo_now_passes(self) -> bool:
        return self.expectation == "todo_hit" and self.fired


def example_events(
    example: ExampleSpec, default_category: Category | None
) -> tuple[TranscriptSegment, ProductListing | None]:
    category = example.category or default_category
    listing: dict[str, object] = {}
    if example.certifications is not None:
        listing["certifications"] = example.certifications
    if example.attributes:
        listing["attributes"] = example.attributes
    if example.price is not None:
        listing["price"] = example.price
    if listing and example.original_price is not None:
        listing["original_price"] = example.original_price
    return standalone_case("example", example.text, category, listing or None, room_id="example-room")


def run_examples(engine: Engine, rule_ids: set[str] | None = None) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for rule in engine.rules:
        spec = rule.spec
        if rule_ids and spec.id not in rule_ids:
            continue
        default_category = spec.categories[0] if spec.categories else None
        for expectation in ("hit", "miss", "todo_hit"):
            for raw in getattr(spec.examples, expectation):
                example = ExampleSpec(text=raw) if isinstance(raw, str) else raw
                segment, listing = example_events(example, default_category)
                alerts = detect_segment(engine, segment, listing)
                mine = tuple(ref.match for a in alerts for ref in a.rules if ref.rule_id == spec.id)
                results.append(ExampleResult(spec.id, expectation, example, bool(mine), mine))
    return results
