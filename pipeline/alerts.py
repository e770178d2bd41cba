"""Building alerts: evidence offsets in the original text, legal basis, a stable id."""

from __future__ import annotations

import hashlib

from models.alerts import Alert, Evasion, Evidence
from models.events import TranscriptSegment
from pipeline.engine import Finding
from pipeline.filters import ProductFacts
from pipeline.match import Analysis


class _KeepUnknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def alert_id(event_id: str, rule_id: str, start: int, end: int) -> str:
    """Same event, rule and span give the same id, so a re-delivered event dedups downstream."""
    key = f"{event_id}\x1f{rule_id}\x1f{start}\x1f{end}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def _evasion(analysis: Analysis, finding: Finding) -> Evasion | None:
    sound = analysis.evasion_in(finding.hit.start, finding.hit.end)
    return Evasion(kind=sound.kind, variant=sound.variant, term=sound.term) if sound is not None else None


def build_alert(
    segment: TranscriptSegment,
    finding: Finding,
    analysis: Analysis,
    facts: ProductFacts,
    ruleset_version: str,
) -> Alert:
    spec = finding.rule.spec
    start, end = analysis.normalized.to_original(finding.hit.start, finding.hit.end)
    clause_start, clause_end = analysis.clause_bounds(finding.hit.start, finding.hit.end)
    matched = segment.text[start:end]
    category = facts.category.value if facts.category else None
    message = spec.message.format_map(_KeepUnknown(match=matched, category=category or "unknown"))
    return Alert(
        alert_id=alert_id(segment.event_id, spec.id, start, end),
        event_id=segment.event_id,
        room_id=segment.room_id,
        product_id=segment.product_id,
        ts=segment.ts,
        rule_id=spec.id,
        kind=spec.kind.value,
        severity=spec.severity,
        category=category,
        legal_basis=list(spec.legal_basis),
        message=message,
        evidence=Evidence(
            text=segment.text,
            match=matched,
            start=start,
            end=end,
            normalized=analysis.text[finding.hit.start : finding.hit.end],
            via=finding.hit.via,
            claim=analysis.text[clause_start:clause_end],
            evasion=_evasion(analysis, finding),
            listing_conflict=finding.conflict,
        ),
        ruleset_version=ruleset_version,
    )
