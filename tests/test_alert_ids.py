"""Alert identity: the alerts on samples/ and on every corpus of tests/data/ are the ones kept in
tests/data/alert_ids/ (pipeline/quality/snapshot.py). A refactor or a speed-up changes none; a
rule change rewrites them with `make alert-ids`, and the diff shows what it changes."""

from __future__ import annotations

from pipeline.detect.engine import Engine
from pipeline.quality.snapshot import SNAPSHOT_DIR, differences, snapshot


def test_the_alerts_are_the_ones_kept(engine: Engine) -> None:
    problems = differences(snapshot(engine))
    assert not problems, (
        "alerts differ from " + str(SNAPSHOT_DIR) + " (if a rule change means it: `make alert-ids`, then review"
        " the diff):\n" + "\n".join(problems)
    )
