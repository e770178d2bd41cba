"""Backtest: exactly the difference a rule change makes, through the same scanner as `scan`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.detect.engine import Engine
from pipeline.judge.scan import Scanner
from pipeline.ops.backtest import backtest

from ..rulekit import rule, ruleset

SEGMENTS = [
    {"type": "transcript", "event_id": f"s{i}", "room_id": "r1", "ts": i * 120_000, "text": text}
    for i, text in enumerate(["这是最好的面霜", "全网最低价了", "今天包邮哦", "最好的价格 全网最低价"])
]
LINES = [json.dumps(s, ensure_ascii=False) for s in SEGMENTS]
BEST = rule("best", "match: {terms: [最好]}")
LOWEST = rule("lowest", "match: {terms: [全网最低价]}", kind="price-fraud")
FREE = rule("free-shipping", "match: {terms: [包邮]}", kind="price-fraud")


def _engine(tmp_path: Path, name: str, rules: str) -> Engine:
    return Engine(ruleset(tmp_path / name, rules))


def test_a_removed_rule_shows_exactly_its_alerts_as_gone(tmp_path: Path) -> None:
    old = _engine(tmp_path, "old", BEST + LOWEST)
    new = _engine(tmp_path, "new", BEST)
    report = backtest(LINES, new, old)
    assert [(a.event_id, a.rule_id) for a in report.only_baseline] == [("s1", "lowest"), ("s3", "lowest")]
    assert report.only_new == []
    assert {c.rule_id: (c.baseline, c.new) for c in report.per_rule} == {"best": (2, 2), "lowest": (2, 0)}


def test_an_added_rule_shows_exactly_its_alerts_as_new(tmp_path: Path) -> None:
    old = _engine(tmp_path, "old", BEST)
    new = _engine(tmp_path, "new", BEST + FREE)
    report = backtest(LINES, new, old)
    assert [(a.event_id, a.rule_id) for a in report.only_new] == [("s2", "free-shipping")]
    assert report.only_baseline == [] and report.changed


def test_a_rule_joining_a_claim_is_shown_on_the_alert_it_joins(tmp_path: Path) -> None:
    cheapest = rule("cheapest", "match: {regex: 最低价}", kind="price-fraud")
    old = _engine(tmp_path, "old", BEST + LOWEST)
    new = _engine(tmp_path, "new", BEST + LOWEST + cheapest)
    report = backtest(LINES, new, old)
    assert report.only_new == [] and report.only_baseline == [] and report.changed
    assert [(c.alert.event_id, c.joined, c.left) for c in report.rules_changed] == [
        ("s1", ["cheapest"], []), ("s3", ["cheapest"], [])]  # fmt: skip
    assert {c.rule_id: (c.baseline, c.new) for c in report.per_rule}["cheapest"] == (0, 2)
    back = backtest(LINES, old, new)
    assert [(c.joined, c.left) for c in back.rules_changed] == [([], ["cheapest"])] * 2


def test_the_same_rules_change_nothing(tmp_path: Path) -> None:
    report = backtest(LINES, _engine(tmp_path, "a", BEST + LOWEST), _engine(tmp_path, "b", BEST + LOWEST),)
    assert not report.changed and report.baseline_alerts == report.new_alerts == 4


def test_cli_backtest_reads_a_recording_and_reports_json(tmp_path: Path) -> None:
    from pipeline.ops.recording_format import record_line

    ruleset(tmp_path / "old", BEST + LOWEST)
    ruleset(tmp_path / "new", BEST)
    recording = tmp_path / "rec.jsonl"
    lines = [record_line("claimwatch.transcripts", 0, i, s["ts"], b"r1", line.encode())
             for i, (s, line) in enumerate(zip(SEGMENTS, LINES, strict=True))]
    recording.write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(recording), "--rules", str(tmp_path / "new" / "rules"),
                                      "--baseline", str(tmp_path / "old" / "rules"), "--json"])
    assert result.exit_code == 1, result.output  # line 5 could not be used
    report = json.loads(result.stdout)
    assert [a["event_id"] for a in report["only_baseline"]] == ["s1", "s3"]
    assert report["per_rule"]["lowest"] == {"baseline": 2, "new": 0, "delta": -2, "rule": "removed"}
    assert report["changed"] is True
    assert "line 5" in result.stderr

    table = CliRunner().invoke(app, ["backtest", str(recording), "--rules", str(tmp_path / "new" / "rules"),
                                     "--baseline", str(tmp_path / "old" / "rules")])
    assert "only with the baseline: 2" in table.stdout and "lowest" in table.stdout


def test_a_rule_deleted_from_the_shipped_rules_is_gone_from_a_sample_and_nothing_else(
    tmp_path: Path, engine: Engine
) -> None:
    import shutil

    import yaml

    from pipeline.ruleset.load import load_ruleset
    from pipeline.settings import default_rules_dir

    sample = Path(__file__).resolve().parents[3] / "samples" / "session_food_home.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines()
    before = [a for a in Scanner(engine).scan_lines(lines)]
    removed = "scarcity-fake-stock"
    assert any(a.rule_id == removed for a in before)
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    path = rules / "scarcity.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["rules"] = [r for r in spec["rules"] if r["id"] != removed]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")

    report = backtest(lines, Engine(load_ruleset(rules)), engine)
    assert sorted(a.alert_id for a in report.only_baseline) == sorted(a.alert_id for a in before if a.rule_id == removed)
    assert report.only_new == []


def test_a_rule_added_removed_or_edited_is_listed_even_when_it_raised_nothing(tmp_path: Path) -> None:
    quiet = rule("never-said", "match: {terms: [从来没人说]}")
    edited = rule("lowest", "match: {terms: [全网最低价, 史上最低价]}", kind="price-fraud")
    report = backtest(LINES, _engine(tmp_path, "new", BEST + edited + quiet), _engine(tmp_path, "old", BEST + LOWEST))
    rows = {c.rule_id: (c.baseline, c.new, c.status) for c in report.per_rule}
    assert rows == {"best": (2, 2, "same"), "lowest": (2, 2, "edited"), "never-said": (0, 0, "added")}
    assert not report.changed  # rules changed, alerts did not


def test_fail_on_change_is_a_gate_that_fails_only_when_an_alert_changes(tmp_path: Path) -> None:
    ruleset(tmp_path / "old", BEST + LOWEST)
    ruleset(tmp_path / "new", BEST)
    ruleset(tmp_path / "same", BEST + LOWEST + rule("never-said", "match: {terms: [从来没人说]}"))
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(LINES) + "\n", encoding="utf-8")

    def gate(rules: str, *extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["backtest", str(events), "--rules", str(tmp_path / rules / "rules"),
                                          "--baseline", str(tmp_path / "old" / "rules"), "--fail-on-change", *extra])
        return result.exit_code, result.stdout

    code, table = gate("new")
    assert code == 1 and "only with the baseline: 2" in table and "removed" in table
    code, table = gate("same")
    assert code == 0 and "no alert changes" in table and "never-said" in table and "added" in table
    code, document = gate("new", "--json")
    assert code == 1 and json.loads(document)["changed"] is True
    code, document = gate("same", "--json")
    assert code == 0 and json.loads(document)["per_rule"]["never-said"]["rule"] == "added"
