"""Claims split across segments: ASR cuts speech into short segments ("这个泡脚包" | "泡一个月痛风就
除根了"), so a claim may begin in one and end in the next.

Each room keeps its last few segments, each with the claims found in it. A segment is also judged
joined to the earlier segments of the same room and product said just before it (default: the two
before it, within 20 s of event time), with a space between them: matching reads across it, while
negation and context windows stop at it as at a spoken pause. Only claims that cross into the new
segment are taken from the joined text, and only when neither side already made the same claim
on its own: claims inside one segment are found, and alerted, on their own. The earlier segments'
claims are remembered, not detected again. `scan` keeps the state in a dict, the stream worker in
a changelogged Faust table keyed by room; both run this code, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models.alerts import Alert
from models.events import TranscriptSegment
from pipeline.detect.analysis import Analysis
from pipeline.detect.engine import Engine, one_per_claim
from pipeline.detect.facts import ProductFacts
from pipeline.judge.build_alerts import alert_id, build_alert

# Kept beyond what a window needs, so a re-delivered segment still finds the ones before it.
SPARE_PER_ROOM = 2
# A claim that reaches into a segment starts near the end of the ones before it: only their last
# characters (from a pause where there is one) are judged with it, which keeps the joined pass cheap.
TAIL_CHARS = 30
# Rooms whose rows are kept parsed in memory; past this the memory starts over.
_ROOMS_READ = 100_000

# room_id -> [[event_id, epoch ms, product_id or "", text, [[rule_id, start, end], ...]], ...]
# oldest first; the claims are the segment's own, as offsets into its text.
ContextState = MutableMapping[str, list[list[Any]]]
Claim = tuple[str, int, int]


@dataclass(frozen=True)
class Said:
    event_id: str
    ts_ms: int
    product_id: str
    text: str
    claims: tuple[Claim, ...] = ()


class ContextWindow:
    def __init__(self, state: ContextState, segments: int = 3, window: timedelta = timedelta(seconds=20)):
        self.state = state
        self.segments = segments
        self.window_ms = int(window.total_seconds() * 1000)
        # room -> (the rows last read or written, them as Said): rows are replaced, never changed
        # in place, so while the state holds the same list the Said need not be made again.
        self._read: dict[str, tuple[list[list[Any]], list[Said]]] = {}

    @property
    def on(self) -> bool:
        return self.segments > 1 and self.window_ms > 0

    def before(self, segment: TranscriptSegment) -> list[Said]:
        """The earlier segments to join this one to, oldest first: same room and product, said
        within the window before it (event time), at most `segments - 1` of them, and only
        consecutive ones: a segment of another product in between breaks the chain."""
        if not self.on:
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

    def remember(self, segment: TranscriptSegment, claims: Sequence[Claim] = ()) -> None:
        if not self.on:
            return  # keep no state (the worker would write it to a changelog)
        kept = [s for s in self._kept(segment.room_id) if s.event_id != segment.event_id]
        kept.append(Said(segment.event_id, _ms(segment), segment.product_id or "", segment.text, tuple(claims)))
        kept.sort(key=lambda s: s.ts_ms)  # a re-delivered segment goes back where it was said
        kept = kept[-(self.segments - 1 + SPARE_PER_ROOM) :]
        rows = [[s.event_id, s.ts_ms, s.product_id, s.text, [list(c) for c in s.claims]] for s in kept]
        self.state[segment.room_id] = rows
        self._remember_read(segment.room_id, rows, kept)

    def _kept(self, room_id: str) -> list[Said]:
        rows = self.state.get(room_id) or []
        read = self._read.get(room_id)
        if read is not None and read[0] is rows:
            return read[1]
        # Rows written before claims were kept have four fields: no claims known.
        kept = [
            Said(str(row[0]), int(row[1]), str(row[2]), str(row[3]),
                 tuple((str(r), int(s), int(e)) for r, s, e in (row[4] if len(row) > 4 else ())))
            for row in rows
        ]  # fmt: skip
        self._remember_read(room_id, rows, kept)
        return kept

    def _remember_read(self, room_id: str, rows: list[list[Any]], kept: list[Said]) -> None:
        if len(self._read) >= _ROOMS_READ and room_id not in self._read:
            self._read.clear()  # bounded: a platform's rooms come and go
        self._read[room_id] = (rows, kept)


def claims_across(
    engine: Engine,
    segment: TranscriptSegment,
    facts: ProductFacts,
    before: Sequence[Said],
    own: Sequence[tuple[str, int]],
    analysis: Analysis | None = None,
) -> tuple[list[Alert], list[Claim]]:
    """Claims of the joined text that need both sides of a boundary: they begin in an earlier
    segment and end in this one. Returns the alerts for those that the same rule did not make in
    either part alone (`own`: this segment's own claims, as rule and start), and every crossing
    claim as offsets into this segment's text (from its start), to be remembered with it whether
    alerted or not. With `analysis` (the segment's
    own), a boundary no rule could cross is told from the parts, and the joined text is not
    analysed at all."""
    earlier_text = " ".join(said.text for said in before)
    joined = earlier_text + " " + segment.text
    boundary = len(earlier_text) + 1  # where this segment starts in the joined text
    skip = _tail_start(earlier_text)
    if analysis is not None and not engine.may_cross(earlier_text[skip:], analysis, facts):
        return [], []
    analysis = engine.analyze(joined[skip:])
    crossing = one_per_claim([
        finding
        for finding in (f.moved(skip) for f in engine.detect(analysis, facts, (boundary - 1 - skip, boundary - skip)))
        if finding.start < boundary - 1 and finding.end > boundary
    ])
    reaching_in = [(f.rule.spec.id, max(0, f.start - boundary), f.through - boundary) for f in crossing]
    if not crossing:
        return [], reaching_in
    earlier = _earlier_claims(before)
    as_said = segment.model_copy(update={"text": joined})
    alerts = []
    for finding in crossing:
        rule_id = finding.rule.spec.id
        if any(r == rule_id and s < boundary - 1 and e > finding.start for r, s, e in earlier):
            continue  # the earlier segment already said it
        if any(r == rule_id and s < finding.end - boundary for r, s in own):
            continue  # this segment already says it
        touched = _touched(before, finding.start)
        alert = build_alert(as_said, finding, facts, engine.version)
        # The id names the joined segments too: offsets into the joined text are not offsets
        # into this segment's own text.
        key = "\x1e".join([segment.event_id, *touched])
        alerts.append(alert.model_copy(update={
            "related_event_ids": touched,
            "alert_id": alert_id(key, alert.rule_id, alert.evidence.start, alert.evidence.end),
        }))  # fmt: skip
    return alerts, reaching_in


def _placed(before: Sequence[Said]) -> Iterator[tuple[Said, int]]:
    """Each earlier segment with where it starts in their text joined by spaces."""
    at = 0
    for said in before:
        yield said, at
        at += len(said.text) + 1


def _earlier_claims(before: Sequence[Said]) -> list[Claim]:
    """The earlier segments' own claims, as offsets into their joined text."""
    return [(rule_id, start + at, end + at) for said, at in _placed(before) for rule_id, start, end in said.claims]


def _tail_start(text: str) -> int:
    """Where the last TAIL_CHARS characters begin, moved forward to just after a pause or
    punctuation in their first third, so a clause is not cut in half."""
    start = max(0, len(text) - TAIL_CHARS)
    for i in range(start, min(len(text), start + TAIL_CHARS // 3)):
        if text[i] in " ，,。!！?？;；":
            return i + 1
    return start


def _touched(before: Sequence[Said], start: int) -> list[str]:
    """The earlier segments a claim starting at `start` of the joined text reaches into."""
    return [said.event_id for said, at in _placed(before) if start < at + len(said.text)]


def _ms(segment: TranscriptSegment) -> int:
    return int(segment.ts.timestamp() * 1000)
