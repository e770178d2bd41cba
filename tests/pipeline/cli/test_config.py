import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app, main
from pipeline.settings import Settings

from ..rulekit import rule, ruleset

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CLAIMWATCH_* variable of the shell running the tests reaches them, and the
    CLAIMWATCH_CONFIG that `--config` exports in this process is gone after each test."""
    for variable in list(os.environ):
        if variable.upper().startswith("CLAIMWATCH_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("CLAIMWATCH_CONFIG", "")  # recorded, so that teardown removes what a test sets
    monkeypatch.delenv("CLAIMWATCH_CONFIG")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _claimwatch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The `claimwatch` script in this process, through `main()` as the installed script runs
    it: exit status, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["claimwatch", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err


def _rows(output: str) -> dict[str, tuple[str, str]]:
    """`claimwatch config`'s lines: setting -> (value, source)."""
    rows = {}
    for line in output.splitlines():
        name, value, source = re.split(r"\s{2,}", line.strip())
        rows[name] = (value, source)
    return rows


def test_a_flag_beats_the_environment_which_beats_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for origin in ("file", "env", "flag"):
        ruleset(tmp_path / origin, rule(f"from-{origin}", "match: {terms: [最好]}"))
    config = _write(tmp_path / "file" / "claimwatch.toml", 'rules_dir = "rules"\n')  # beside the file
    events = _write(tmp_path / "events.jsonl", json.dumps(
        {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "这是最好的"}) + "\n")
    monkeypatch.chdir(tmp_path)

    def fired(*args: str) -> list[str]:
        result = runner.invoke(app, ["--config", str(config), "scan", str(events), *args])
        assert result.exit_code == 0, result.output
        return [json.loads(line)["rule_id"] for line in result.stdout.splitlines() if line.startswith("{")]

    assert fired() == ["from-file"]
    monkeypatch.setenv("CLAIMWATCH_RULES_DIR", str(tmp_path / "env" / "rules"))
    assert fired() == ["from-env"]
    assert fired("--rules", str(tmp_path / "flag" / "rules")) == ["from-flag"]


def test_config_shows_each_setting_once_with_its_source_and_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = _write(tmp_path / "claimwatch.toml",
                    '# a comment first\nbroker = "file:9092"\ndedup_window_s = 30\nrules_dir = "my-rules"\n'
                    'topic_prefix = "file."\n')
    monkeypatch.setenv("CLAIMWATCH_TOPIC_PREFIX", "env.")
    monkeypatch.setenv("CLAIMWATCH_SASL_PASSWORD", "s3cr3t")
    result = runner.invoke(app, ["--config", str(config), "config"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert list(rows) == list(Settings.model_fields)
    assert rows["broker"] == ("file:9092", f"file {config}:2")
    assert rows["dedup_window_s"] == ("30.0", f"file {config}:3")
    assert rows["rules_dir"] == (str(tmp_path / "my-rules"), f"file {config}:4")
    assert rows["topic_prefix"] == ("env.", "env CLAIMWATCH_TOPIC_PREFIX")
    assert rows["sasl_password"] == ("**********", "env CLAIMWATCH_SASL_PASSWORD")
    assert rows["partitions"] == ("4", "default") and rows["group_id"] == ("(not set)", "default")
    assert "s3cr3t" not in result.output

    as_json = runner.invoke(app, ["--config", str(config), "config", "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["broker"] == {"value": "file:9092", "source": "file", "where": str(config), "line": 2}
    assert document["topic_prefix"] == {"value": "env.", "source": "env", "where": "CLAIMWATCH_TOPIC_PREFIX",
                                        "line": None}
    assert document["group_id"] == {"value": None, "source": "default", "where": None, "line": None}
    assert document["sasl_password"]["value"] == "**********" and "s3cr3t" not in as_json.stdout


def test_config_without_a_file_shows_the_defaults(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert {source for _, source in rows.values()} == {"default"}
    assert rows["broker"][0] == "127.0.0.1:9092"


def test_the_config_option_is_exported_absolute_for_the_processes_a_command_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(tmp_path / "claimwatch.toml", 'broker = "file:9092"\nrules_dir = "r"\n')
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--config", "claimwatch.toml", "config", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["broker"]["value"] == "file:9092"
    assert os.environ["CLAIMWATCH_CONFIG"] == str(tmp_path / "claimwatch.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    child = subprocess.run([sys.executable, "-m", "pipeline.cli", "config", "--json"], capture_output=True,
                           text=True, cwd=elsewhere, env=dict(os.environ), timeout=120)  # as `up` starts its worker
    assert child.returncode == 0, child.stderr
    settings = json.loads(child.stdout)
    assert settings["broker"]["value"] == "file:9092" and settings["rules_dir"]["value"] == str(tmp_path / "r")


def test_a_config_file_that_cannot_be_read_fails_every_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.toml"
    for command in (["config"], ["schema"]):  # `schema` reads no setting: the file is checked anyway
        status, out, err = _claimwatch(monkeypatch, capsys, "--config", str(missing), *command)
        assert (status, out) == (2, "")
        assert err.splitlines() == [f"error cannot read config file {missing}: No such file or directory"]
        assert "CLAIMWATCH_CONFIG" not in os.environ


def test_invalid_toml_is_one_line_with_its_line_and_column(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _write(tmp_path / "claimwatch.toml", 'broker = "k:9092"\npartitions = \n')
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(config))
    status, out, err = _claimwatch(monkeypatch, capsys, "config")
    assert (status, out) == (2, "")
    assert err.splitlines() == [f"error {config}: invalid TOML: Invalid value (at line 2, column 14)"]


def test_an_unknown_key_is_one_line_with_the_nearest_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _write(tmp_path / "claimwatch.toml", 'broker = "k:9092"\ndedup_windw_s = 30\n')
    status, out, err = _claimwatch(monkeypatch, capsys, "--config", str(config), "config")
    assert (status, out) == (2, "")
    assert err.splitlines() == [f"error {config}:2: dedup_windw_s: no such setting (did you mean dedup_window_s?)"]


def test_a_value_of_the_wrong_type_names_the_file_line_and_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _write(tmp_path / "claimwatch.toml", 'broker = "k:9092"\ndedup_window_s = "abc"\n')
    events = _write(tmp_path / "events.jsonl", "")
    status, out, err = _claimwatch(monkeypatch, capsys, "--config", str(config), "scan", str(events))
    assert (status, out) == (2, "")
    assert err.splitlines() == [f"error {config}:2: dedup_window_s: Input should be a valid number, unable to parse "
                                "string as a number (got 'abc')"]


def test_the_installed_script_ends_on_a_bad_config_file_with_status_2(tmp_path: Path) -> None:
    config = _write(tmp_path / "claimwatch.toml", "partitions = 0\n")
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(config), "config"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error {config}:1: partitions: Input should be greater than or equal to 1 (got 0)"
    ]
