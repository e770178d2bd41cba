"""`claimwatch config`: the settings in effect, each with where its value came from."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import out
from pipeline.settings import load_settings, setting_origins


def config_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object: each setting's value, source, where and line")
    ] = False,
) -> None:
    """The effective settings, one a line, each with where it came from: the default, the config
    file (`claimwatch --config PATH config`, or CLAIMWATCH_CONFIG) at its line, or a CLAIMWATCH_*
    variable. Secrets are masked. An invalid setting is the one-line error every command gives."""
    settings = load_settings()
    origins = setting_origins()
    values = settings.model_dump(mode="json")  # SecretStr dumps masked
    if as_json:
        document = {
            name: {"value": value, "source": origins[name].source, "where": origins[name].where,
                   "line": origins[name].line}
            for name, value in values.items()
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    shown = {name: "(not set)" if value is None else str(value) for name, value in values.items()}
    name_width = max(map(len, shown))
    value_width = max(map(len, shown.values()))
    for name, value in shown.items():
        out.print(f"{escape(name.ljust(name_width))}  {escape(value.ljust(value_width))}  "
                  f"[dim]{escape(str(origins[name]))}[/dim]", highlight=False)
