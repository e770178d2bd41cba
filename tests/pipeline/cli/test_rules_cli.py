"""`rules lint|test|explain` for CI: --json, --sarif, and explaining many sentences with one engine."""

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import RuleError, RuleSetError
from pipeline.ruleset.load import load_ruleset

from ..rulekit import COMMON, rule, ruleset

runner = CliRunner()

FAILING = rule("t", "match: {terms: [最好]}").replace("hit: [a1, a2]", "hit: [这是最好的, 没有这个词]")


def _rules(tmp_path: Path, rules: str) -> Path:
    """A rule set written as is, even one that does not load."""
    directory = tmp_path / "rules"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "common.yaml").write_text(COMMON, encoding="utf-8")
    (directory / "test.yaml").write_text("rules:\n" + rules, encoding="utf-8")
    return directory


def _line_of(path: Path, needle: str) -> int:
    lines = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
    (line,) = [n for n, text in lines if text.strip().startswith(needle)]
    return line


def _problem(directory: Path) -> RuleError:
    """The one problem the loader itself finds in the rule set, as `rules lint` prints it."""
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(directory)
    (problem,) = caught.value.problems
    assert problem.line is not None
    return problem


def _run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    monkeypatch.chdir(tmp_path)  # as CI runs it, from the checkout: paths come out relative to it
    return runner.invoke(app, list(args), input=stdin)


def test_lint_json_of_a_clean_rule_set_counts_it_and_exits_zero(tmp_path: Path) -> None:
    loaded = ruleset(tmp_path, rule("t", "match: {terms: [最好]}\nunless: [negated]"))
    result = runner.invoke(app, ["rules", "lint", str(tmp_path / "rules"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["version"] == loaded.version
    assert doc["rules"] == 1 and doc["conditions"] == 1
    assert doc["errors"] == [] and doc["warnings"] == []


def test_lint_json_puts_the_errors_in_the_document_and_exits_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _rules(tmp_path, rule("t", "match: {terms: [$missing]}"))
    result = _run(monkeypatch, tmp_path, "rules", "lint", "rules", "--json")
    assert result.exit_code == 2
    assert result.stderr == ""  # nothing printed beside the document
    doc = json.loads(result.stdout)
    assert doc["version"] is None and doc["rules"] is None
    (error,) = doc["errors"]
    assert error["file"] == "rules/test.yaml" and error["rule"] == "t"
    problem = _problem(directory)
    assert error["line"] == problem.line and error["message"] == problem.reason
    assert "unknown list $missing" in error["message"]


def test_lint_json_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))  # `negated` is never used: a warning
    directory = str(tmp_path / "rules")
    plain = runner.invoke(app, ["rules", "lint", directory, "--json"])
    assert plain.exit_code == 0
    (warning,) = json.loads(plain.stdout)["warnings"]
    assert "negated" in warning["message"] and warning["file"].endswith("common.yaml")
    assert runner.invoke(app, ["rules", "lint", directory, "--json", "--strict"]).exit_code == 1


def test_lint_sarif_locates_each_error_at_its_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _rules(tmp_path, rule("t", "match: {regex: 'a(?<=b)'}"))
    result = _run(monkeypatch, tmp_path, "rules", "lint", str(directory), "--sarif")
    assert result.exit_code == 2
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "claimwatch" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert {"rule-error", "rule-warning"} <= set(ids)
    (found,) = run["results"]
    assert found["level"] == "error" and found["ruleId"] == "rule-error"
    assert ids[found["ruleIndex"]] == "rule-error"
    assert "RE2 rejects" in found["message"]["text"]
    location = found["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "rules/test.yaml"  # usable from the working directory
    assert location["region"]["startLine"] == _problem(directory).line


def test_lint_sarif_names_a_file_outside_the_working_directory_by_its_uri(tmp_path: Path) -> None:
    directory = _rules(tmp_path, rule("t", "match: {terms: [$missing]}"))
    log = json.loads(runner.invoke(app, ["rules", "lint", str(directory), "--sarif"]).stdout)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (directory / "test.yaml").as_uri()


def test_json_and_sarif_together_are_a_usage_error(tmp_path: Path) -> None:
    for command in ("lint", "test"):
        result = runner.invoke(app, ["rules", command, str(tmp_path), "--json", "--sarif"])
        assert result.exit_code == 2
        assert result.stdout == "" and "--json and --sarif" in result.stderr


def test_rules_test_json_lists_every_example_and_the_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _rules(tmp_path, FAILING.replace("miss: [b1, b2]", "miss: [b1, b2]\n      todo_hit: [最好吧]"))
    result = _run(monkeypatch, tmp_path, "rules", "test", "rules", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["totals"] == {"examples": 5, "passed": 3, "failed": 1, "todo": 1, "todo_fixed": 1}
    assert [(r["expectation"], r["text"], r["ok"]) for r in doc["results"]] == [
        ("hit", "这是最好的", True), ("hit", "没有这个词", False), ("miss", "b1", True), ("miss", "b2", True),
        ("todo_hit", "最好吧", True),
    ]
    fired, failed = doc["results"][:2]
    assert fired["fired_on"] == ["最好"] and failed["fired"] is False and failed["fired_on"] == []
    assert failed["rule"] == "t" and failed["file"] == "rules/test.yaml"
    assert failed["line"] == _line_of(directory / "test.yaml", "hit:")
    assert doc["results"][4]["todo_now_passes"] is True


def test_rules_test_json_of_passing_examples_exits_zero(tmp_path: Path) -> None:
    body = rule("t", "match: {terms: [最好]}").replace("hit: [a1, a2]", "hit: [这是最好的, 最好的]")
    ruleset(tmp_path, body)
    result = runner.invoke(app, ["rules", "test", str(tmp_path / "rules"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["failed"] == 0


def test_rules_test_sarif_places_a_failure_at_its_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Block-style lists: each example on its own line, so the line names the example, not only its list.
    body = FAILING.replace("hit: [这是最好的, 没有这个词]", "hit:\n        - 这是最好的\n        - text: 没有这个词\n          category: food")
    directory = _rules(tmp_path, body)
    result = _run(monkeypatch, tmp_path, "rules", "test", "rules", "--sarif")
    assert result.exit_code == 1
    (run,) = json.loads(result.stdout)["runs"]
    (found,) = run["results"]
    assert found["ruleId"] == "example-should-fire" and found["level"] == "error"
    assert found["properties"]["rule"] == "t" and "没有这个词" in found["message"]["text"]
    location = found["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "rules/test.yaml"
    assert location["region"]["startLine"] == _line_of(directory / "test.yaml", "- text: 没有这个词")


def test_rules_test_sarif_of_a_broken_rule_set_reports_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rules(tmp_path, rule("t", "match: {terms: [$missing]}"))
    result = _run(monkeypatch, tmp_path, "rules", "test", "rules", "--sarif")
    assert result.exit_code == 2
    (found,) = json.loads(result.stdout)["runs"][0]["results"]
    assert found["ruleId"] == "rule-error" and "$missing" in found["message"]["text"]


def test_explain_json_of_a_sentence_with_a_stopped_and_a_firing_claim(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}\nunless: [negated]", severity="high"))
    rules = ["--rules", str(tmp_path / "rules")]
    result = runner.invoke(app, ["rules", "explain", "我们不说最好", "--json", "-c", "food", *rules])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    doc = json.loads(line)
    assert doc["original"] == "我们不说最好" and doc["fires"] == []
    assert doc["product"]["category"] == "food" and "最好" in doc["tokens"]
    (trace,) = doc["rules"]
    assert (trace["rule"], trace["kind"], trace["severity"], trace["applies"]) == ("t", "absolute-term", "high", True)
    (finding,) = trace["findings"]
    assert finding["words"] == "最好" and finding["verdict"] == "stopped" and finding["stopped_by"] == "negated"
    assert finding["reason"]


def test_explain_batch_from_stdin_gives_one_json_line_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    result = _run(monkeypatch, tmp_path, "rules", "explain", "-", "--json", "--rules", "rules",
                  "--price", "9.9", stdin="这是最好的\n\n  \n你好\r\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["original"] for d in docs] == ["这是最好的", "你好"]  # blank lines skipped
    assert [d["fires"] for d in docs] == [["t"], []]
    assert docs[0]["rules"][0]["findings"][0]["verdict"] == "fires"
    assert all(d["product"]["price"] == 9.9 and d["product"]["listed"] for d in docs)  # every sentence


def test_explain_batch_in_text_separates_the_explanations(tmp_path: Path) -> None:
    ruleset(tmp_path, rule("t", "match: {terms: [最好]}"))
    result = runner.invoke(app, ["rules", "explain", "-", "--rules", str(tmp_path / "rules")], input="最好\n你好\n")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split("─" * 40)
    assert "FIRES" in first and "original   最好" in first
    assert "original   你好" in second and "no rule came close" in second


def test_explain_file_with_the_shipped_rules(tmp_path: Path) -> None:
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("全网最低价\n你好\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "explain", "--file", str(sentences), "--json"])
    assert result.exit_code == 0, result.output
    fires, quiet = [json.loads(line) for line in result.stdout.splitlines()]
    assert "price-lowest-claim" in fires["fires"]
    trace = next(t for t in fires["rules"] if t["rule"] == "price-lowest-claim")
    assert trace["kind"] == "price-fraud"
    assert any(f["verdict"] == "fires" and f["words"] == "全网最低价" for f in trace["findings"])
    assert quiet["original"] == "你好" and quiet["fires"] == [] and quiet["rules"] == []


def test_explain_file_that_cannot_be_read_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = runner.invoke(app, ["rules", "explain", "--file", str(missing), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == f"error cannot read {missing}: No such file or directory"
    not_text = tmp_path / "gb18030.txt"
    not_text.write_bytes("最好".encode("gb18030"))
    result = runner.invoke(app, ["rules", "explain", "--file", str(not_text)])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_explain_wants_one_source_of_sentences(tmp_path: Path) -> None:
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("最好\n", encoding="utf-8")
    assert runner.invoke(app, ["rules", "explain"]).exit_code == 2
    assert runner.invoke(app, ["rules", "explain", "最好", "--file", str(sentences)]).exit_code == 2
