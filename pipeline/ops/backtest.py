"""`claimwatch backtest`: what a rule change would change, on a recording, before it goes live.

Both rule sets judge the same events through the same scanner as `claimwatch scan` (and so the
stream). Alerts are compared by `alert_id`, which depends on the event, the leading rule and the
words, not on the rule set's version: an alert both sets raise is the same alert, and one whose
other rules differ is listed with the rules that joined or left it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from models.alerts import Alert
from pipeline.detect.engine import Engine
from pipeline.errors import EventError
from pipeline.judge.scan import Scanner
from pipeline.settings import Settings

RuleStatus = Literal["added", "removed", "edited", "same"]


@dataclass(frozen=True)
class RuleChange:
    """One rule's alerts under each rule set, and how the rule itself changed: a rule added,
    removed or edited is listed even when it raised nothing, which is what a reviewer of a rule
    change needs to see first."""

    rule_id: str
    baseline: int
    new: int
    status: RuleStatus = "same"

    @property
    def delta(self) -> int:
        return self.new - self.baseline


@dataclass(frozen=True)
class RulesChange:
    """An alert both rule sets raise, with a rule joining or leaving the claim."""

    alert: Alert  # as the new rules raise it
    joined: list[str]
    left: list[str]


@dataclass(frozen=True)
class BacktestReport:
    segments: int
    listings: int
    rejected: list[EventError]
    baseline_alerts: int
    new_alerts: int
    only_new: list[Alert]
    only_baseline: list[Alert]
    per_rule: list[RuleChange]
    rules_changed: list[RulesChange]

    @property
    def changed(self) -> bool:
        return bool(self.only_new or self.only_baseline or self.rules_changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "listings": self.listings,
            "rejected": [str(e) for e in self.rejected],
            "baseline_alerts": self.baseline_alerts,
            "new_alerts": self.new_alerts,
            "only_new": [a.model_dump(mode="json") for a in self.only_new],
            "only_baseline": [a.model_dump(mode="json") for a in self.only_baseline],
            "per_rule": {c.rule_id: {"baseline": c.baseline, "new": c.new, "delta": c.delta, "rule": c.status}
                         for c in self.per_rule},
            "rules_changed": [{"alert_id": c.alert.alert_id, "event_id": c.alert.event_id, "joined": c.joined,
                               "left": c.left} for c in self.rules_changed],
        }  # fmt: skip


def _rule_statuses(new: Engine, baseline: Engine) -> dict[str, RuleStatus]:
    """Every rule of either set, by how it differs between them (an edit is any change to its spec)."""
    new_specs = {r.spec.id: r.spec for r in new.ruleset.rules}
    old_specs = {r.spec.id: r.spec for r in baseline.ruleset.rules}
    status: dict[str, RuleStatus] = {}
    for rule_id in new_specs.keys() | old_specs.keys():
        if rule_id not in old_specs:
            status[rule_id] = "added"
        elif rule_id not in new_specs:
            status[rule_id] = "removed"
        else:
            status[rule_id] = "same" if new_specs[rule_id] == old_specs[rule_id] else "edited"
    return status


def _run(engine: Engine, lines: list[str], settings: Settings) -> tuple[list[Alert], Scanner]:
    scanner = Scanner(engine, settings)
    return list(scanner.scan_lines(lines)), scanner


def backtest(lines: list[str], new: Engine, baseline: Engine, settings: Settings | None = None) -> BacktestReport:
    settings = settings or Settings()
    new_alerts, scanner = _run(new, lines, settings)
    old_alerts, _ = _run(baseline, lines, settings)
    new_ids = {a.alert_id for a in new_alerts}
    old_ids = {a.alert_id for a in old_alerts}
    # A rule counts on every alert it is one of the rules of, leading or not.
    old_counts = Counter(rule for a in old_alerts for rule in a.rule_ids)
    new_counts = Counter(rule for a in new_alerts for rule in a.rule_ids)
    old_rules = {a.alert_id: a.rule_ids for a in old_alerts}
    rules_changed = []
    for alert in new_alerts:
        before = old_rules.get(alert.alert_id)
        if before is not None and set(before) != set(alert.rule_ids):
            joined = [r for r in alert.rule_ids if r not in before]
            rules_changed.append(RulesChange(alert, joined, [r for r in before if r not in alert.rule_ids]))
    status = _rule_statuses(new, baseline)
    per_rule = [RuleChange(rule, old_counts[rule], new_counts[rule], status.get(rule, "same"))
                for rule in sorted(set(old_counts) | set(new_counts) | set(status))]  # fmt: skip
    return BacktestReport(
        segments=scanner.counters.segments,
        listings=scanner.counters.listings,
        rejected=scanner.bad_lines,
        baseline_alerts=len(old_alerts),
        new_alerts=len(new_alerts),
        only_new=[a for a in new_alerts if a.alert_id not in old_ids],
        only_baseline=[a for a in old_alerts if a.alert_id not in new_ids],
        per_rule=per_rule,
        rules_changed=rules_changed,
    )
