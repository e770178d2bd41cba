"""`claimwatch rules lint|test|explain`: the compliance officer's tools for a rule set."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from models.events import Category
from models.rules import ExampleSpec
from pipeline.cli.common import (
    RulesOption,
    err,
    load_engine,
    load_rules,
    load_rules_or_problems,
    open_file,
    out,
    reader_gone,
)
from pipeline.cli.explain_json import explanation_json, fired_hits, verdict
from pipeline.detect.engine import Engine, Explanation
from pipeline.detect.facts import ProductFacts
from pipeline.errors import RuleError, did_you_mean
from pipeline.quality import sarif
from pipeline.ruleset.model import LoadedRule, RuleSet
from pipeline.ruleset.yamlnodes import child

if TYPE_CHECKING:  # running the examples pulls in the judge: only `rules test` needs it
    from pipeline.quality.examples import ExampleResult

JsonOption = Annotated[bool, typer.Option("--json", help="one JSON document on stdout")]
SarifOption = Annotated[
    bool, typer.Option("--sarif", help="a SARIF 2.1.0 log on stdout, for a code host to annotate the rule files")
]
Output = Literal["text", "json", "sarif"]


def _output(as_json: bool, as_sarif: bool) -> Output:
    if as_json and as_sarif:
        err.print("[red]error[/red] --json and --sarif: give one of them")
        raise typer.Exit(2)
    return "json" if as_json else "sarif" if as_sarif else "text"


def _write_document(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _problem_json(problem: RuleError) -> dict[str, Any]:
    # The loader names each file as it opens from the working directory: what a code host resolves.
    return {"file": problem.file, "line": problem.line, "rule": problem.rule_id,
            "message": problem.reason}  # fmt: skip


def _problem_result(problem: RuleError, check: sarif.Check) -> sarif.Result:
    message = f"{problem.rule_id}: {problem.reason}" if problem.rule_id else problem.reason
    properties = {"rule": problem.rule_id} if problem.rule_id else {}
    return sarif.Result(check, message, Path(problem.file), problem.line, properties)


def _sarif_log(checks: tuple[sarif.Check, ...], results: list[sarif.Result], version: str | None) -> dict[str, Any]:
    return sarif.sarif_log(checks, results, package_version("claimwatch"),
                           {"ruleSetVersion": version} if version else None)  # fmt: skip


def _lint_document(
    output: Output, ruleset: RuleSet | None, problems: list[RuleError]
) -> dict[str, Any]:
    warnings = ruleset.warnings if ruleset is not None else []
    version = ruleset.version if ruleset is not None else None
    if output == "sarif":
        results = [_problem_result(p, sarif.RULE_ERROR) for p in problems]
        results += [_problem_result(w, sarif.RULE_WARNING) for w in warnings]
        return _sarif_log(sarif.LINT_CHECKS, results, version)

    def count(name: str) -> int | None:
        return len(getattr(ruleset, name)) if ruleset is not None else None

    return {
        "version": version,
        **{name: count(name) for name in ("rules", "kinds", "lists", "fragments", "conditions")},
        "errors": [_problem_json(p) for p in problems],
        "warnings": [_problem_json(w) for w in warnings],
    }


def rules_lint(
    directory: Annotated[Path | None, typer.Argument(help="rules directory")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="fail (exit 1) on warnings too")] = False,
    as_json: JsonOption = False,
    as_sarif: SarifOption = False,
) -> None:
    """Check rule files. Errors (exit 2): schema, duplicate ids, unknown references, circular
    fragments, regexes RE2 rejects. Warnings: unused lists, fragments and conditions, a word
    listed twice, the same regex written twice, regexes too long to review. With --json or
    --sarif the errors and warnings are in the document on stdout, each with its file and line."""
    output = _output(as_json, as_sarif)
    if output != "text":
        loaded, problems = load_rules_or_problems(directory)
        _write_document(_lint_document(output, loaded, problems))
        if problems:
            raise typer.Exit(2)
        if strict and loaded is not None and loaded.warnings:
            raise typer.Exit(1)
        return
    ruleset = load_rules(directory)
    for warning in ruleset.warnings:
        err.print(f"[yellow]warning[/yellow] {escape(str(warning))}")
    verdict = f"{len(ruleset.warnings)} warnings" if ruleset.warnings else "ok"
    counts = ", ".join(f"{len(getattr(ruleset, part))} {part}" for part in ("rules", "kinds", "lists", "fragments",
                                                                            "conditions"))
    out.print(f"{counts}: {verdict} (version {ruleset.version})")
    if strict and ruleset.warnings:
        raise typer.Exit(1)


def _expected_and_got(r: ExampleResult) -> tuple[str, str]:
    expected = "should fire" if r.expectation == "hit" else "should stay quiet"
    return expected, f"fired on {', '.join(r.alerts)}" if r.fired else "did not fire"


def _example_lines(
    ruleset: RuleSet, by_id: dict[str, LoadedRule], results: list[ExampleResult]
) -> list[int | None]:
    """The line each result's example is written on, from its file's YAML node tree; the rule's
    own line when the tree does not lead to it."""
    seen: dict[tuple[str, str], int] = {}  # run_examples keeps each rule's lists in file order
    lines: list[int | None] = []
    for r in results:
        loaded = by_id[r.rule_id]
        written = [ExampleSpec(text=raw) if isinstance(raw, str) else raw
                   for raw in getattr(loaded.spec.examples, r.expectation)]  # fmt: skip
        index = seen.get((r.rule_id, r.expectation), 0)
        seen[(r.rule_id, r.expectation)] = index + 1
        if index >= len(written) or written[index] != r.example:
            index = written.index(r.example) if r.example in written else -1
        node = ruleset.nodes.get(loaded.file)
        for key in ("rules", loaded.index, "examples", r.expectation, index):
            node = child(node, key)
        lines.append(node.start_mark.line + 1 if node is not None else loaded.line)
    return lines


def _test_document(
    output: Output, ruleset: RuleSet | None, problems: list[RuleError], results: list[ExampleResult]
) -> dict[str, Any]:
    version = ruleset.version if ruleset is not None else None
    by_id = {loaded.spec.id: loaded for loaded in ruleset.rules} if ruleset is not None else {}
    lines = _example_lines(ruleset, by_id, results) if ruleset is not None else []
    if output == "sarif":
        found = [_problem_result(p, sarif.RULE_ERROR) for p in problems]
        for r, line in zip(results, lines, strict=True):
            if r.ok and not r.todo_now_passes:
                continue
            path = Path(by_id[r.rule_id].file)
            properties = {"rule": r.rule_id, "expectation": r.expectation}
            if r.todo_now_passes:
                message = f"{r.rule_id}: todo_hit {r.example.text} now fires; move it to hit"
                found.append(sarif.Result(sarif.TODO_FIRES, message, path, line, properties))
                continue
            expected, got = _expected_and_got(r)
            check = sarif.SHOULD_FIRE if r.expectation == "hit" else sarif.SHOULD_STAY_QUIET
            found.append(sarif.Result(check, f"{r.rule_id} {expected}: {r.example.text} — {got}", path, line,
                                      properties))  # fmt: skip
        return _sarif_log(sarif.TEST_CHECKS, found, version)
    shown = []
    for r, line in zip(results, lines, strict=True):
        loaded = by_id[r.rule_id]
        categories = loaded.spec.categories
        category = r.example.category or (categories[0] if categories else None)  # as run_examples runs it
        shown.append({
            "rule": r.rule_id, "expectation": r.expectation, "text": r.example.text,
            "category": category.value if category else None, "ok": r.ok, "fired": r.fired,
            "fired_on": list(r.alerts), "todo_now_passes": r.todo_now_passes,
            "file": loaded.file, "line": line,
        })  # fmt: skip
    todo = sum(1 for r in results if r.expectation == "todo_hit")
    failed = sum(1 for r in results if not r.ok)
    totals = {"examples": len(results), "passed": len(results) - failed - todo, "failed": failed, "todo": todo,
              "todo_fixed": sum(1 for r in results if r.todo_now_passes)}  # fmt: skip
    return {
        "version": version,
        "totals": totals if ruleset is not None else None,
        "results": shown,
        "errors": [_problem_json(p) for p in problems],
    }


def rules_test(
    directory: Annotated[Path | None, typer.Argument(help="rules directory")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="only this rule id (repeatable)")] = None,
    as_json: JsonOption = False,
    as_sarif: SarifOption = False,
) -> None:
    """Run every rule's hit/miss examples through the real pipeline. Exit status: 0 all pass, 1
    an example fails, 2 an unknown --rule or a rule set with errors. --json: every example's
    result and the totals; --sarif: the failures, each at its example's line."""
    from pipeline.quality.examples import run_examples

    output = _output(as_json, as_sarif)
    if output == "text":
        engine = load_engine(directory)
    else:
        loaded, problems = load_rules_or_problems(directory)
        if loaded is None:  # CI reads the rule set's errors from the document, as `rules lint --json` gives them
            _write_document(_test_document(output, None, problems, []))
            raise typer.Exit(2)
        engine = Engine(loaded)
    known = [r.spec.id for r in engine.rules]
    unknown = [rule_id for rule_id in rule or () if rule_id not in known]
    for rule_id in unknown:
        err.print(f"[red]error[/red] --rule {escape(rule_id)}: no such rule{escape(did_you_mean(rule_id, known))}")
    if unknown:
        raise typer.Exit(2)  # a filter that matches nothing would pass silently
    results = run_examples(engine, set(rule) if rule else None)
    failures = [r for r in results if not r.ok]
    if output != "text":
        _write_document(_test_document(output, engine.ruleset, [], results))
        if failures:
            raise typer.Exit(1)
        return
    for r in failures:
        expected, got = _expected_and_got(r)
        category = r.example.category.value if r.example.category else "default"
        out.print(f"[red]FAIL[/red] {r.rule_id} {expected} ({category}): {escape(r.example.text)}  — {escape(got)}")
    for r in results:
        if r.todo_now_passes:
            out.print(f"[green]TODO FIXED[/green] {r.rule_id}: {escape(r.example.text)} now fires; move it to hit")
    todo = sum(1 for r in results if r.expectation == "todo_hit")
    out.print(f"{len(results) - len(failures) - todo} passed, {len(failures)} failed, {todo} todo")
    if failures:
        raise typer.Exit(1)


def _print_explanation(ex: Explanation) -> None:
    analysis = ex.analysis
    out.print(f"[bold]original[/bold]   {escape(analysis.normalized.original)}")
    out.print(f"[bold]normalized[/bold] {escape(analysis.text)}")
    for heard in analysis.restorations:
        out.print(f"[bold]by sound[/bold]   「{escape(heard.variant)}」 heard as 「{escape(heard.term)}」 "
                  f"({heard.kind})")
    out.print(f"[bold]tokens[/bold]     {escape(' | '.join(t.text for t in analysis.tokens))}")
    facts = ex.facts
    out.print(f"[bold]product[/bold]    category={facts.category.value if facts.category else 'unknown'} "
              f"certifications={_certifications_shown(facts)} source={facts.source}")
    if not ex.traces:
        out.print("no rule came close")
    fired = fired_hits(ex)
    for trace in ex.traces:
        spec = trace.rule.spec
        out.print(f"\n[magenta]{spec.id}[/magenta] ({spec.kind}, {spec.severity.value})")
        if not trace.applies:
            category = facts.category.value if facts.category else "?"
            out.print(f"  [dim]not applied: category {category} is out of scope[/dim]")
        for finding in trace.findings:
            words = escape(finding.words)
            decided = verdict(trace, finding, fired)
            if decided == "skipped":
                shown = "[dim]skipped[/dim]"
            elif decided == "fires":
                shown = "[red]FIRES[/red]"
                if finding.conflict is not None:
                    c = finding.conflict
                    shown += f": the listing's {escape(c.field)} says 「{escape(c.listed)}」"
            elif decided == "overlaps":
                shown = "[dim]overlaps a longer match[/dim]"
            else:
                shown = f"[green]stopped by {finding.suppressed_by}[/green]: {escape(finding.reason or '')}"
            sound = finding.evasion
            said = f" (said as 「{escape(sound.variant)}」, {sound.kind})" if sound else ""
            out.print(f"  「{words}」{said} via {escape(finding.hit.via)} → {shown}")
        for hit in trace.near_misses:
            out.print(f"  [dim]「{escape(analysis.text[hit.start:hit.end])}」 {escape(hit.via)}[/dim]")


SEPARATOR = "[dim]" + "─" * 40 + "[/dim]"


def _lines(chunks: Iterable[bytes], where: str) -> Iterator[str]:
    """The sentences to explain, one a line, as they come (stdin may be a live pipe); blank lines
    are skipped, and a line that is not UTF-8 ends the command."""
    for number, chunk in enumerate(chunks, start=1):
        try:
            line = chunk.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            err.print(f"[red]error[/red] cannot read {escape(where)}: line {number} is not UTF-8")
            raise typer.Exit(2) from None
        line = line.rstrip("\n").removesuffix("\r")
        if line.strip():
            yield line


def _sentences(text: str | None, file: Path | None) -> Iterable[str]:
    if text is not None and file is not None:
        err.print("[red]error[/red] give TEXT or --file, not both")
        raise typer.Exit(2)
    if file is not None:
        with open_file(file, "rb") as f:
            data = f.read()
        # Read before the engine loads, so a file that is not text fails in a moment, not after it.
        return list(_lines(data.split(b"\n"), str(file)))
    if text == "-":
        return _lines(typer.get_binary_stream("stdin"), "stdin")
    if text is None:
        err.print("[red]error[/red] give a sentence, - to read sentences from stdin, or --file PATH")
        raise typer.Exit(2)
    return [text]


def rules_explain(
    text: Annotated[
        str | None, typer.Argument(help="a sentence as the host said it; - reads sentences from stdin, one a line")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", help="read the sentences from this file, one a line")] = None,
    category: Annotated[Category | None, typer.Option("--category", "-c", help="the listed product's category")] = None,
    certification: Annotated[list[str] | None, typer.Option("--certification", help="a listed certification")] = None,
    no_certifications: Annotated[
        bool, typer.Option("--no-certifications", help="the listing states it has no certification")
    ] = False,
    price: Annotated[float | None, typer.Option("--price", help="the listed price")] = None,
    original_price: Annotated[
        float | None, typer.Option("--original-price", help="the listed original (struck-through) price")
    ] = None,
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="a listed attribute, NAME=VALUE (material=聚酯纤维)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a sentence, a line each")] = False,
    rules: RulesOption = None,
) -> None:
    """Show the normalized text, tokens, what was heard by sound, and for each rule that came
    close whether it fired (and what listing fact it contradicts) or why not. Any listing option
    makes the product count as listed, so claims are compared with it. Several sentences (TEXT
    `-` for stdin, or --file) are explained in turn by one engine, with the same listing."""
    attributes = []
    for item in attribute or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            err.print(f"[red]error[/red] --attribute {escape(item)}: expected NAME=VALUE")
            raise typer.Exit(2)
        attributes.append((name.strip(), value.strip()))
    listed = bool(certification or no_certifications or price is not None or original_price is not None or attributes)
    certifications = tuple(certification) if certification else (() if no_certifications else None)
    facts = ProductFacts(
        category=category, certifications=certifications, price=price, original_price=original_price,
        attributes=tuple(sorted(attributes)), source="command line", listed=listed,
    )
    sentences = _sentences(text, file)
    engine = load_engine(rules)
    try:
        for number, sentence in enumerate(sentences):
            explanation = engine.explain(sentence, facts)
            if as_json:
                sys.stdout.write(json.dumps(explanation_json(explanation), ensure_ascii=False) + "\n")
                sys.stdout.flush()  # a line as soon as it is explained, for a reader at the other end of a pipe
                continue
            if number:
                out.print(SEPARATOR)
            _print_explanation(explanation)
    except BrokenPipeError:
        reader_gone()


def _certifications_shown(facts: ProductFacts) -> str:
    return "not given" if facts.certifications is None else str(list(facts.certifications))
