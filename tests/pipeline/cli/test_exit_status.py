"""Exit statuses and first words when Kafka is not there, and help that reads as it works.
No broker: these are the mistakes a user makes before there is one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.recordings import RecentRate
from pipeline.errors import EXIT_KAFKA, EXIT_USAGE

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "demo_stream.jsonl"


@pytest.fixture
def closed_port() -> Iterator[str]:
    """An address where nothing listens: a port that was just free."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield f"127.0.0.1:{port}"


def claimwatch(*args: str, wait_s: str = "1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAIMWATCH_BROKER_WAIT_S": wait_s, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.mark.parametrize("command", [
    ["worker", "--topic-prefix", "nobody."],
    ["record", "--out", "{tmp}/rec.jsonl", "--until-idle", "1"],
    ["tail", "--until-idle", "1"],
    ["replay", str(SAMPLE)],
])  # fmt: skip
def test_no_broker_is_said_at_once_and_ends_in_one_line_with_status_3(
    command: list[str], closed_port: str, tmp_path: Path
) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    done = claimwatch(*args, "--broker", closed_port)
    assert done.returncode == EXIT_KAFKA, done.stderr
    lines = done.stderr.strip().splitlines()
    assert f"waiting for the broker at {closed_port}: nothing listening yet" in lines[1 if args[0] == "worker" else 0]
    assert f"error no broker at {closed_port}: nothing listening after 1 s" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "rec.jsonl").exists()


def test_the_worker_names_its_rule_set_version_first(closed_port: str) -> None:
    from pipeline.ruleset.load import load_ruleset

    done = claimwatch("worker", "--broker", closed_port, wait_s="0")
    assert done.returncode == EXIT_KAFKA
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"rules {load_ruleset().version}: ") and f"broker {closed_port}" in first


def test_a_recording_that_could_not_be_written_is_a_usage_error_before_any_broker(
    tmp_path: Path, closed_port: str
) -> None:
    for out, why in ((tmp_path / "nodir" / "rec.jsonl", "no such directory"), (tmp_path, "it is a directory")):
        result = CliRunner().invoke(app, ["record", "--out", str(out), "--broker", closed_port])
        assert result.exit_code == EXIT_USAGE
        assert f"error cannot write {out}: {why}" in result.stderr and "waiting" not in result.stderr


def test_flags_show_no_value_in_help_and_commands_list_one_line_each() -> None:
    done = claimwatch("scan", "-h")
    (pretty,) = [line for line in done.stdout.splitlines() if "--pretty" in line]
    assert "<bool>" not in pretty and "<float>" in done.stdout  # options with a value still show its type
    listing = claimwatch("-h").stdout
    (scan,) = [line for line in listing.splitlines() if "│ scan " in line]
    assert scan.split("│")[1].strip() == "scan      Scan recorded events offline; alerts are written as JSON lines."


def test_the_recent_rate_forgets_quiet_time_that_a_lifetime_average_would_keep() -> None:
    rate = RecentRate(window_s=5.0)
    assert rate.update(0.0, 0) == 0.0
    assert rate.update(1.0, 100) == 100.0
    for second in range(2, 60):
        quiet = rate.update(float(second), 100)
    assert quiet == 0.0  # the lifetime average would say 100/59
    assert rate.update(61.0, 300) == pytest.approx(200 / 5.0)  # 200 since the oldest sample kept, at 56 s

