"""The detection core shared by `claimwatch scan` and the stream worker: one segment, the listing
of its product (if known), and the engine in; alerts out. Nothing here does I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from models.alerts import Alert
from models.events import Category, ProductListing, TranscriptSegment
from pipeline.alerts import alert_id, build_alert
from pipeline.engine import Engine
from pipeline.context import Said
from pipeline.filters import ProductFacts


def facts_for(segment: TranscriptSegment, listing: ProductListing | None) -> ProductFacts:
    """The listing is the authority on the product; the segment's own category is the fallback."""
    if listing is not None:
        return ProductFacts(
            category=listing.category,
            certifications=tuple(listing.certifications),
            price=listing.price,
            original_price=listing.original_price,
            attributes=tuple(sorted(listing.attributes.items())),
            source=f"listing {listing.product_id}",
            listed=True,
        )
    if segment.category is not None:
        return ProductFacts(category=segment.category, source="segment")
    return ProductFacts()


def detect_segment(
    engine: Engine, segment: TranscriptSegment, listing: ProductListing | None, before: Sequence[Said] = ()
) -> list[Alert]:
    """The segment's alerts; with `before` (the earlier segments of a split claim, see
    pipeline.context) also the claims that cross from them into this segment."""
    facts = facts_for(segment, listing)
    analysis = engine.analyze(segment.text)
    alerts = [build_alert(segment, f, analysis, facts, engine.version) for f in engine.detect(analysis, facts)]
    if before:
        alerts.extend(_across_segments(engine, segment, facts, before, alerts))
    return alerts


def _across_segments(
    engine: Engine, segment: TranscriptSegment, facts: ProductFacts, before: Sequence[Said], own: list[Alert]
) -> list[Alert]:
    """Claims of the joined text that need both sides of a boundary: they begin in an earlier
    segment, end in this one, and the same rule found no claim there in either part alone."""
    earlier_text = " ".join(said.text for said in before)
    joined = earlier_text + " " + segment.text
    boundary = len(earlier_text) + 1  # where this segment starts in the joined text
    # A claim that reaches into this segment starts near its end: only the earlier text's tail
    # (from a pause where there is one) is judged, which keeps the joined pass cheap; offsets
    # are then moved back onto the whole joined text.
    skip = _tail_start(earlier_text)
    analysis = engine.analyze(joined[skip:])
    tail = analysis.normalized
    analysis.normalized = replace(
        tail, original=joined, starts=tuple(i + skip for i in tail.starts), ends=tuple(i + skip for i in tail.ends)
    )
    crossing = []
    for finding in engine.detect(analysis, facts):
        start, end = analysis.normalized.to_original(finding.hit.start, finding.hit.end)
        if start < boundary - 1 and end > boundary:
            crossing.append((finding, start, end))
    if not crossing:
        return []
    earlier = _found_by_rule(engine, earlier_text, facts)
    here = {(a.rule_id, a.evidence.start, a.evidence.end) for a in own}
    as_said = segment.model_copy(update={"text": joined})
    alerts = []
    for finding, start, end in crossing:
        rule_id = finding.rule.spec.id
        if any(r == rule_id and s < boundary - 1 and e > start for r, s, e in earlier):
            continue  # the earlier segment already said it
        if any(r == rule_id and s < end - boundary for r, s, _ in here):
            continue  # this segment already says it
        touched = _touched(before, start)
        alert = build_alert(as_said, finding, analysis, facts, engine.version)
        # The id names the joined segments too: offsets into the joined text are not offsets
        # into this segment's own text.
        key = "\x1e".join([segment.event_id, *touched])
        alerts.append(alert.model_copy(update={
            "related_event_ids": touched,
            "alert_id": alert_id(key, alert.rule_id, alert.evidence.start, alert.evidence.end),
        }))
    return alerts


TAIL_CHARS = 30


def _tail_start(text: str) -> int:
    """Where the last TAIL_CHARS characters begin, moved forward to just after a pause or
    punctuation in their first third, so a clause is not cut in half."""
    start = max(0, len(text) - TAIL_CHARS)
    for i in range(start, min(len(text), start + TAIL_CHARS // 3)):
        if text[i] in " ，,。!！?？;；":
            return i + 1
    return start


def _found_by_rule(engine: Engine, text: str, facts: ProductFacts) -> list[tuple[str, int, int]]:
    analysis = engine.analyze(text)
    return [
        (f.rule.spec.id, *analysis.normalized.to_original(f.hit.start, f.hit.end))
        for f in engine.detect(analysis, facts)
    ]


def _touched(before: Sequence[Said], start: int) -> list[str]:
    """The earlier segments a claim starting at `start` of the joined text reaches into."""
    touched, at = [], 0
    for said in before:
        if start < at + len(said.text):
            touched.append(said.event_id)
        at += len(said.text) + 1
    return touched


LISTING_VERSIONS_KEPT = 16


def add_listing_version(versions: list[ProductListing], listing: ProductListing) -> list[ProductListing]:
    """A product's listing history in event-time order, newest last; a re-delivered version
    (same event_id) replaces itself, and only the newest versions are kept."""
    kept = [v for v in versions if v.event_id != listing.event_id] + [listing]
    kept.sort(key=lambda v: v.ts)
    return kept[-LISTING_VERSIONS_KEPT:]


def listing_as_of(versions: list[ProductListing], segment: TranscriptSegment) -> ProductListing | None:
    """The listing in force when the segment was said: the newest version not later than it.
    Joining on event time, not arrival order, is what lets the stream, where listings and
    transcripts are separate topics read at their own pace, decide exactly as `scan` does."""
    current = None
    for version in versions:
        if version.ts <= segment.ts:
            current = version
        else:
            break
    return current


CASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


def standalone_case(
    case_id: str, text: str, category: Category | str | None, listing: Mapping[str, Any] | None, room_id: str
) -> tuple[TranscriptSegment, ProductListing | None]:
    """A sentence judged on its own, with the listing of its product when the case gives one:
    how rule examples and labelled corpus items become events."""
    product_id = f"{case_id}-product"
    segment = TranscriptSegment(
        event_id=case_id, room_id=room_id, product_id=product_id, ts=CASE_TIME, text=text, category=category
    )
    if listing is None:
        return segment, None
    data = {"title": text[:20], "price": 0.0, "category": category or "other", **listing}
    data.update(type="listing", event_id=f"{case_id}-listing", product_id=product_id, ts=CASE_TIME)
    return segment, ProductListing.model_validate(data)
