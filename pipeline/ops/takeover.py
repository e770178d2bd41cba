"""How long a replacement worker takes over from a killed one: `python -m pipeline.ops.takeover
[--repeat N]`. For each membership (dynamic; static, with CLAIMWATCH_GROUP_INSTANCE_ID) and
session timeout (20 s, the default, and 6 s): a worker judges a paced live mix, is SIGKILLed
once 300 segments are committed, and a new one is started at once with the same settings; the
figure is the time from the kill until the group has committed 40 more segments. Prints one JSON
line a trial.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from pipeline.kafka.broker import EmbeddedBroker
from pipeline.kafka.feed import send_events
from pipeline.kafka.topics import ensure_topics
from pipeline.ops.livemix import live_events
from pipeline.ops.local import committed_transcripts, start_worker
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient

FIRST_MS = 1_767_225_600_000


def trial(bootstrap: str, static: bool, session_timeout_s: float, name: str, log_dir: Path) -> dict[str, object]:
    settings = Settings(broker=bootstrap, topic_prefix=f"{name}.", partitions=2)
    ensure_topics(settings)
    env = {"CLAIMWATCH_SESSION_TIMEOUT_S": str(session_timeout_s)}
    if static:
        env["CLAIMWATCH_GROUP_INSTANCE_ID"] = "worker-a"
    lines = [json.dumps(e, ensure_ascii=False) for e in live_events(4000, name, FIRST_MS, 40, 50)]
    done = threading.Event()

    def feed() -> None:  # about 200 segments a second, so the stream never runs dry
        for start in range(0, len(lines), 20):
            if done.is_set():
                return
            send_events(bootstrap, settings.topic_prefix, lines[start : start + 20])
            time.sleep(0.1)

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    first = start_worker(settings, log_dir / f"{name}-a.log", own_session=True, env=env)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        while committed_transcripts(admin, settings) < 300:
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed = time.monotonic()
        at_kill = committed_transcripts(admin, settings)
        second = start_worker(settings, log_dir / f"{name}-b.log", own_session=True, env=env, timeout_s=600)
        ready_s = time.monotonic() - killed
        while committed_transcripts(admin, settings) <= at_kill + 40:
            time.sleep(0.05)
        progress_s = time.monotonic() - killed
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    finally:
        done.set()
        admin.close()
    return {"membership": "static" if static else "dynamic", "session_timeout_s": session_timeout_s,
            "ready_s": round(ready_s, 1), "progress_s": round(progress_s, 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="trials of each kind")
    args = parser.parse_args(argv)
    with EmbeddedBroker(port=0) as broker, tempfile.TemporaryDirectory() as tmp:
        n = 0
        for _ in range(args.repeat):
            for static in (False, True):
                for session_timeout_s in (20.0, 6.0):
                    n += 1
                    result = trial(broker.bootstrap, static, session_timeout_s, f"takeover-{n}", Path(tmp))
                    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
