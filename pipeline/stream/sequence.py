"""Each partition's transcripts reach the judge in offset order, none missing, none twice.

A restarted worker was seen to lose the first segments after its committed offset: Faust seeks
the stream partitions to their committed offsets at the end of recovery, the fetch that follows
starts handing messages on, and only then resumes the flow, which clears the buffers those
messages are in; its fetcher has already marked them read, so they never come again, and once
the offsets after them are committed no worker judges them. Faust also hands messages on twice
around a rebalance (before and after its seek). Within a partition, offsets follow one another,
so the agent checks each event's offset against the next one expected (the committed offset
after an assignment): an event read before is dropped, and before an event that comes after a
gap, the missing offsets are read directly from the broker and judged first. An offset that
holds no record (a transaction marker of some producer) simply yields nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

log = logging.getLogger("claimwatch.worker")


class Verdict(Enum):
    TAKE = "take"  # the next event of its partition: judge it
    DROP = "drop"  # taken before: skip it
    FILL = "fill"  # offsets before it are missing: read them from `Admission.start`, then take it


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    start: int | None = None


TAKE = Admission(Verdict.TAKE)
DROP = Admission(Verdict.DROP)


class InOrder:
    def __init__(self) -> None:
        self._expected: dict[Any, int] = {}  # partition -> the next offset to take

    def reset(self) -> None:
        """Forget every partition: after an assignment they start again at their committed offsets."""
        self._expected.clear()

    def admit(self, tp: Any, offset: int, committed: int | None = None) -> Admission:
        """What to do with the event at `offset` of partition `tp`. `committed`: the partition's
        committed offset, if known, where its first event after an assignment must be."""
        expected = self._expected.get(tp, committed)
        if expected is not None and offset < expected:
            return DROP
        self._expected[tp] = offset + 1
        if expected is None or offset == expected:
            return TAKE
        log.warning("%s: the events at offsets %d to %d did not arrive; reading them from the broker",
                    tp, expected, offset - 1)
        return Admission(Verdict.FILL, expected)
