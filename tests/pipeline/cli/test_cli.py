import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

from ..rulekit import rule, ruleset

runner = CliRunner()


def _events(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def test_scan_writes_alert_lines_and_flags_bad_input(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    events = _events(
        tmp_path,
        {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "这是最好的"},
        "{oops",
    )
    out = tmp_path / "alerts.jsonl"
    result = runner.invoke(app, ["scan", str(events), "-o", str(out), "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 1
    assert "line 2: invalid JSON" in result.output
    (alert,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert alert["rule_id"] == "t" and alert["evidence"]["match"] == "最好"


def test_scan_clean_input_exits_zero(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    events = _events(tmp_path, {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "你好"})
    result = runner.invoke(app, ["scan", str(events), "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 0, result.output
    assert "0 alerts (0 repeats suppressed), 0 bad lines" in result.output


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    schemas = json.loads(result.stdout)
    assert set(schemas) == {"TranscriptSegment", "ProductListing", "Alert"}
    assert "evidence" in schemas["Alert"]["properties"]
    assert runner.invoke(app, ["schema", "Nope"]).exit_code == 2


def test_the_alert_schema_names_the_kinds_of_the_rule_set_and_the_categories(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    alert = json.loads(runner.invoke(app, ["schema", "Alert", "--rules", str(tmp_path / "rules")]).stdout)
    declared = ["absolute-term", "listing-contradiction", "medical-claim", "price-fraud"]  # rulekit's kinds
    assert alert["properties"]["kind"]["enum"] == declared == alert["$defs"]["RuleRef"]["properties"]["kind"]["enum"]
    (named,) = [o for o in alert["properties"]["category"]["anyOf"] if o.get("type") == "string"]
    assert "cosmetics" in named["enum"] and "health_food" in named["enum"]
    assert {"emitted_at", "listing_event_id", "listing_ts"} <= set(alert["properties"])


def test_lint_reports_located_problems(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [a]}"))
    (tmp_path / "rules" / "test.yaml").write_text(
        "rules:\n" + rule("t", "match: {terms: [$missing]}") + rule("t", "match: {terms: [b]}"), encoding="utf-8"
    )
    result = runner.invoke(app, ["rules", "lint", str(tmp_path / "rules")])
    assert result.exit_code == 2
    assert "duplicate rule id" in result.output and "unknown list $missing" in result.output
    assert "test.yaml:" in result.output


def test_rules_test_reports_each_misbehaving_example(tmp_path: Path) -> None:
    body = rule("t", "match: {terms: [最好]}").replace("hit: [a1, a2]", "hit: [这是最好的, 没有这个词]")
    ruleset(tmp_path, body)
    result = runner.invoke(app, ["rules", "test", str(tmp_path / "rules")])
    assert result.exit_code == 1
    assert "FAIL t should fire" in result.output and "没有这个词" in result.output
    assert "1 failed" in result.output


def test_explain_shows_tokens_and_the_stopping_exception(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}\nunless: [negated]"))
    result = runner.invoke(app, ["rules", "explain", "我们不说最好", "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 0
    assert "tokens" in result.output and "stopped by negated" in result.output
    result = runner.invoke(app, ["rules", "explain", "这是最好的", "--rules", str(tmp_path / "rules")])
    assert "FIRES" in result.output


def test_eval_prints_scores_and_lists_mistakes(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}", kind="absolute-term"))
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "1", "text": "最好的", "category": "food", "label": "violation", "kind": "absolute-term"},
        {"id": "2", "text": "顶级的", "category": "food", "label": "violation", "kind": "absolute-term"},
        {"id": "3", "text": "最好冷藏", "category": "food", "label": "clean", "kind": "absolute-term"},
        {"id": "4", "text": "你好", "category": "food", "label": "clean", "kind": "none"},
    ]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["eval", str(corpus), "--rules", str(tmp_path / "rules"), "--json"])
    data = json.loads(result.stdout)
    assert data["overall"]["precision"] == 0.5 and data["overall"]["recall"] == 0.5
    assert data["misses"] == ["2"] and data["false_hits"] == ["3"]


def test_eval_of_a_corpus_that_cannot_be_read_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "cannot read the corpus" in result.output


def test_scan_numbers_lines_by_newline_only_and_goes_on_past_hostile_lines(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    good = {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "这是最好的"}
    events = tmp_path / "events.jsonl"
    lines = [
        '{"type": "transcript", "event_id": "cr", "room_id": "r1", "ts": 0, "text": "a\rb"}',  # a raw CR
        "[" * 10_000 + "]" * 10_000,
        '{"type": "transcript", "event_id": "big", "room_id": "r1", "ts": ' + "1" * 4301 + ', "text": "x"}',
        json.dumps(good, ensure_ascii=False),
    ]
    events.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")  # and Windows line ends
    result = runner.invoke(app, ["scan", str(events), "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 1, result.output
    rejected = [line for line in result.output.splitlines() if line.startswith("rejected")]
    assert [line.split(":")[0] for line in rejected] == ["rejected line 1", "rejected line 2", "rejected line 3"]
    assert "1 alerts" in result.output and "3 bad lines" in result.output


def test_an_invalid_setting_ends_the_command_in_one_line_with_status_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    events = _events(tmp_path, {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "你好"})
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "scan", str(events)], capture_output=True,
                            text=True, env={**os.environ, "CLAIMWATCH_DEDUP_WINDOW_S": "abc"}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error CLAIMWATCH_DEDUP_WINDOW_S: Input should be a valid number, unable to parse string as a number "
        "(got 'abc')"
    ]


def test_a_file_that_cannot_be_read_or_written_is_a_one_line_usage_error(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    rules = ["--rules", str(tmp_path / "rules")]
    missing = runner.invoke(app, ["scan", str(tmp_path / "nope.jsonl"), *rules])
    assert missing.exit_code == 2
    assert missing.output.strip() == f"error cannot read {tmp_path / 'nope.jsonl'}: No such file or directory"
    events = _events(tmp_path, {"type": "transcript", "event_id": "s1", "room_id": "r1", "ts": 0, "text": "你好"})
    unwritable = runner.invoke(app, ["scan", str(events), "-o", str(tmp_path / "no" / "dir.jsonl"), *rules])
    assert unwritable.exit_code == 2
    assert "cannot write" in unwritable.output and "Traceback" not in unwritable.output


def test_a_reader_that_stops_early_ends_the_scan_quietly(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    events = _events(tmp_path, *({"type": "transcript", "event_id": f"s{i}", "room_id": f"r{i}", "ts": 0,
                                  "text": "这是最好的"} for i in range(3000)))  # fmt: skip
    command = [sys.executable, "-m", "pipeline.cli", "scan", str(events), "--rules", str(tmp_path / "rules")]
    scan = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert scan.stdout is not None and scan.stderr is not None
    assert json.loads(scan.stdout.readline())["rule_id"] == "t"
    scan.stdout.close()  # as `| head -1` does
    stderr = scan.stderr.read().decode()
    assert scan.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_rules_test_refuses_a_rule_id_that_does_not_exist(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("price-lowest", "match: {terms: [最低价]}"))
    result = runner.invoke(app, ["rules", "test", str(tmp_path / "rules"), "--rule", "price-lowets"])
    assert result.exit_code == 2
    assert "--rule price-lowets: no such rule (did you mean price-lowest?)" in result.output
    assert "passed" not in result.output


def test_version_and_short_help() -> None:
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("claimwatch ")
    assert version.output.split()[1][0].isdigit()
    short = runner.invoke(app, ["scan", "-h"])
    assert short.exit_code == 0 and "--dedup-window" in short.output


def test_backtest_of_a_recording_that_cannot_be_read_is_told_as_scan_tells_it(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    rules = str(tmp_path / "rules")
    for unreadable, why in ((tmp_path / "nope.jsonl", "No such file or directory"), (tmp_path, "Is a directory")):
        result = runner.invoke(app, ["backtest", str(unreadable), "--rules", rules, "--baseline", rules])
        assert result.exit_code == 2
        assert result.output.strip() == f"error cannot read {unreadable}: {why}"
