"""Building alerts from findings: the words said, the rule, its legal basis, and a stable id."""

from __future__ import annotations

import hashlib

from models.alerts import Alert, Evidence, RuleRef, Severity
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
    start, end = finding.evidence_span
    matched = segment.text[start:end]
    category = facts.category.value if facts.category else None
    message = spec.message.format_map(_KeepUnknown(match=matched, category=category or "unknown"))
    return Alert(
        alert_id=alert_id(segment.event_id, spec.id, start, end),
        event_id=segment.event_id,
        room_id=segment.room_id,
        product_id=segment.product_id,
        ts=segment.ts,
        streamer_id=segment.streamer_id,
        start_ms=segment.start_ms,
        end_ms=segment.end_ms,
        rule_id=spec.id,
        kind=spec.kind,
        severity=spec.severity,
        category=category,
        legal_basis=list(spec.legal_basis),
        message=message,
        evidence=Evidence(
            text=segment.text,
            match=matched,
            start=start,
            end=end,
            normalized=finding.words,
            via=finding.hit.via,
            claim=finding.clause,
            evasion=finding.evasion,
            listing_conflict=finding.conflict,
        ),
        ruleset_version=ruleset_version,
        listing_event_id=facts.listing_event_id,
        listing_ts=facts.listing_ts,
        rules=[RuleRef(rule_id=spec.id, title=spec.title, kind=spec.kind, severity=spec.severity,
                       legal_basis=list(spec.legal_basis), match=matched, via=finding.hit.via)],
    )  # fmt: skip


# info < low < medium < high < critical: the order the enum is written in.
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}


def one_alert_per_claim(alerts: list[Alert]) -> list[Alert]:
    """Alerts of different rules on the same words made one: the most severe (then the first, in
    rule order) leads, and each alert whose words overlap the leader's joins it, its rule and
    legal basis listed after the leader's. The leader keeps its id, so a claim keeps its id when
    a rule joins or leaves it. In the order the leaders came."""
    if len(alerts) < 2:
        return alerts
    order = sorted(range(len(alerts)), key=lambda i: (-SEVERITY_RANK[alerts[i].severity], i))
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in order:
        evidence = alerts[i].evidence
        for leader in leaders:
            led = alerts[leader].evidence
            if led.text == evidence.text and led.start < evidence.end and evidence.start < led.end:
                members[leader].append(i)
                break
        else:
            leaders.append(i)
            members[i] = []
    return [_joined(alerts[leader], [alerts[i] for i in members[leader]]) for leader in sorted(leaders)]


def _joined(leader: Alert, others: list[Alert]) -> Alert:
    if not others:
        return leader
    rules = list(leader.rules)
    for other in others:
        rules.extend(ref for ref in other.rules if ref.rule_id not in {r.rule_id for r in rules})
    basis = list(dict.fromkeys(b for ref in rules for b in ref.legal_basis))
    return leader.model_copy(update={"rules": rules, "legal_basis": basis})
