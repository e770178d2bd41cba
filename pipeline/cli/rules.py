"""`claimwatch rules lint|test|explain`: the compliance officer's tools for a rule set."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from models.events import Category
from pipeline.cli.common import RulesOption, err, load_engine, load_rules, out
from pipeline.detect.engine import Explanation
from pipeline.detect.facts import ProductFacts


def rules_lint(
    directory: Annotated[Path | None, typer.Argument(help="rules directory")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="fail (exit 1) on warnings too")] = False,
) -> None:
    """Check rule files. Errors (exit 2): schema, duplicate ids, unknown references, circular
    fragments, regexes RE2 rejects. Warnings: unused lists, fragments and conditions, a word
    listed twice, the same regex written twice, regexes too long to review."""
    ruleset = load_rules(directory)
    for warning in ruleset.warnings:
        err.print(f"[yellow]warning[/yellow] {escape(str(warning))}")
    verdict = f"{len(ruleset.warnings)} warnings" if ruleset.warnings else "ok"
    out.print(f"{len(ruleset.rules)} rules, {len(ruleset.lists)} lists, {len(ruleset.fragments)} fragments, "
              f"{len(ruleset.conditions)} conditions: {verdict} (version {ruleset.version})")
    if strict and ruleset.warnings:
        raise typer.Exit(1)


def rules_test(
    directory: Annotated[Path | None, typer.Argument(help="rules directory")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="only this rule id (repeatable)")] = None,
) -> None:
    """Run every rule's hit/miss examples through the real pipeline. Exit status: 0 all pass, 1
    an example fails, 2 an unknown --rule or a rule set with errors."""
    from pipeline.quality.examples import run_examples

    engine = load_engine(directory)
    known = [r.spec.id for r in engine.rules]
    unknown = [rule_id for rule_id in rule or () if rule_id not in known]
    for rule_id in unknown:
        near = difflib.get_close_matches(rule_id, known, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        err.print(f"[red]error[/red] --rule {escape(rule_id)}: no such rule{escape(hint)}")
    if unknown:
        raise typer.Exit(2)  # a filter that matches nothing would pass silently
    results = run_examples(engine, set(rule) if rule else None)
    failures = [r for r in results if not r.ok]
    for r in failures:
        expected = "should fire" if r.expectation == "hit" else "should stay quiet"
        got = f"fired on {', '.join(r.alerts)}" if r.fired else "did not fire"
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
    fired_ids = {(f.rule.spec.id, f.hit) for f in ex.fired}
    for trace in ex.traces:
        spec = trace.rule.spec
        out.print(f"\n[magenta]{spec.id}[/magenta] ({spec.kind.value}, {spec.severity.value})")
        if not trace.applies:
            category = facts.category.value if facts.category else "?"
            out.print(f"  [dim]not applied: category {category} is out of scope[/dim]")
        for finding in trace.findings:
            words = escape(finding.words)
            if not trace.applies:
                verdict = "[dim]skipped[/dim]"
            elif finding.fired and (spec.id, finding.hit) in fired_ids:
                verdict = "[red]FIRES[/red]"
                if finding.conflict is not None:
                    c = finding.conflict
                    verdict += f": the listing's {escape(c.field)} says 「{escape(c.listed)}」"
            elif finding.fired:
                verdict = "[dim]overlaps a longer match[/dim]"
            else:
                verdict = f"[green]stopped by {finding.suppressed_by}[/green]: {escape(finding.reason or '')}"
            sound = finding.evasion
            said = f" (said as 「{escape(sound.variant)}」, {sound.kind})" if sound else ""
            out.print(f"  「{words}」{said} via {escape(finding.hit.via)} → {verdict}")
        for hit in trace.near_misses:
            out.print(f"  [dim]「{escape(analysis.text[hit.start:hit.end])}」 {escape(hit.via)}[/dim]")


def rules_explain(
    text: Annotated[str, typer.Argument(help="a sentence as the host said it")],
    category: Annotated[Category | None, typer.Option("--category", "-c")] = None,
    certification: Annotated[list[str] | None, typer.Option("--certification", help="a listed certification")] = None,
    no_certifications: Annotated[
        bool, typer.Option("--no-certifications", help="the listing states it has no certification")
    ] = False,
    price: Annotated[float | None, typer.Option("--price")] = None,
    original_price: Annotated[float | None, typer.Option("--original-price")] = None,
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="a listed attribute, NAME=VALUE (material=聚酯纤维)")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Show the normalized text, tokens, what was heard by sound, and for each rule that came
    close whether it fired (and what listing fact it contradicts) or why not. Any listing option
    makes the product count as listed, so claims are compared with it."""
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
    _print_explanation(load_engine(rules).explain(text, facts))


def _certifications_shown(facts: ProductFacts) -> str:
    return "not given" if facts.certifications is None else str(list(facts.certifications))
