"""`claimwatch broker`, `worker` and `up`: Kafka and the stream worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import RulesOption, err, fail, load_rules, out, print_alert, reader_gone, speed_option
from pipeline.errors import EXIT_INTERRUPTED, ClaimwatchError
from pipeline.settings import Settings, load_settings

if TYPE_CHECKING:
    from pipeline.kafka.broker import BrokerSecurity


SaslSslOption = Annotated[
    bool,
    typer.Option("--sasl-ssl", help="the client port speaks SASL_SSL (SCRAM-SHA-512 over TLS, with a CA of its own); "
                 "the user is CLAIMWATCH_SASL_USERNAME and _PASSWORD (default claimwatch and a generated password)"),
]  # fmt: skip


def broker_security(sasl_ssl: bool, settings: Settings | None = None) -> BrokerSecurity | None:
    """The SCRAM user of a SASL_SSL broker started here: the configured one, else a new password."""
    if not sasl_ssl:
        return None
    import secrets

    from pipeline.kafka.broker import BrokerSecurity

    settings = settings or load_settings()
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else secrets.token_urlsafe(18)
    return BrokerSecurity(settings.sasl_username or "claimwatch", password)


def broker(
    port: Annotated[int, typer.Option("--port", help="client port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="keep data here (default: a temp dir)")] = None,
    sasl_ssl: SaslSslOption = False,
) -> None:
    """Run a single-node Apache Kafka broker (KRaft; the release CLAIMWATCH_KAFKA_VERSION names,
    3.9.1 by default) from jars fetched once through Maven. Prints `ready HOST:PORT` when clients
    can connect (with --sasl-ssl, first the file of client settings to source); stops cleanly on
    SIGTERM or Ctrl-C."""
    from pipeline.kafka.broker import run_forever

    try:
        run_forever(port, data_dir, broker_security(sasl_ssl))
    except ClaimwatchError as exc:
        fail(exc)


def worker(
    broker: Annotated[str | None, typer.Option("--broker", help="bootstrap servers host:port[,host:port]")] = None,
    topic_prefix: Annotated[str | None, typer.Option("--topic-prefix", help="prefix of every topic")] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", help="partitions of created topics")] = None,
    dedup_window: Annotated[float | None, typer.Option("--dedup-window", help="seconds")] = None,
    rules: RulesOption = None,
    loglevel: Annotated[
        str, typer.Option("--loglevel", help="debug, info, warning or error (the worker's and the clients' logs)")
    ] = "info",
) -> None:
    """Run the stream worker: transcripts and listings in, alerts and dead letters out. It waits
    up to CLAIMWATCH_BROKER_WAIT_S for the broker, saying so, then exits 3; exit status 70 when
    it stopped on a failure of its own (nothing past it committed)."""
    from pipeline.stream.app import run_worker

    settings = load_settings(
        broker=broker, topic_prefix=topic_prefix, partitions=partitions, dedup_window_s=dedup_window, rules_dir=rules
    )
    ruleset = load_rules(settings.rules_dir)  # fail fast, with located errors, on a broken rule set
    # The first line of every worker's log: which rules judge, and where it reads and writes.
    err.print(f"rules {ruleset.version}: {len(ruleset.rules)} rules of {len(ruleset.kinds)} kinds from "
              f"{escape(str(settings.rules_dir))}; broker {escape(settings.broker)}, "
              f"topics {escape(settings.topic('*'))}")
    try:
        run_worker(settings, loglevel, say=lambda line: err.print(escape(line)))
    except ClaimwatchError as exc:  # no broker, topics that cannot be made, or a failure of its own
        fail(exc)


def up(
    port: Annotated[int, typer.Option("--port", help="broker port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="broker data (default: a temp dir)")] = None,
    topic_prefix: Annotated[str | None, typer.Option("--topic-prefix", help="prefix of every topic")] = None,
    feed: Annotated[
        Path | None, typer.Option("--feed", help="replay this events file or recording into the input topics")
    ] = None,
    speed: Annotated[str, typer.Option("--speed", help="replay speed for --feed: a factor, or max")] = "max",
    exit_when_idle: Annotated[
        float | None, typer.Option("--exit-when-idle", help="stop after this many seconds without a new alert")
    ] = None,
    rules: RulesOption = None,
    sasl_ssl: SaslSslOption = False,
) -> None:
    """Broker and worker together for local use; shows alerts as they arrive (Ctrl-C stops)."""
    from pipeline.ops.local import run_local_stack

    settings = load_settings(topic_prefix=topic_prefix, rules_dir=rules)
    load_rules(settings.rules_dir)
    try:
        shown = run_local_stack(settings, port, data_dir, feed, lambda a: print_alert(out, a),
                                lambda line: err.print(escape(line)), exit_when_idle, speed_option(speed),
                                broker_security(sasl_ssl, settings))
    except ClaimwatchError as exc:
        fail(exc)
    err.print(f"{shown} alerts shown")


def tail(
    broker: Annotated[str | None, typer.Option("--broker", help="bootstrap servers host:port[,host:port]")] = None,
    topic_prefix: Annotated[str | None, typer.Option("--topic-prefix", help="prefix of every topic")] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="only alerts of this severity or higher (info … critical)")
    ] = None,
    room: Annotated[list[str] | None, typer.Option("--room", help="only this room (repeatable)")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="only alerts with this rule (repeatable)")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="start at the oldest alert")] = False,
    since: Annotated[str | None, typer.Option("--since", help="start at alerts published from this time on")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one alert as JSON a line on stdout, for piping")] = False,
    max_alerts: Annotated[int | None, typer.Option("--max", help="stop after showing this many")] = None,
    until_idle: Annotated[float | None, typer.Option("--until-idle", help="stop after this many quiet seconds")] = None,
) -> None:
    """Alerts as they are published: the claim highlighted in its sentence, rule, room and legal
    basis (or JSON lines with --json). Joins no consumer group; Ctrl-C stops. Without
    --from-beginning or --since, shows what arrives from now on."""
    import sys
    from datetime import datetime

    from models.alerts import Alert, Severity
    from pipeline.cli.common import time_option
    from pipeline.ops.tail import AlertFilter, TailPlan
    from pipeline.ops.tail import tail as run_tail

    settings = load_settings(broker=broker, topic_prefix=topic_prefix)
    if from_beginning and since:
        err.print("[red]error[/red] give --from-beginning or --since, not both")
        raise typer.Exit(2)
    try:
        floor = Severity(severity.lower()) if severity else None
    except ValueError:
        err.print(f"[red]error[/red] --severity: {escape(str(severity))} is not one of "
                  f"{', '.join(s.value for s in Severity)}")
        raise typer.Exit(2) from None
    start: str | datetime = time_option(since, "--since") or ("beginning" if from_beginning else "end")
    admit = AlertFilter(floor, frozenset(room or ()), frozenset(rule or ()))

    def show(alert: Alert) -> None:
        if as_json:
            sys.stdout.write(alert.model_dump_json() + "\n")
            sys.stdout.flush()
        else:
            print_alert(out, alert)

    try:
        stats = run_tail(settings, TailPlan(start, max_alerts, until_idle), show, admit,
                         bad_record=lambda problem: err.print(f"[yellow]skipped[/yellow] {escape(problem)}"),
                         say=lambda line: err.print(escape(line)))
    except BrokenPipeError:
        reader_gone()
        raise typer.Exit(0) from None  # the reader of the pipe has what it wanted (`| head`)
    except ClaimwatchError as exc:
        fail(exc)
    err.print(f"{stats.shown} of {stats.read} alerts shown (stopped by {stats.stopped_by})"
              + (f"; {stats.not_alerts} records were not alerts" if stats.not_alerts else ""))
    if stats.stopped_by == "signal" and (max_alerts, until_idle) != (None, None):
        raise typer.Exit(EXIT_INTERRUPTED)  # stopped before the job it was given was done
