"""Hostile records through `scan` and through the worker, counted: `python -m pipeline.ops.fuzz
[--records N] [--seed S] [--no-worker]` (`make fuzz`; the test suite runs a small size).

A seeded generator writes records of every kind a broken or malicious producer sends, mixed with
valid events: invalid UTF-8, lone surrogates, NUL bytes, wrong JSON types for each field, deep
nesting, numbers and timestamps too large for anything, texts at and over the size limit, emoji
and combining-mark floods, mixed scripts, and claims. Every record must be judged or rejected
with its reason; nothing may crash or hang. `scan` reads them as lines, the worker as Kafka
records; both must reject the same records for the same reasons and give the same alerts.
Prints a JSON report (counts by reason, seconds, peak memory) and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner, event_lines
from pipeline.ops.livemix import dev_claims, ordinary_talk
from pipeline.ruleset import load_ruleset
from pipeline.settings import MAX_TEXT_CHARS, Settings

FIRST_MS = 1_767_225_600_000
ROOMS = 40


def _segment(rng: random.Random, n: int, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "transcript", "event_id": f"fz-{n}", "room_id": f"room-{rng.randrange(ROOMS)}",
            "ts": FIRST_MS + n * 100, "text": text, **extra}  # fmt: skip


def _listing(rng: random.Random, n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "listing", "event_id": f"fl-{n}", "product_id": f"p-{rng.randrange(ROOMS)}",
            "ts": FIRST_MS + n * 100, "category": rng.choice(["food", "cosmetics", "drug", "other"]),
            "title": "商品", "price": rng.choice([9.9, 99, 129]), **extra}  # fmt: skip


def _dump(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


class Generator:
    """Seeded hostile and valid records, each as the bytes of one line (no raw newline)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.talk = ordinary_talk(500, seed)
        self.claims = [text for text, _ in dev_claims()]
        self.kinds: list[tuple[float, Callable[[int], bytes]]] = [
            (30, self.valid_segment), (4, self.valid_listing), (6, self.invalid_utf8), (4, self.lone_surrogate),
            (4, self.nul_bytes), (10, self.wrong_type), (3, self.deep_nesting), (4, self.huge_number),
            (4, self.huge_time), (2, self.at_limit), (2, self.over_limit), (4, self.emoji_flood),
            (4, self.combining_flood), (6, self.mixed_scripts), (4, self.not_an_object), (4, self.missing_field),
            (3, self.truncated), (2, self.control_characters),
        ]  # fmt: skip

    def record(self, n: int) -> bytes:
        weights = [w for w, _ in self.kinds]
        _, make = self.rng.choices(self.kinds, weights=weights)[0]
        return make(n)

    def text(self) -> str:
        return self.rng.choice(self.claims) if self.rng.random() < 0.3 else self.rng.choice(self.talk)

    def valid_segment(self, n: int) -> bytes:
        return _dump(_segment(self.rng, n, self.text(), category=self.rng.choice([None, "food", "cosmetics", "drug"])))

    def valid_listing(self, n: int) -> bytes:
        return _dump(_listing(self.rng, n))

    def invalid_utf8(self, n: int) -> bytes:
        good = _dump(_segment(self.rng, n, self.text()))
        cut = self.rng.randrange(len(good))
        bad = self.rng.choice([b"\xff", b"\xc3\x28", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xed\xa0\x80"])
        return good[:cut] + bad + good[cut:]

    def lone_surrogate(self, n: int) -> bytes:
        surrogate = self.rng.choice(["\\ud83d", "\\udc00", "\\udfff"])
        return _dump(_segment(self.rng, n, "X")).replace(b'"X"', f'"冲{surrogate}鸭"'.encode())

    def nul_bytes(self, n: int) -> bytes:
        text = self.text()
        at = self.rng.randrange(len(text) + 1)
        return _dump(_segment(self.rng, n, text[:at] + "\x00" * self.rng.randint(1, 50) + text[at:]))

    def wrong_type(self, n: int) -> bytes:
        record = _segment(self.rng, n, self.text()) if self.rng.random() < 0.7 else _listing(self.rng, n)
        field = self.rng.choice([k for k in record if k != "type"] + ["seq", "start_ms", "certifications"])
        record[field] = self.rng.choice([True, False, None, 1, -1, 3.5, "99", "", [], {}, [1, "a"], {"a": 1}])
        return _dump(record)

    def deep_nesting(self, n: int) -> bytes:
        depth = self.rng.choice([100, 1000, 10_000, 50_000])
        opener, closer = self.rng.choice([("[", "]"), ('{"a":', "}")])
        inner = opener * depth + "1" + closer * depth
        head = f'{{"type": "transcript", "event_id": "fz-{n}", "room_id": "r", "ts": 0, "text": "x", "extra": '
        return (head + inner + "}").encode()

    def huge_number(self, n: int) -> bytes:
        number = self.rng.choice(["1" * self.rng.choice([20, 400, 4301, 20_000]), "1e400", "-1e400", "1e-400",
                                  "123456789012345678901234567890.5"])
        field = self.rng.choice(["price", "original_price", "seq", "ts"])
        if field in ("price", "original_price"):
            base = json.dumps(_listing(self.rng, n, **{field: 0}), ensure_ascii=False)
        else:
            base = json.dumps(_segment(self.rng, n, self.text(), **{field: 0}), ensure_ascii=False)
        return base.replace(f'"{field}": 0', f'"{field}": {number}', 1).encode()

    def huge_time(self, n: int) -> bytes:
        ts = self.rng.choice([10**18, -(10**18), 253402300800000, -62135596800001, "9999-99-99T99:99:99Z",
                              "2026-13-01T00:00:00Z", "yesterday", "", "0" * 30])  # fmt: skip
        return _dump(_segment(self.rng, n, self.text(), ts=ts))

    def at_limit(self, n: int) -> bytes:
        unit = self.text() + "，"
        return _dump(_segment(self.rng, n, (unit * (MAX_TEXT_CHARS // len(unit) + 1))[:MAX_TEXT_CHARS]))

    def over_limit(self, n: int) -> bytes:
        return _dump(_segment(self.rng, n, "好" * (MAX_TEXT_CHARS + self.rng.choice([1, 100, 50_000]))))

    def emoji_flood(self, n: int) -> bytes:
        emoji = "".join(self.rng.choice("😀🔥💯👍🏻👨‍👩‍👧‍👦🇨🇳❤️✨") for _ in range(self.rng.randint(10, 1500)))
        return _dump(_segment(self.rng, n, self.text() + emoji + self.text()))

    def combining_flood(self, n: int) -> bytes:
        marks = "".join(self.rng.choice("\u0301\u0308\u0336\u20dd\u0489") for _ in range(self.rng.randint(10, 3000)))
        text = self.text()
        at = self.rng.randrange(len(text) + 1)
        return _dump(_segment(self.rng, n, text[:at] + marks + text[at:]))

    def mixed_scripts(self, n: int) -> bytes:
        pieces = [self.text(), "Zuì hǎo", "gēn zhì", "ｆｕｌｌ　ｗｉｄｔｈ", "Ελληνικά", "русский", "العربية", "עברית",
                  "한국어", "日本語のテキスト", "𠀀𪚥𰻞", "\u200b\u200d\ufeff", "全網最低價", "ｇｅｎｚｈｉ", "1️⃣2️⃣3️⃣"]
        return _dump(_segment(self.rng, n, "".join(self.rng.choice(pieces) for _ in range(self.rng.randint(1, 12)))))

    def not_an_object(self, n: int) -> bytes:
        return self.rng.choice([b"[]", b"1", b'"text"', b"null", b"true", b"[{\"type\": \"transcript\"}]", b"{}"])

    def missing_field(self, n: int) -> bytes:
        record = _segment(self.rng, n, self.text()) if self.rng.random() < 0.7 else _listing(self.rng, n)
        del record[self.rng.choice(list(record))]
        return _dump(record)

    def truncated(self, n: int) -> bytes:
        good = _dump(_segment(self.rng, n, self.text()))
        return good[: self.rng.randrange(1, len(good))]

    def control_characters(self, n: int) -> bytes:
        text = "".join(self.rng.choice(["\x01", "\x07", "\x1b[31m", "\u2028", "\u2029", "\x7f", "\r"]) + self.text()
                       for _ in range(3))  # fmt: skip
        return _dump(_segment(self.rng, n, text))


def fuzz_records(count: int, seed: int) -> list[bytes]:
    generator = Generator(seed)
    return [generator.record(n) for n in range(count)]


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def scan_records(engine: Engine, records: list[bytes], settings: Settings | None = None) -> dict[str, Any]:
    """The records through `scan`'s reader (as `claimwatch scan` reads a file): the alerts' ids
    and the rejections by reason."""
    scanner = Scanner(engine, settings)
    lines = event_lines(io.BytesIO(b"\n".join(records) + b"\n"))
    started = time.perf_counter()
    alert_ids = [alert.alert_id for alert in scanner.scan_lines(lines)]
    return {
        "records": len(records),
        "judged": scanner.counters.segments + scanner.counters.listings,
        "rejected": dict(sorted(Counter(error.kind for error in scanner.bad_lines).items())),
        "alerts": len(alert_ids),
        "alert_ids": alert_ids,
        "seconds": round(time.perf_counter() - started, 1),
    }


def worker_records(
    settings: Settings, records: list[bytes], log_dir: Path, timeout_s: float = 1800.0
) -> dict[str, Any]:
    """The same records as Kafka records through one worker: its dead letters by reason and the
    alerts' ids, once every transcript offset is committed."""
    import warnings

    from pipeline.kafka.feed import read_to_end, route_raw, send_events
    from pipeline.kafka.topics import ensure_topics
    from pipeline.ops.local import peak_rss_mib, start_worker, wait_committed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka import KafkaAdminClient

    ensure_topics(settings)
    sent = send_events(settings.broker, settings.topic_prefix, records)
    on_transcripts = sum(1 for r in records if not route_raw(r, "")[2])
    proc = start_worker(settings, log_dir / "worker-fuzz.log")
    started = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=settings.broker)
    try:
        wait_committed(admin, settings, on_transcripts, proc, timeout_s, poll_s=0.5)
        seconds = round(time.monotonic() - started, 1)
        rss = peak_rss_mib(proc.pid)
    finally:
        admin.close()
        proc.terminate()
        proc.wait(timeout=60)
    # The dead letters hold every rejected record whole (a text over the limit, a nesting bomb).
    dead = [json.loads(m.value) for m in read_to_end(settings.broker, settings.topic("deadletter"), timeout_s=900)]
    alerts = [json.loads(m.value)["alert_id"]
              for m in read_to_end(settings.broker, settings.topic("alerts"), timeout_s=900)]
    return {"records": sent, "rejected": dict(sorted(Counter(d["reason"] for d in dead).items())),
            "alerts": len(set(alerts)), "alert_ids": alerts, "seconds": seconds, "peak_rss_mib": rss}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records generated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-worker", action="store_true", help="through scan only (no broker)")
    args = parser.parse_args(argv)
    records = fuzz_records(args.records, args.seed)
    engine = Engine(load_ruleset())
    scanned = scan_records(engine, records)
    report: dict[str, Any] = {"seed": args.seed, "scan": scanned, "scan_peak_rss_mib": peak_rss_mib()}
    ok = scanned["judged"] + sum(scanned["rejected"].values()) == len(records)
    if not args.no_worker:
        from pipeline.kafka.broker import EmbeddedBroker

        with EmbeddedBroker(port=0) as broker, tempfile.TemporaryDirectory() as tmp:
            settings = Settings(broker=broker.bootstrap, topic_prefix=f"fuzz-{int(time.time())}.")
            streamed = worker_records(settings, records, Path(tmp))
        report["worker"] = streamed
        ok = ok and streamed["rejected"] == scanned["rejected"]
        ok = ok and set(streamed["alert_ids"]) == set(scanned["alert_ids"])
    for part in ("scan", "worker"):
        if part in report:
            report[part] = {k: v for k, v in report[part].items() if k != "alert_ids"}
    report["ok"] = ok
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
