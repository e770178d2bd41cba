"""Offline scan: a file of listing and transcript events in, alerts out, through the same judge
as the stream. Each line is decoded as the worker decodes a record; a bad line is kept with its
number and reason, and the rest goes on."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import IO, TextIO

from models.alerts import Alert
from pipeline.detect.engine import Engine
from pipeline.errors import EventError
from pipeline.judge.decode import decode_event
from pipeline.judge.judge import Counters, Judge
from pipeline.settings import Settings


def event_lines(binary: IO[bytes]) -> TextIO:
    """A file's lines as `scan` reads them: UTF-8 with undecodable bytes kept (the line is then
    rejected as `utf8` by the decoder, not the whole file), and lines ending at "\n" only, so a
    stray "\r" inside a record stays that record's problem instead of shifting every later
    line's number."""
    return io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="\n")


class Scanner:
    """Holds listing, window and repeat state across events; feed it lines in order."""

    def __init__(self, engine: Engine, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.judge = Judge(engine, self.settings)
        self.bad_lines: list[EventError] = []

    @property
    def counters(self) -> Counters:
        return self.judge.counters

    def scan_lines(self, lines: Iterable[str]) -> Iterator[Alert]:
        """Blank lines are skipped; a bad line is kept in `bad_lines` and the rest goes on."""
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = decode_event(line, where=f"line {number}", max_text_chars=self.settings.max_text_chars)
            except EventError as exc:
                exc.raw = line
                self.bad_lines.append(exc)
                self.counters.reject(exc)
                continue
            yield from self.judge.event(event)
