"""A real `claimwatch worker` in a subprocess, with its own topic prefix, for integration tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

from pipeline.kafka.feed import read_topic
from pipeline.ops.local import start_worker
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}."


class WorkerProcess:
    def __init__(self, bootstrap: str, prefix: str, log_dir: Path, env: dict[str, str] | None = None):
        self.settings = Settings(broker=bootstrap, topic_prefix=prefix, partitions=2)
        self.env = env
        self.log_path = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.proc = start_worker(self.settings, self.log_path, own_session=True, env=self.env)
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final commit."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_json(bootstrap: str, topic: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [json.loads(m.value) for m in read_topic(bootstrap, topic, **kwargs)]
