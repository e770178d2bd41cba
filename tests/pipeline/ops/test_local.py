"""`claimwatch up` as `make demo` runs it: its own broker and worker, the sample fed in."""

import pytest

from models.alerts import Alert
from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.ops.local import run_local_stack
from pipeline.settings import load_settings

from ..streamkit import ROOT

pytestmark = pytest.mark.kafka  # starts its own broker and worker


def test_up_replays_a_session_at_speed_and_shows_every_alert_scan_gives(engine: Engine) -> None:
    sample = ROOT / "samples" / "session_mixed_evening.jsonl"
    expected = {a.alert_id for a in Scanner(engine).scan_lines(sample.read_text(encoding="utf-8").splitlines())}
    shown: list[Alert] = []
    said: list[str] = []
    count = run_local_stack(load_settings(topic_prefix="demo-test."), 0, None, sample, shown.append, said.append,
                            idle_exit_s=8, speed=300.0)
    assert count == len(shown) and {a.alert_id for a in shown} == expected
    assert said[0].startswith("ready 127.0.0.1:") and any(line.startswith("replayed 252 events") for line in said)
