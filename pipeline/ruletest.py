"""`claimwatch rules test`: every rule's own examples through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from models.events import ProductListing, TranscriptSegment
from models.rules import ExampleSpec
from pipeline.core import detect_segment
from pipeline.engine import Engine

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


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


def example_events(example: ExampleSpec, default_category: object) -> tuple[TranscriptSegment, ProductListing | None]:
    category = example.category or default_category
    segment = TranscriptSegment(
        event_id="example", room_id="example-room", product_id="example-product", ts=_EPOCH, text=example.text,
        category=category,
    )
    needs_listing = example.certifications or example.price is not None or example.attributes
    if not needs_listing:
        return segment, None
    listing = ProductListing(
        event_id="example-listing", product_id="example-product", ts=_EPOCH, category=category or "other",
        title=example.text[:20], price=example.price if example.price is not None else 0.0,
        original_price=example.original_price, certifications=example.certifications,
        attributes=example.attributes,
    )
    return segment, listing


def run_examples(engine: Engine, rule_ids: set[str] | None = None) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for rule in engine.rules:
        spec = rule.spec
        if rule_ids and spec.id not in rule_ids:
            continue
        default_category = (spec.categories or [None])[0]
        for expectation in ("hit", "miss", "todo_hit"):
            for raw in getattr(spec.examples, expectation):
                example = ExampleSpec(text=raw) if isinstance(raw, str) else raw
                segment, listing = example_events(example, default_category)
                alerts = detect_segment(engine, segment, listing)
                mine = tuple(a.evidence.match for a in alerts if a.rule_id == spec.id)
                results.append(ExampleResult(spec.id, expectation, example, bool(mine), mine))
    return results
