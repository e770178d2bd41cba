"""The recording format, and reading files to replay or backtest.

A recording is JSON lines, one Kafka record a line:

    {"topic": "claimwatch.transcripts", "partition": 0, "offset": 12, "timestamp": 1767225600000,
     "key": "room-1", "value": {...the event...}}

A key or value that is not UTF-8 (JSON for values) is kept losslessly as `key_base64` /
`value_base64` instead. Files ending in `.gz` are gzip. The same readers accept a plain events
file as `claimwatch scan` reads it (listing and transcript lines, timed by their `ts`), so a
recording and a hand-written scenario can be replayed and backtested alike.
"""

from __future__ import annotations

import base64
import gzip
import heapq
import json
import signal
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from pydantic import ValidationError

from models.events import parse_time
from pipeline.errors import EventError
from pipeline.kafka.topics import TOPIC_NAMES

EVENT_TOPICS = {"transcript": "transcripts", "listing": "listings"}


class StopOnSignal:
    """Turns SIGINT/SIGTERM into a flag checked between records, so no line is cut in half."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only; it stops a background run itself
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._set)
        return self

    def _set(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass(frozen=True)
class ReplayItem:
    """One record to send again: where it came from, where it goes, and when it happened."""

    line: int
    base: str  # topic name without the pipeline prefix: "transcripts", "listings", ...
    recorded_topic: str | None  # None for a plain events file
    partition: int | None
    key: bytes | None
    value: bytes | None
    time_ms: int  # the Kafka timestamp of a recorded record; the `ts` of a plain event
    event_type: str | None  # "transcript" / "listing" when the value is such an event
    room_id: str | None

    @property
    def order_group(self) -> tuple[Any, ...]:
        """Records whose relative order must be kept: one partition, or one room / product."""
        if self.recorded_topic is not None:
            return ("partition", self.recorded_topic, self.partition)
        return ("key", self.base, self.key)


def open_text(path: Path, mode: str = "rt") -> IO[Any]:
    """A recording or events file, gzip when the name ends in .gz; text modes read UTF-8."""
    encoding = None if "b" in mode else "utf-8"
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding=encoding)  # type: ignore[return-value]  # text or binary by mode
    return open(path, mode, encoding=encoding)


def _text_or_base64(raw: bytes | None, name: str) -> dict[str, Any]:
    if raw is None:
        return {name: None}
    try:
        return {name: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{name}_base64": base64.b64encode(raw).decode()}


def record_line(topic: str, partition: int, offset: int, timestamp: int, key: bytes | None, value: bytes | None) -> str:
    """One Kafka record as a recording line."""
    line: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset, "timestamp": timestamp}
    line.update(_text_or_base64(key, "key"))
    parsed: Any = None
    if value is not None:
        try:
            parsed = json.loads(value.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            line["value_base64"] = base64.b64encode(value).decode()
        else:
            line["value"] = parsed
    else:
        line["value"] = None
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _bytes_field(data: dict[str, Any], name: str) -> bytes | None:
    if f"{name}_base64" in data:
        return base64.b64decode(data[f"{name}_base64"], validate=True)
    value = data.get(name)
    if value is None:
        return None
    if name == "value":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string")
    return value.encode()


def _as_event(value: bytes | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("type") in EVENT_TOPICS else None


def _time_ms(value: Any, where: str) -> int:
    try:
        return int(parse_time(value).timestamp() * 1000)
    except ValidationError:
        raise EventError(f"field 'ts': {value!r} is not ISO-8601 or epoch milliseconds", where=where) from None


def _pipeline_topic(topic: str) -> str:
    """"transcripts" for "claimwatch.transcripts" or "test-1.transcripts": a replay with a
    topic prefix sends a pipeline topic's records to the same topic under the new prefix."""
    for name in TOPIC_NAMES:
        if topic == name or topic.endswith("." + name):
            return name
    return topic


def _recorded_item(number: int, data: dict[str, Any]) -> ReplayItem:
    where = f"line {number}"
    for name in ("topic", "partition", "timestamp"):
        if name not in data:
            raise EventError(f"field {name!r} missing from a recorded record", where=where)
    topic = data["topic"]
    if not isinstance(topic, str) or not topic:
        raise EventError("field 'topic' must be a topic name", where=where)
    if not isinstance(data["timestamp"], int) or not isinstance(data["partition"], int):
        raise EventError("fields 'partition' and 'timestamp' must be integers", where=where)
    try:
        key, value = _bytes_field(data, "key"), _bytes_field(data, "value")
    except ValueError as exc:
        raise EventError(f"bad key or value: {exc}", where=where) from None
    event = _as_event(value)
    # A listing's room_id is where it was first shown, not a room it belongs to: listings have
    # no room, so a replay of some rooms keeps every listing.
    room = event.get("room_id") if event and event.get("type") == "transcript" else None
    if room is None and key is not None and _pipeline_topic(topic) in ("transcripts", "alerts"):
        room = key.decode("utf-8", "replace")
    base = _pipeline_topic(topic)
    return ReplayItem(number, base, topic, data["partition"], key, value, data["timestamp"],
                      event["type"] if event else None, room if isinstance(room, str) else None)


def _event_item(number: int, data: dict[str, Any], raw: str) -> ReplayItem:
    where = f"line {number}"
    kind = data.get("type")
    key_field = "product_id" if kind == "listing" else "room_id"
    key = data.get(key_field)
    if not isinstance(key, str) or not key:
        raise EventError(f"field {key_field!r} missing: the record's key", where=where)
    if "ts" not in data:
        raise EventError("field 'ts' missing", where=where)
    room = data.get("room_id") if kind == "transcript" else None
    base = EVENT_TOPICS[str(kind)]
    return ReplayItem(number, base, None, None, key.encode(), raw.strip().encode(), _time_ms(data["ts"], where),
                      kind, room)


def parse_line(number: int, line: str) -> ReplayItem:
    """A recording line or a plain event line; EventError names the line and what is wrong."""
    where = f"line {number}"
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise EventError(f"invalid JSON: {exc}", where=where) from None
    if not isinstance(data, dict):
        raise EventError("not a JSON object", where=where)
    if "topic" in data:
        return _recorded_item(number, data)
    if data.get("type") in EVENT_TOPICS:
        return _event_item(number, data, line)
    raise EventError("neither a recorded record (no 'topic') nor an event ('type' transcript or listing)",
                     where=where)


def read_items(path: Path, problems: list[EventError]) -> list[ReplayItem]:
    """Every good line of a recording or events file; bad lines go to `problems`, named by line.
    Lines are decoded one by one, so a stray byte costs its own line only."""
    items = []
    number = 0
    with open_text(path, "rb") as lines:
        try:
            for number, raw in enumerate(lines, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    problems.append(EventError(f"not UTF-8: {exc.reason} at byte {exc.start}", where=f"line {number}"))
                    continue
                if not line.strip():
                    continue
                try:
                    items.append(parse_line(number, line))
                except EventError as exc:
                    exc.raw = line
                    problems.append(exc)
        except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
            problems.append(
                EventError(f"unreadable after this line, the rest is skipped: {exc}", where=f"line {number}")
            )
    return items


def in_stream_order(items: Iterable[ReplayItem]) -> list[ReplayItem]:
    """All records merged by time, each partition's (or room's, product's) own order kept:
    a recording holds partitions one after another, a live stream interleaves them."""
    groups: dict[tuple[Any, ...], list[ReplayItem]] = defaultdict(list)
    for item in items:
        groups[item.order_group].append(item)
    # At the same moment a listing goes first: the product is then known when a segment of it
    # is judged, as it was live (a replay flushes each listing before what follows it).
    return list(heapq.merge(*groups.values(), key=lambda item: (item.time_ms, item.event_type != "listing", item.line)))


def event_lines(items: Iterable[ReplayItem]) -> Iterator[str]:
    """The transcript and listing events among the items, as `scan` reads them."""
    for item in items:
        if item.event_type is not None and item.value is not None:
            yield item.value.decode("utf-8")
