"""`claimwatch broker`, `worker` and `up`: Kafka and the stream worker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import RulesOption, err, load_rules, out, print_alert, speed_option
from pipeline.errors import ClaimwatchError
from pipeline.settings import load_settings


def broker(
    port: Annotated[int, typer.Option("--port", help="client port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="keep data here (default: a temp dir)")] = None,
) -> None:
    """Run a single-node Apache Kafka broker (KRaft; the release CLAIMWATCH_KAFKA_VERSION names,
    3.9.1 by default) from jars fetched once through Maven. Prints `ready HOST:PORT` when clients
    can connect; stops cleanly on SIGTERM or Ctrl-C."""
    from pipeline.kafka.broker import run_forever

    try:
        run_forever(port, data_dir)
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def worker(
    broker: Annotated[str | None, typer.Option("--broker", help="bootstrap servers host:port[,host:port]")] = None,
    topic_prefix: Annotated[str | None, typer.Option("--topic-prefix", help="prefix of every topic")] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", help="partitions of created topics")] = None,
    dedup_window: Annotated[float | None, typer.Option("--dedup-window", help="seconds")] = None,
    rules: RulesOption = None,
    loglevel: Annotated[str, typer.Option("--loglevel")] = "info",
) -> None:
    """Run the stream worker: transcripts and listings in, alerts and dead letters out. Exit
    status 70 when it stopped on a failure of its own (nothing past it committed)."""
    from pipeline.errors import WorkerFailed
    from pipeline.stream.app import EXIT_WORKER_FAILED, run_worker

    settings = load_settings(
        broker=broker, topic_prefix=topic_prefix, partitions=partitions, dedup_window_s=dedup_window, rules_dir=rules
    )
    load_rules(settings.rules_dir)  # fail fast, with located errors, on a broken rule set
    try:
        run_worker(settings, loglevel)
    except WorkerFailed as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_WORKER_FAILED) from None
    except ClaimwatchError as exc:  # the topics could not be created: the broker is unreachable
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def up(
    port: Annotated[int, typer.Option("--port", help="broker port on 127.0.0.1 (0 picks a free one)")] = 9092,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="broker data (default: a temp dir)")] = None,
    topic_prefix: Annotated[str | None, typer.Option("--topic-prefix")] = None,
    feed: Annotated[
        Path | None, typer.Option("--feed", help="replay this events file or recording into the input topics")
    ] = None,
    speed: Annotated[str, typer.Option("--speed", help="replay speed for --feed: a factor, or max")] = "max",
    exit_when_idle: Annotated[
        float | None, typer.Option("--exit-when-idle", help="stop after this many seconds without a new alert")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Broker and worker together for local use; shows alerts as they arrive (Ctrl-C stops)."""
    from pipeline.ops.local import run_local_stack

    settings = load_settings(topic_prefix=topic_prefix, rules_dir=rules)
    load_rules(settings.rules_dir)
    try:
        shown = run_local_stack(settings, port, data_dir, feed, lambda a: print_alert(out, a),
                                lambda line: err.print(escape(line)), exit_when_idle, speed_option(speed))
    except ClaimwatchError as exc:
        err.print(f"[red]error[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    err.print(f"{shown} alerts shown")
