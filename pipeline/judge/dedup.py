"""Repeated alerts: the same rule on the same claim in the same room within a window of event
time is published once. A claim is the clause the rule's words stand in, for the same product
and without particles: a host who says "最后三单了" and then "最后三单啊" has repeated it.
`scan` keeps the state in a dict, the stream worker in a changelogged Faust table keyed by
room; both run this code, so they publish the same alerts."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from datetime import timedelta

from models.alerts import Alert

# room_id -> {"rule_id\x1fproduct_id\x1fclause": [epoch seconds, event_id] of the last published alert}
DedupState = MutableMapping[str, dict[str, list[float | str]]]


class Deduplicator:
    def __init__(self, state: DedupState, window: timedelta):
        self.state = state
        self.window = window.total_seconds()

    def admit(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts to publish; remembers them so that repeats inside the window are dropped."""
        if self.window <= 0 or not alerts:
            return alerts
        by_room: dict[str, list[tuple[int, Alert]]] = {}
        for index, alert in enumerate(alerts):
            by_room.setdefault(alert.room_id, []).append((index, alert))
        admitted: list[tuple[int, Alert]] = []
        for room, room_alerts in by_room.items():
            seen = dict(self.state.get(room) or {})
            for index, alert in room_alerts:
                now = alert.ts.timestamp()
                key = repeat_key(alert)
                last = seen.get(key)
                # A replayed event (a worker restarted before committing) finds its own entry:
                # it publishes again, with the same alert id, rather than lose the alert.
                if last is not None and last[1] != alert.event_id and abs(now - float(last[0])) < self.window:
                    continue
                seen[key] = [now, alert.event_id]
                admitted.append((index, alert))
            newest = max(float(entry[0]) for entry in seen.values())
            # Keep the state small: what is older than the window can no longer suppress anything.
            self.state[room] = {k: e for k, e in seen.items() if newest - float(e[0]) < self.window}
        return [alert for _, alert in sorted(admitted, key=lambda pair: pair[0])]


def repeat_key(alert: Alert) -> str:
    """What makes two alerts of a room the same claim: the leading rule, the product and the
    clause the words stand in, without the particles and fillers hosts add or drop when they
    say it again ("最后三单了" is "最后三单")."""
    return f"{alert.rule_id}\x1f{alert.product_id or ''}\x1f{_FILLERS.sub('', alert.evidence.claim)}"


# Sentence particles, interjections and spaces: saying a claim again, a host adds or drops them.
_FILLERS = re.compile(r"[了啊呀哦吧啦呢嘛哈哟噢喔呐咯嘞哇\s]+")
