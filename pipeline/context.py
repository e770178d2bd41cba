"""Claims split across segments: ASR cuts speech into short segments ("这个泡脚包" | "泡一个月痛风就
除根了"), so a claim may begin in one and end in the next.

Each room keeps its last few segments. A segment is also judged joined to the earlier segments
of the same room and product said just before it (default: the two before it, within 20 s of
event time), with a space between them: matching reads across it, while negation and context
windows stop at it as at a spoken pause. Only claims that cross into the new segment are taken
from the joined text: claims inside one segment are found, and alerted, on their own. `scan`
keeps the state in a dict, the stream worker in a changelogged Faust table keyed by room; both
run this code, so they agree.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models.events import TranscriptSegment

# Kept beyond what a window needs, so a re-delivered segment still finds the ones before it.
SPARE_PER_ROOM = 2

# room_id -> [[event_id, epoch ms, product_id or "", text], ...] oldest first
ContextState = MutableMapping[str, list[list[Any]]]


@dataclass(frozen=True)
class Said:
    event_id: str
    ts_ms: int
    product_id: str
    text: str


class ContextWindow:
    def __init__(self, state: ContextState, segments: int = 3, window: timedelta = timedelta(seconds=20)):
        self.state = state
        self.segments = segments
        self.window_ms = int(window.total_seconds() * 1000)

    def before(self, segment: TranscriptSegment) -> list[Said]:
        """The earlier segments to join this one to, oldest first: same room and product, said
        within the window before it (event time), at most `segments - 1` of them, and only
        consecutive ones: a segment of another product in between breaks the chain."""
        if self.segments <= 1 or self.window_ms <= 0:
            return []
        now = _ms(segment)
        product = segment.product_id or ""
        earlier = [s for s in self._kept(segment.room_id) if s.event_id != segment.event_id and s.ts_ms <= now]
        chain: list[Said] = []
        for said in reversed(earlier):
            if len(chain) == self.segments - 1 or now - said.ts_ms > self.window_ms or said.product_id != product:
                break
            chain.append(said)
        return list(reversed(chain))

    def remember(self, segment: TranscriptSegment) -> None:
        if self.segments <= 1 or self.window_ms <= 0:
            return  # the window is off: keep no state (the worker would write it to a changelog)
        kept = [s for s in self._kept(segment.room_id) if s.event_id != segment.event_id]
        kept.append(Said(segment.event_id, _ms(segment), segment.product_id or "", segment.text))
        kept.sort(key=lambda s: s.ts_ms)  # a re-delivered segment goes back where it was said
        rows = self.segments - 1 + SPARE_PER_ROOM
        self.state[segment.room_id] = [[s.event_id, s.ts_ms, s.product_id, s.text] for s in kept[-rows:]]

    def _kept(self, room_id: str) -> list[Said]:
        return [Said(str(row[0]), int(row[1]), str(row[2]), str(row[3])) for row in self.state.get(room_id) or []]


def _ms(segment: TranscriptSegment) -> int:
    return int(segment.ts.timestamp() * 1000)
