"""Building alerts from findings: the words said, the rule, its legal basis, and a stable id."""

from __future__ import annotations

import hashlib

from models.alerts import Alert, Evidence
from models.events import TranscriptSegment
from pipeline.detect.engine import Finding
from pipeline.detect.facts import ProductFacts


class _KeepUnknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def alert_id(event_id: str, rule_id: str, start: int, end: int) -> str:
    """Same event, rule and span give the same id, so a re-delivered event dedups downstream."""
    key = f"{event_id}\x1f{rule_id}\x1f{start}\x1f{end}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def build_alert(segment: TranscriptSegment, finding: Finding, facts: ProductFacts, ruleset_version: str) -> Alert:
    """The alert for a finding in `segment.text` (the finding's offsets point into it)."""
    spec = finding.rule.spec
    matched = segment.text[finding.start : finding.end]
    category = facts.category.value if facts.category else None
    message = spec.message.format_map(_KeepUnknown(match=matched, category=category or "unknown"))
    return Alert(
        alert_id=alert_id(segment.event_id, spec.id, finding.start, finding.end),
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
            start=finding.start,
            end=finding.end,
            normalized=finding.words,
            via=finding.hit.via,
            claim=finding.clause,
            evasion=finding.evasion,
            listing_conflict=finding.conflict,
        ),
        ruleset_version=ruleset_version,
    )
