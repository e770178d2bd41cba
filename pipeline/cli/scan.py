"""`claimwatch scan` and `claimwatch schema`: events files offline, and the formats."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.markup import escape

from models.alerts import Alert
from models.events import Category, ProductListing, TranscriptSegment
from pipeline.cli.common import RulesOption, err, load_engine, load_rules, open_file, out, print_alert, reader_gone
from pipeline.settings import load_settings


def scan(
    input: Annotated[str, typer.Argument(help="JSON-lines file of listing and transcript events, or - for stdin")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write alerts here (default stdout)")] = None,
    rules: RulesOption = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="readable alerts instead of JSON lines")] = False,
    dedup_window: Annotated[
        float | None, typer.Option("--dedup-window", help="seconds of event time a repeated claim stays quiet")
    ] = None,
) -> None:
    """Scan recorded events offline; alerts are written as JSON lines. Exit status: 0 every line
    judged, 1 some lines rejected (each is reported), 2 a usage error (a file that cannot be
    read or written, an invalid setting, a rule set with errors). A reader that stops early
    (`scan … | head -1`) ends the scan quietly, with status 0."""
    from pipeline.judge.scan import Scanner, event_lines

    settings = load_settings(rules_dir=rules, dedup_window_s=dedup_window)
    with contextlib.ExitStack() as files:
        # Both files are opened before the rules load: a mistyped path is told in a moment.
        source = event_lines(sys.stdin.buffer if input == "-" else files.enter_context(open_file(input, "rb")))
        sink = files.enter_context(open_file(output, "w")) if output else sys.stdout
        scanner = Scanner(load_engine(settings.rules_dir), settings)
        try:
            for alert in scanner.scan_lines(source):
                if pretty:
                    print_alert(out, alert)
                else:
                    sink.write(alert.model_dump_json() + "\n")
            sink.flush()
        except BrokenPipeError:
            reader_gone()
            return
    for problem in scanner.bad_lines:
        err.print(f"[red]rejected[/red] {escape(str(problem))}")
    counted = scanner.counters
    err.print(
        f"scanned {counted.segments} segments and {counted.listings} listings: "
        f"{counted.alerts} alerts ({counted.repeats_suppressed} repeats suppressed), {len(scanner.bad_lines)} bad lines"
    )
    if scanner.bad_lines:
        raise typer.Exit(1)


def schema(
    name: Annotated[str | None, typer.Argument(help="TranscriptSegment, ProductListing or Alert")] = None,
    rules: RulesOption = None,
) -> None:
    """Print the JSON Schema of the events and alerts, for subscribers to code against. An
    alert's `kind` is one of the kinds the rule set declares (`--rules`), its `category` one of
    the categories events may name; both are enums in the schema."""
    models: dict[str, type[BaseModel]] = {
        "TranscriptSegment": TranscriptSegment, "ProductListing": ProductListing, "Alert": Alert,
    }
    if name is not None and name not in models:
        err.print(f"unknown schema {name!r}; choose from {', '.join(models)}")
        raise typer.Exit(2)
    chosen = {name: models[name]} if name else models
    schemas = {key: model.model_json_schema() for key, model in chosen.items()}
    if "Alert" in schemas:
        _alert_enums(schemas["Alert"], sorted(load_rules(rules).kinds))
    sys.stdout.write(json.dumps(schemas[name] if name else schemas, ensure_ascii=False, indent=2) + "\n")


def _alert_enums(alert: dict[str, Any], kinds: list[str]) -> None:
    """The alert's open strings made the enums they are: kinds of this rule set, and categories
    (the model keeps them strings, so an alert of a kind added later still reads)."""
    categories = [category.value for category in Category]
    alert["properties"]["kind"]["enum"] = kinds
    alert["$defs"]["RuleRef"]["properties"]["kind"]["enum"] = kinds
    for option in alert["properties"]["category"]["anyOf"]:
        if option.get("type") == "string":
            option["enum"] = categories
