"""`rules explain --json`: an `Explanation` as one JSON object. The text printer reads each
finding's verdict from `verdict` too, so the two outputs cannot tell a finding differently."""

from __future__ import annotations

from typing import Any, Literal

from pipeline.detect.analysis import Hit
from pipeline.detect.engine import Explanation, Finding, RuleTrace
from pipeline.detect.facts import ProductFacts

Verdict = Literal["fires", "overlaps", "stopped", "skipped"]


def fired_hits(ex: Explanation) -> set[tuple[str, Hit]]:
    return {(f.rule.spec.id, f.hit) for f in ex.fired}


def verdict(trace: RuleTrace, finding: Finding, fired: set[tuple[str, Hit]]) -> Verdict:
    """What became of a finding: it fires; a longer hit of the same rule fires in its place; a
    named exception stopped it; or the rule does not apply to the product's category."""
    if not trace.applies:
        return "skipped"
    if finding.fired:
        return "fires" if (trace.rule.spec.id, finding.hit) in fired else "overlaps"
    return "stopped"


def facts_json(facts: ProductFacts) -> dict[str, Any]:
    return {
        "category": facts.category.value if facts.category else None,
        "certifications": None if facts.certifications is None else list(facts.certifications),
        "price": facts.price,
        "original_price": facts.original_price,
        "attributes": [[name, value] for name, value in facts.attributes],
        "source": facts.source,
        "listed": facts.listed,
    }


def _finding_json(trace: RuleTrace, finding: Finding, fired: set[tuple[str, Hit]]) -> dict[str, Any]:
    sound, conflict = finding.evasion, finding.conflict
    said = {"variant": sound.variant, "kind": sound.kind, "term": sound.term} if sound else None
    shown = verdict(trace, finding, fired)
    return {
        "words": finding.words,
        "start": finding.start,  # in the original text
        "end": finding.end,
        "said_as": said,
        "via": finding.hit.via,
        "verdict": shown,
        "stopped_by": finding.suppressed_by if shown == "stopped" else None,
        "reason": finding.reason if shown == "stopped" else None,
        "conflict": conflict.model_dump() if conflict is not None and shown == "fires" else None,
    }


def explanation_json(ex: Explanation) -> dict[str, Any]:
    analysis = ex.analysis
    fired = fired_hits(ex)
    rules = []
    for trace in ex.traces:
        spec = trace.rule.spec
        rules.append({
            "rule": spec.id,
            "kind": spec.kind,
            "severity": spec.severity.value,
            "applies": trace.applies,
            "findings": [_finding_json(trace, finding, fired) for finding in trace.findings],
            "near_misses": [{"words": analysis.text[hit.start : hit.end], "via": hit.via}
                            for hit in trace.near_misses],
        })  # fmt: skip
    return {
        "original": analysis.normalized.original,
        "normalized": analysis.text,
        "restorations": [{"variant": h.variant, "term": h.term, "kind": h.kind} for h in analysis.restorations],
        "tokens": [t.text for t in analysis.tokens],
        "product": facts_json(ex.facts),
        "fires": list(dict.fromkeys(f.rule.spec.id for f in ex.fired)),
        "rules": rules,
    }
