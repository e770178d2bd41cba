"""`claimwatch record`, `replay` and `backtest`: streams to files and back, and rule changes
tried on them."""

from __future__ import annotations

import json
import sys
import warnings
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import (
    BrokerOption,
    cannot,
    check_writable,
    epoch_ms,
    err,
    fail,
    load_engine,
    out,
    print_alert,
    read_items_or_exit,
    speed_option,
    time_option,
)
from pipeline.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_KAFKA, EXIT_USAGE, ClaimwatchError
from pipeline.settings import load_settings


class RecentRate:
    """Records a second over the last few seconds: what a progress line should show. A lifetime
    average keeps falling while the topics are quiet, and hides a burst among hours of quiet."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._seen: deque[tuple[float, int]] = deque()

    def update(self, now: float, count: int) -> float:
        self._seen.append((now, count))
        while len(self._seen) > 1 and now - self._seen[0][0] > self.window_s:
            self._seen.popleft()
        first_time, first_count = self._seen[0]
        return (count - first_count) / (now - first_time) if now > first_time else 0.0


def record(
    out_file: Annotated[
        Path, typer.Option("--out", help="recording to write; gzip when it ends in .gz; - for stdout")
    ],
    broker: BrokerOption = None,
    topics: Annotated[
        str | None, typer.Option("--topics", help="comma-separated topic names (default: the input topics)")
    ] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="start at the oldest record")] = False,
    since: Annotated[str | None, typer.Option("--since", help="start at records from this time on")] = None,
    until_idle: Annotated[float | None, typer.Option("--until-idle", help="stop after this many quiet seconds")] = None,
    max_records: Annotated[int | None, typer.Option("--max", help="stop after this many records")] = None,
    duration: Annotated[float | None, typer.Option("--duration", help="stop after this many seconds")] = None,
) -> None:
    """Record topics to a file without joining any consumer group (Ctrl-C stops cleanly, and
    the recording is complete). Without --from-beginning or --since, records what arrives from
    now on. Exit status 130 when a signal stopped it before --max, --duration or --until-idle did."""
    from pipeline.ops.record import RecordPlan
    from pipeline.ops.record import record as run_record

    settings = load_settings(broker=broker)
    names = [t.strip() for t in topics.split(",") if t.strip()] if topics else [
        settings.topic("transcripts"), settings.topic("listings")]
    if from_beginning and since:
        err.print("[red]error[/red] give --from-beginning or --since, not both")
        raise typer.Exit(EXIT_USAGE)
    start: Any = time_option(since, "--since") or ("beginning" if from_beginning else "end")
    plan = RecordPlan(names, start, until_idle, max_records, duration)
    to_stdout = str(out_file) == "-"
    if not to_stdout:
        check_writable(out_file)
    rate = RecentRate()

    def show(stats: Any) -> None:
        err.print(f"\r{stats.records} records, {rate.update(stats.seconds, stats.records):.0f}/s", end="")

    try:
        stats = run_record(settings, plan, sys.stdout if to_stdout else out_file,
                           progress=show if err.is_terminal else None, say=lambda line: err.print(escape(line)))
    except ClaimwatchError as exc:
        fail(exc)
    except OSError as exc:  # the file could not be written after all (a disk that filled, a vanished mount)
        cannot("write", out_file, exc.strerror or str(exc))
    per_topic = ", ".join(f"{t}: {n}" for t, n in sorted(stats.per_topic.items())) or "none"
    where = "stdout" if to_stdout else str(out_file)
    err.print(f"\nrecorded {stats.records} records in {stats.seconds:.1f}s to {escape(where)} "
              f"(stopped by {stats.stopped_by}); per topic: {per_topic}")
    if stats.stopped_by == "signal" and (until_idle, max_records, duration) != (None, None, None):
        raise typer.Exit(EXIT_INTERRUPTED)


def replay(
    input_file: Annotated[Path, typer.Argument(help="a recording from `claimwatch record`, or an events file")],
    broker: BrokerOption = None,
    speed: Annotated[
        str, typer.Option("--speed", help="1 = as recorded, 10 = ten times faster, max = no pauses")
    ] = "max",
    rooms: Annotated[str | None, typer.Option("--rooms", help="comma-separated room ids to keep")] = None,
    topic_prefix: Annotated[
        str | None,
        typer.Option("--topic-prefix", help="send to <prefix>transcripts etc. instead of the recorded topics"),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="skip records before this time (listings are kept)")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="skip records after this time")] = None,
) -> None:
    """Produce recorded events back to their topics, keeping each room's order and, at a finite
    speed, the recorded gaps divided by the speed. Corrupt lines are reported and skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.ops.replay import ReplayPlan, select
    from pipeline.ops.replay import replay as run_replay

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka.errors import KafkaError

    settings = load_settings(broker=broker)
    plan = ReplayPlan(
        speed=speed_option(speed),
        rooms=frozenset(r.strip() for r in rooms.split(",") if r.strip()) if rooms else None,
        since_ms=epoch_ms(time_option(since, "--since")),
        until_ms=epoch_ms(time_option(until, "--until")),
        topic_prefix=topic_prefix,
    )
    read, skipped = read_items_or_exit(input_file)
    items = select(read, plan)
    columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TextColumn("stream time {task.fields[stream_time]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("replay", total=len(items), rate="", stream_time="-")

        def show(stats: Any) -> None:
            rate = f"{stats.sent / stats.seconds:.0f} events/s" if stats.seconds else ""
            bar.update(task, completed=stats.sent, rate=rate, stream_time=_stream_time(stats.stream_time_ms))

        try:
            stats = run_replay(settings, items, plan, progress=show, say=lambda line: err.print(escape(line)))
        except ClaimwatchError as exc:
            fail(exc)
        except KafkaError as exc:  # the broker went away while sending
            err.print(f"[red]error[/red] replay failed: {escape(str(exc))}")
            raise typer.Exit(EXIT_KAFKA) from None
    table = Table("topic", "events", title="replayed" + (" (interrupted)" if stats.interrupted else ""))
    for topic, count in sorted(stats.per_topic.items()):
        table.add_row(topic, str(count))
    err.print(table)
    err.print(f"{stats.sent} of {stats.total} events in {stats.seconds:.1f}s")
    if stats.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if skipped or not read:
        raise typer.Exit(EXIT_FINDINGS)  # like scan: the file was not all good (or held nothing to replay)


def _stream_time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def backtest(
    input_file: Annotated[Path, typer.Argument(help="a recording from `claimwatch record`, or an events file")],
    rules: Annotated[Path, typer.Option("--rules", help="the changed rule set")],
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="the rule set to compare with (default: the repository's)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON on stdout")] = False,
    dedup_window: Annotated[float | None, typer.Option("--dedup-window", help="seconds")] = None,
    fail_on_change: Annotated[
        bool, typer.Option("--fail-on-change", help="exit 1 if any alert would change (a CI gate for rule changes)")
    ] = False,
) -> None:
    """What a rule change would change: the alerts only the new rules raise, those only the
    baseline raised, and counts per rule (rules added, removed or edited listed even when they
    raised nothing), over a recording, offline. Exit status 1 when lines were rejected or, with
    --fail-on-change, when any alert changed."""
    from pipeline.ops.backtest import backtest as run_backtest
    from pipeline.ops.recording_format import event_lines, in_stream_order

    settings = load_settings(dedup_window_s=dedup_window)
    baseline_dir = baseline or settings.rules_dir
    new_engine, old_engine = load_engine(rules), load_engine(baseline_dir)
    read, skipped = read_items_or_exit(input_file)
    lines = list(event_lines(in_stream_order(read)))
    report = run_backtest(lines, new_engine, old_engine, settings)
    for problem in report.rejected:
        err.print(f"[yellow]rejected[/yellow] {escape(str(problem))}")
    failed = bool(skipped or report.rejected or not lines) or (fail_on_change and report.changed)
    if as_json:
        sys.stdout.write(json.dumps({"rules": str(rules), "baseline": str(baseline_dir), "changed": report.changed,
                                     **report.to_json()}, ensure_ascii=False, indent=2) + "\n")
        raise typer.Exit(EXIT_FINDINGS if failed else 0)
    out.print(f"{report.segments} segments, {report.listings} listings: baseline {escape(str(baseline_dir))} "
              f"raised {report.baseline_alerts} alerts, {escape(str(rules))} raises {report.new_alerts}")
    table = Table("rule", "baseline", "new", "change", "rule change", title="alerts per rule")
    for change in report.per_rule:
        if not (change.baseline or change.new or change.status != "same"):
            continue  # a rule that is the same and raised nothing either way
        style = "green" if change.delta > 0 else "red" if change.delta < 0 else "dim"
        table.add_row(change.rule_id, str(change.baseline), str(change.new), f"[{style}]{change.delta:+d}[/{style}]",
                      "" if change.status == "same" else change.status)
    out.print(table)
    sides = (("only with the new rules", report.only_new), ("only with the baseline", report.only_baseline))
    for title, alerts in sides:
        out.print(f"[bold]{title}: {len(alerts)}[/bold]")
        for alert in alerts:
            out.print(f"  [dim]{escape(alert.event_id)}[/dim]", end=" ")
            print_alert(out, alert)
    if report.rules_changed:
        out.print(f"[bold]same claim, rules changed: {len(report.rules_changed)}[/bold]")
        for moved_rules in report.rules_changed:
            moved = [*(f"+{r}" for r in moved_rules.joined), *(f"-{r}" for r in moved_rules.left)]
            out.print(f"  [dim]{escape(moved_rules.alert.event_id)}[/dim] {escape(' '.join(moved))}", end=" ")
            print_alert(out, moved_rules.alert)
    if not report.changed:
        out.print("no alert changes")
    if failed:
        raise typer.Exit(EXIT_FINDINGS)  # like scan: some of the file could not be used, or the gate failed
