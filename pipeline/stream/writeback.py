"""The judge's room state in the worker: Faust tables written once per room and batch.

The split-claim window writes a room's segments for every segment it judges, and each write to a
Faust table produces a changelog record. A batch under load holds many segments of each room, so
the writes are kept here while the batch is judged (reads see them) and reach the table at its
end: one changelog record per room and batch, under the room's last event of the batch (Faust
writes a change to the changelog partition of the event it is processing). The table, and so
its changelog, then holds what it would have held after writing each change; the batch's
offsets are committed only after these records are on the broker, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar

Event = TypeVar("Event")


class WriteBack(MutableMapping[str, Any], Generic[Event]):
    def __init__(self, table: MutableMapping[str, Any], current: Callable[[], Event]):
        """`current`: the event being judged, whose changelog partition a write belongs to."""
        self._table = table
        self._current = current
        self._changed: dict[str, tuple[Any, Event]] = {}

    def __getitem__(self, key: str) -> Any:
        changed = self._changed.get(key)
        return changed[0] if changed is not None else self._table[key]

    def get(self, key: str, default: Any = None) -> Any:
        changed = self._changed.get(key)
        return changed[0] if changed is not None else self._table.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._changed[key] = (value, self._current())

    def __delitem__(self, key: str) -> None:
        self._changed.pop(key, None)
        del self._table[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._changed
        yield from (key for key in self._table if key not in self._changed)

    def __len__(self) -> int:
        return len(self._changed) + sum(1 for key in self._table if key not in self._changed)

    def write(self, as_of: Callable[[Event], None]) -> int:
        """Write the batch's changes to the table, each with `as_of` called first on the last
        event that made it; returns how many keys were written."""
        written = len(self._changed)
        for key, (value, event) in self._changed.items():
            as_of(event)
            self._table[key] = value
        self._changed.clear()
        return written
