"""The `claimwatch` command line."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.alerts import Alert
from models.events import Category, ProductListing, TranscriptSegment
from pipeline.engine import Engine, Explanation
from pipeline.errors import ClaimwatchError, RuleSetError
from pipeline.filters import ProductFacts
from pipeline.rules import RuleSet, load_ruleset
from pipeline.settings import load_settings

app = typer.Typer(help="Claimwatch: live-stream claim monitor.", no_args_is_help=True, add_completion=False)
rules_app = typer.Typer(help="Lint, test and explain the rule set.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

RulesOption = Annotated[
    Optional[Path], typer.Option("--rules", help="rules directory (default: CLAIMWATCH_RULES_DIR or ./rules)")
]

SEVERITY_STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}


def _ruleset(directory: Path | None) -> RuleSet:
    settings = load_settings(rules_dir=directory)
    try:
        return load_ruleset(settings.rules_dir)
    except RuleSetError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {escape(str(problem))}")
        raise typer.Exit(2) from None


def _engine(directory: Path | None) -> Engine:
    return Engine(_ruleset(directory))


def marked_sentence(alert: Alert) -> str:
    text, ev = alert.evidence.text, alert.evidence
    claim = escape(text[ev.start : ev.end])
    return escape(text[: ev.start]) + f"[bold red]【{claim}】[/bold red]" + escape(text[ev.end :])


def print_alert(console: Console, alert: Alert) -> None:
    style = SEVERITY_STYLE.get(alert.severity.value, "")
    console.print(
        f"[bold]{escape(alert.room_id)}[/bold] [{style}]{alert.severity.value:<8}[/{style}] "
        f"[magenta]{alert.rule_id}[/magenta] ({escape(alert.category or 'unknown')})"
    )
    console.print(f"    {marked_sentence(alert)}")
    console.print(f"    [dim]{escape(alert.message)} — {escape('；'.join(alert.legal_basis))}[/dim]")


@app.command()
def scan(
    input: Annotated[str, typer.Argument(help="JSON-lines file of listing and transcript events, or - for stdin")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="write alerts here (default stdout)")] = None,
    rules: RulesOption = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="readable alerts instead of JSON lines")] = False,
    dedup_window: Annotated[
        Optional[float], typer.Option("--dedup-window", help="seconds of event time a repeated claim stays quiet")
    ] = None,
) -> None:
    """Scan recorded events offline; alerts are written as JSON lines. Exit code 1 if any line was bad."""
    from pipeline.scan import Scanner

    settings = load_settings(rules_dir=rules, dedup_window_s=dedup_window)
    scanner = Scanner.from_settings(_engine(settings.rules_dir), settings)
    source = sys.stdin if input == "-" else open(input, encoding="utf-8", errors="surrogateescape")
    sink = open(output, "w", encoding="utf-8") if output else sys.stdout
    try:
        with source:
            for alert in scanner.scan_lines(source):
                if pretty:
                    print_alert(out, alert)
                else:
                    sink.write(alert.model_dump_json() + "\n")
    finally:
        if output:
            sink.close()
    stats = scanner.stats
    for problem in stats.rejected:
        err.print(f"[red]rejected[/red] {escape(str(problem))}")
    err.print(
        f"scanned {stats.segments} segments and {stats.listings} listings: "
        f"{stats.alerts} alerts ({stats.repeats_suppressed} repeats suppressed), {len(stats.rejected)} bad lines"
    )
    if stats.rejected:
        raise typer.Exit(1)


@app.command()
def schema(
    name: Annotated[Optional[str], typer.Argument(help="TranscriptSegment, ProductListing or Alert")] = None,
) -> None:
    """Print the JSON Schema of the events and alerts, for subscribers to code against."""
    models = {"TranscriptSegment": TranscriptSegment, "ProductListing": ProductListing, "Alert": Alert}
    if name is not None and name not in models:
        err.print(f"unknown schema {name!r}; choose from {', '.join(models)}")
        raise typer.Exit(2)
    chosen = {name: models[name]} if name else models
    schemas = {key: model.model_json_schema() for key, model in chosen.items()}
    sys.stdout.write(json.dumps(schemas[name] if name else schemas, ensure_ascii=False, indent=2) + "\n")


@rules_app.command("lint")
def rules_lint(directory: Annotated[Optional[Path], typer.Argument(help="rules directory")] = None) -> None:
    """Check rule files: schema, duplicate ids, unknown references, regexes RE2 rejects."""
    ruleset = _ruleset(directory)
    for warning in ruleset.warnings:
        err.print(f"[yellow]warning[/yellow] {escape(str(warning))}")
    out.print(f"{len(ruleset.rules)} rules, {len(ruleset.lists)} lists, {len(ruleset.conditions)} conditions: ok "
              f"(version {ruleset.version})")


@rules_app.command("test")
def rules_test(
    directory: Annotated[Optional[Path], typer.Argument(help="rules directory")] = None,
    rule: Annotated[Optional[list[str]], typer.Option("--rule", help="only this rule id (repeatable)")] = None,
) -> None:
    """Run every rule's hit/miss examples through the real pipeline."""
    from pipeline.ruletest import run_examples

    results = run_examples(_engine(directory), set(rule) if rule else None)
    failures = [r for r in results if not r.ok]
    for r in failures:
        expected = "should fire" if r.expectation == "hit" else "should stay quiet"
        got = f"fired on {', '.join(r.alerts)}" if r.fired else "did not fire"
        out.print(f"[red]FAIL[/red] {r.rule_id} {expected} ({escape(str(r.example.category and r.example.category.value or 'default'))}): "
                  f"{escape(r.example.text)}  — {escape(got)}")
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
        out.print(f"[bold]by sound[/bold]   「{escape(heard.variant)}」 heard as 「{escape(heard.term)}」 ({heard.kind})")
    out.print(f"[bold]tokens[/bold]     {escape(' | '.join(t.text for t in analysis.tokens))}")
    facts = ex.facts
    out.print(f"[bold]product[/bold]    category={facts.category.value if facts.category else 'unknown'} "
              f"certifications={list(facts.certifications)} source={facts.source}")
    if not ex.traces:
        out.print("no rule came close")
    fired_ids = {(f.rule.spec.id, f.hit) for f in ex.fired}
    for trace in ex.traces:
        spec = trace.rule.spec
        out.print(f"\n[magenta]{spec.id}[/magenta] ({spec.kind.value}, {spec.severity.value})")
        if not trace.applies:
            out.print(f"  [dim]not applied: category {facts.category.value if facts.category else '?'} is out of scope[/dim]")
        for finding in trace.findings:
            words = escape(analysis.text[finding.hit.start : finding.hit.end])
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
            sound = analysis.evasion_in(finding.hit.start, finding.hit.end)
            said = f" (said as 「{escape(sound.variant)}」, {sound.kind})" if sound else ""
            out.print(f"  「{words}」{said} via {escape(finding.hit.via)} → {verdict}")
        for hit in trace.near_misses:
            out.print(f"  [dim]「{escape(analysis.text[hit.start:hit.end])}」 {escape(hit.via)}[/dim]")


@rules_app.command("explain")
def rules_explain(
    text: Annotated[str, typer.Argument(help="a sentence as the host said it")],
    category: Annotated[Optional[Category], typer.Option("--category", "-c")] = None,
    certification: Annotated[Optional[list[str]], typer.Option("--certification", help="a listed certification")] = None,
    price: Annotated[Optional[float], typer.Option("--price")] = None,
    original_price: Annotated[Optional[float], typer.Option("--original-price")] = None,
    attribute: Annotated[
        Optional[list[str]], typer.Option("--attribute", help="a listed attribute, NAME=VALUE (material=聚酯纤维)")
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
    listed = bool(certification or price is not None or original_price is not None or attributes)
    facts = ProductFacts(
        category=category, certifications=tuple(certification or ()), price=price, original_price=original_price,
        attributes=tuple(sorted(attributes)), source="command line", listed=listed,
    )
    _print_explanation(_engine(rules).explain(text, facts))


@app.command("eval")
def eval_command(
    corpus: Annotated[Path, typer.Argument(help="labelled JSON lines: id, text, category, label, kind")],
    rules: RulesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the scores as JSON")] = False,
    show: Annotated[int, typer.Option("--show", help="list at most this many misses and false hits")] = 50,
) -> None:
    """Precision, recall and F1 overall and per kind; lists misses and false hits."""
    from pipeline.evaluate import evaluate, load_corpus

    try:
        items = load_corpus(corpus)
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    report = evaluate(_engine(rules), items)
    o = report.overall
    if as_json:
        data = {
            "overall": {"precision": o.precision, "recall": o.recall, "f1": o.f1, "tp": o.tp, "fp": o.fp, "fn": o.fn, "tn": o.tn},
            "per_kind": {k: {"precision": s.precision, "recall": s.recall, "f1": s.f1} for k, s in report.per_kind.items()},
            "recall_per_variant": {v: c / t for v, (c, t) in report.recall_per_variant().items()},
            "misses": [m.item.id for m in report.misses],
            "false_hits": [f.item.id for f in report.false_hits],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{len(items)} segments")
    for column in ("kind", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    table.add_row("[bold]overall[/bold]", f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}")
    for kind, s in report.per_kind.items():
        table.add_row(kind, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}")
    out.print(table)
    variants = report.recall_per_variant()
    if variants:
        by_variant = Table("disguise", "caught", "recall", title="recall per disguise")
        for variant, (caught, total) in variants.items():
            by_variant.add_row(variant, f"{caught}/{total}", f"{caught / total:.3f}")
        out.print(by_variant)
    out.print(f"tp={o.tp} fp={o.fp} fn={o.fn} tn={o.tn}")
    out.print(f"\n[bold]misses[/bold] ({len(report.misses)})")
    for m in report.misses[:show]:
        out.print(f"  {m.item.id} [{m.item.kind}] ({m.item.category and m.item.category.value}) {escape(m.item.text)}")
    out.print(f"\n[bold]false hits[/bold] ({len(report.false_hits)})")
    for f in report.false_hits[:show]:
        out.print(f"  {f.item.id} ({f.item.category and f.item.category.value}) {escape(f.item.text)} → "
                  f"{', '.join(f.rules)}: {escape('、'.join(f.matches))}")


@app.command()
def broker(
    port: Annotated[int, typer.Option("--port", help="client port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="keep data here (default: a temp dir)")] = None,
) -> None:
    """Run a single-node Apache Kafka 3.9 broker (KRaft) from jars fetched once through Maven.
    Prints `ready HOST:PORT` when clients can connect; stops cleanly on SIGTERM or Ctrl-C."""
    from pipeline.broker import run_forever

    try:
        run_forever(port, data_dir)
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command()
def worker(
    broker: Annotated[Optional[str], typer.Option("--broker", help="bootstrap servers host:port[,host:port]")] = None,
    topic_prefix: Annotated[Optional[str], typer.Option("--topic-prefix", help="prefix of every topic")] = None,
    partitions: Annotated[Optional[int], typer.Option("--partitions", help="partitions of created topics")] = None,
    dedup_window: Annotated[Optional[float], typer.Option("--dedup-window", help="seconds")] = None,
    rules: RulesOption = None,
    loglevel: Annotated[str, typer.Option("--loglevel")] = "info",
) -> None:
    """Run the stream worker: transcripts and listings in, alerts and dead letters out."""
    from pipeline.app import run_worker

    settings = load_settings(
        broker=broker, topic_prefix=topic_prefix, partitions=partitions, dedup_window_s=dedup_window, rules_dir=rules
    )
    _ruleset(settings.rules_dir)  # fail fast, with located errors, on a broken rule set
    run_worker(settings, loglevel)


@app.command()
def up(
    port: Annotated[int, typer.Option("--port", help="broker port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="broker data (default: a temp dir)")] = None,
    topic_prefix: Annotated[Optional[str], typer.Option("--topic-prefix")] = None,
    feed: Annotated[
        Optional[Path], typer.Option("--feed", help="replay this events file or recording into the input topics")
    ] = None,
    speed: Annotated[str, typer.Option("--speed", help="replay speed for --feed: a factor, or max")] = "max",
    exit_when_idle: Annotated[
        Optional[float], typer.Option("--exit-when-idle", help="stop after this many seconds without a new alert")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Broker and worker together for local use; shows alerts as they arrive (Ctrl-C stops)."""
    from pipeline.local import run_local_stack

    settings = load_settings(topic_prefix=topic_prefix, rules_dir=rules)
    _ruleset(settings.rules_dir)
    try:
        shown = run_local_stack(settings, port, data_dir, feed, lambda a: print_alert(out, a),
                                lambda line: err.print(escape(line)), exit_when_idle, _speed_option(speed))
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    err.print(f"{shown} alerts shown")


BrokerOption = Annotated[Optional[str], typer.Option("--broker", help="bootstrap servers host:port[,host:port]")]


def _time_option(value: str | None, name: str) -> datetime | None:
    """--since/--until: ISO-8601 or epoch milliseconds, as events give times."""
    from pydantic import ValidationError

    from models.events import parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except ValidationError:
        err.print(f"[red]error[/red] {name}: {escape(value)!s} is not ISO-8601 or epoch milliseconds")
        raise typer.Exit(2) from None


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _speed_option(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        speed = 0.0
    if speed <= 0:
        err.print(f"[red]error[/red] --speed: {escape(value)} is neither 'max' nor a positive number")
        raise typer.Exit(2)
    return speed


def _read_items(path: Path) -> tuple[list, int]:
    """The file's records, and how many lines had to be skipped (each reported on stderr)."""
    from pipeline.recording import read_items

    if not path.exists():
        err.print(f"[red]error[/red] {escape(str(path))}: no such file")
        raise typer.Exit(2)
    problems: list = []
    items = read_items(path, problems)
    for problem in problems:
        err.print(f"[yellow]skipped[/yellow] {escape(str(path))} {escape(str(problem))}")
    if not items:
        err.print(f"[yellow]warning[/yellow] {escape(str(path))} holds no record to use")
    return items, len(problems)


@app.command()
def record(
    out_file: Annotated[Path, typer.Option("--out", help="recording to write; gzip when it ends in .gz")],
    broker: BrokerOption = None,
    topics: Annotated[
        Optional[str], typer.Option("--topics", help="comma-separated topic names (default: the input topics)")
    ] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="start at the oldest record")] = False,
    since: Annotated[Optional[str], typer.Option("--since", help="start at records from this time on")] = None,
    until_idle: Annotated[Optional[float], typer.Option("--until-idle", help="stop after this many quiet seconds")] = None,
    max_records: Annotated[Optional[int], typer.Option("--max", help="stop after this many records")] = None,
    duration: Annotated[Optional[float], typer.Option("--duration", help="stop after this many seconds")] = None,
) -> None:
    """Record topics to a file without joining any consumer group (Ctrl-C stops cleanly).
    Without --from-beginning or --since, records what arrives from now on."""
    from pipeline.record import RecordPlan
    from pipeline.record import record as run_record

    settings = load_settings(broker=broker)
    names = [t.strip() for t in topics.split(",") if t.strip()] if topics else [
        settings.topic("transcripts"), settings.topic("listings")]
    if from_beginning and since:
        err.print("[red]error[/red] give --from-beginning or --since, not both")
        raise typer.Exit(2)
    start: Any = _time_option(since, "--since") or ("beginning" if from_beginning else "end")
    plan = RecordPlan(names, start, until_idle, max_records, duration)

    def show(stats: Any) -> None:
        rate = stats.records / stats.seconds if stats.seconds else 0.0
        err.print(f"\r{stats.records} records, {rate:.0f}/s", end="")

    try:
        stats = run_record(settings, plan, out_file, progress=show if err.is_terminal else None)
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    per_topic = ", ".join(f"{t}: {n}" for t, n in sorted(stats.per_topic.items())) or "none"
    err.print(f"\nrecorded {stats.records} records in {stats.seconds:.1f}s to {out_file} "
              f"(stopped by {stats.stopped_by}); per topic: {per_topic}")


@app.command()
def replay(
    input_file: Annotated[Path, typer.Argument(help="a recording from `claimwatch record`, or an events file")],
    broker: BrokerOption = None,
    speed: Annotated[str, typer.Option("--speed", help="1 = as recorded, 10 = ten times faster, max = no pauses")] = "max",
    rooms: Annotated[Optional[str], typer.Option("--rooms", help="comma-separated room ids to keep")] = None,
    topic_prefix: Annotated[
        Optional[str], typer.Option("--topic-prefix", help="send to <prefix>transcripts etc. instead of the recorded topics")
    ] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="skip records before this time (listings are kept)")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="skip records after this time")] = None,
) -> None:
    """Produce recorded events back to their topics, keeping each room's order and, at a finite
    speed, the recorded gaps divided by the speed. Corrupt lines are reported and skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.replay import ReplayPlan, select
    from pipeline.replay import replay as run_replay

    settings = load_settings(broker=broker)
    plan = ReplayPlan(
        speed=_speed_option(speed),
        rooms=frozenset(r.strip() for r in rooms.split(",") if r.strip()) if rooms else None,
        since_ms=_epoch_ms(_time_option(since, "--since")),
        until_ms=_epoch_ms(_time_option(until, "--until")),
        topic_prefix=topic_prefix,
    )
    read, skipped = _read_items(input_file)
    items = select(read, plan)
    columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TextColumn("stream time {task.fields[stream_time]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("replay", total=len(items), rate="", stream_time="-")

        def show(stats: Any) -> None:
            rate = f"{stats.sent / stats.seconds:.0f} events/s" if stats.seconds else ""
            bar.update(task, completed=stats.sent, rate=rate, stream_time=_stream_time(stats.stream_time_ms))

        try:
            stats = run_replay(settings, items, plan, progress=show)
        except Exception as exc:  # kafka-python raises its own errors for an unreachable broker
            err.print(f"[red]error[/red] replay failed: {escape(str(exc))}")
            raise typer.Exit(1) from None
    table = Table("topic", "events", title="replayed" + (" (interrupted)" if stats.interrupted else ""))
    for topic, count in sorted(stats.per_topic.items()):
        table.add_row(topic, str(count))
    err.print(table)
    err.print(f"{stats.sent} of {stats.total} events in {stats.seconds:.1f}s")
    if stats.interrupted:
        raise typer.Exit(130)
    if skipped or not read:
        raise typer.Exit(1)  # like scan: the file was not all good (or held nothing to replay)


def _stream_time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def backtest(
    input_file: Annotated[Path, typer.Argument(help="a recording from `claimwatch record`, or an events file")],
    rules: Annotated[Path, typer.Option("--rules", help="the changed rule set")],
    baseline: Annotated[
        Optional[Path], typer.Option("--baseline", help="the rule set to compare with (default: the repository's)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON on stdout")] = False,
    dedup_window: Annotated[Optional[float], typer.Option("--dedup-window", help="seconds")] = None,
) -> None:
    """What a rule change would change: the alerts only the new rules raise, those only the
    baseline raised, and counts per rule, over a recording, offline."""
    from pipeline.backtest import backtest as run_backtest
    from pipeline.recording import event_lines, in_stream_order

    settings = load_settings(dedup_window_s=dedup_window)
    baseline_dir = baseline or settings.rules_dir
    new_engine, old_engine = _engine(rules), _engine(baseline_dir)
    read, skipped = _read_items(input_file)
    lines = list(event_lines(in_stream_order(read)))
    report = run_backtest(lines, new_engine, old_engine, settings)
    for problem in report.rejected:
        err.print(f"[yellow]rejected[/yellow] {escape(str(problem))}")
    failed = bool(skipped or report.rejected or not lines)
    if as_json:
        sys.stdout.write(json.dumps({"rules": str(rules), "baseline": str(baseline_dir), **report.to_json()},
                                    ensure_ascii=False, indent=2) + "\n")
        raise typer.Exit(1 if failed else 0)
    out.print(f"{report.segments} segments, {report.listings} listings: baseline {escape(str(baseline_dir))} "
              f"raised {report.baseline_alerts} alerts, {escape(str(rules))} raises {report.new_alerts}")
    table = Table("rule", "baseline", "new", "change", title="alerts per rule")
    for change in report.per_rule:
        style = "green" if change.delta > 0 else "red" if change.delta < 0 else "dim"
        table.add_row(change.rule_id, str(change.baseline), str(change.new), f"[{style}]{change.delta:+d}[/{style}]")
    out.print(table)
    for title, alerts in (("only with the new rules", report.only_new), ("only with the baseline", report.only_baseline)):
        out.print(f"[bold]{title}: {len(alerts)}[/bold]")
        for alert in alerts:
            out.print(f"  [dim]{escape(alert.event_id)}[/dim]", end=" ")
            print_alert(out, alert)
    if not report.changed:
        out.print("no alert changes")
    if failed:
        raise typer.Exit(1)  # like scan: some of the file could not be used


def main() -> None:  # pragma: no cover - console entry point
    app()
if __name__ == "__main__":  # pragma: no cover
    app()
