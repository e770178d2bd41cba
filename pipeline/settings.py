"""All configuration in one frozen model, read from CLAIMWATCH_* environment variables and the
TOML config file CLAIMWATCH_CONFIG names; CLI flags override both by building a copy. Also where
each setting's value came from, which errors and `claimwatch config` name. The stream worker,
`scan` and the tools read the same model, so a setting such as the dedup window means the same
thing offline and live."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.errors import SettingsError, did_you_mean

# The repository (or installed source tree): the shipped rules/ and the test corpora live here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_TEXT_CHARS = 5000
CONFIG_VARIABLE = "CLAIMWATCH_CONFIG"


def default_rules_dir() -> Path:
    return PROJECT_ROOT / "rules"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMWATCH_", frozen=True, extra="ignore")

    rules_dir: Path = Field(default_factory=default_rules_dir, description="directory of rule YAML files")
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, description="longer segments are rejected")
    dedup_window_s: float = Field(
        default=60.0, ge=0, description="same rule, claim and room within this much event time: one alert"
    )
    context_segments: int = Field(
        default=3, ge=1, description="a claim may span this many consecutive segments of a room and product (1: off)"
    )
    context_window_s: float = Field(
        default=20.0, ge=0, description="how far back in event time the earlier segments of a split claim may be"
    )

    # Kafka
    kafka_version: str = Field(
        default="3.9.1", pattern=r"^\d+\.\d+\.\d+$",
        description="the Apache Kafka release the embedded broker runs (3.9.x and 4.x are tested)",
    )
    broker: str = Field(default="127.0.0.1:9092", description="bootstrap servers, comma-separated host:port")
    broker_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="how long a command or worker waits for a broker that is not listening, saying so, before it "
        "exits with status 3",
    )
    topic_prefix: str = Field(default="claimwatch.", description="prefix of every topic the pipeline uses")
    partitions: int = Field(default=4, ge=1, description="partitions of topics the worker creates")
    replication_factor: int = Field(default=1, ge=1)
    group_id: str | None = Field(default=None, description="consumer group; default <prefix>worker")
    batch_size: int = Field(
        default=2000, ge=1, description="most segments taken per batch; batches are normally cut by time"
    )
    batch_within_s: float = Field(
        default=0.01,
        gt=0,
        description="longest wait to fill a batch while events keep arriving; the next batch is judged while "
        "this one is delivered, so waiting buys little but latency",
    )
    health_file: Path | None = Field(
        default=None, description="the worker keeps its health here as JSON (status, counts, time), for a probe"
    )
    judge_slice_s: float = Field(
        default=1.0,
        gt=0,
        description="longest a batch is judged before what is judged so far is delivered and committed",
    )
    listing_grace_s: float = Field(
        default=0.3,
        ge=0,
        description="once per product, how long the batch holding its first segment waits for a listing not yet "
        "seen (one wait for all such products of the batch)",
    )
    session_timeout_s: float = Field(
        default=20.0, gt=0, description="a worker silent this long leaves the group and its partitions move"
    )
    group_instance_id: str | None = Field(
        default=None,
        min_length=1,
        description="static group membership (one id per worker, kept across its restarts, e.g. the pod name): a "
        "worker restarted with its id takes its partitions back at once instead of after the dead one's session "
        "timeout, and a worker that stops keeps its partitions for that timeout",
    )
    listing_wait_s: float = Field(
        default=2.0, ge=0, description="how long a batch waits for listings already on the topic to be applied"
    )
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        description="longest the broker holds the worker's fetch when some partition has nothing new; a new "
        "segment can wait this long behind such a fetch (Faust's own 1500 ms)",
    )

    # Security, passed through to the Kafka client for real clusters.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _security_is_complete(self) -> Settings:
        """A certificate file that is not there, or SASL without its credentials, is a mistake
        of the configuration: say so at start, not after a minute of failed connections."""
        origins = _origins.get()
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{origins.get(name, _DEFAULT).name(name)}: no such file {str(path)!r}")
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            protocol = origins.get("security_protocol", _DEFAULT)
            # what is missing is asked for as the protocol was given: a key of the file, or a variable
            needs = ["sasl_username", "sasl_password"] if protocol.source == "file" else [
                _variable("sasl_username"), _variable("sasl_password")]
            raise ValueError(f"{protocol.name('security_protocol')}={self.security_protocol} needs {needs[0]} "
                             f"and {needs[1]}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags over CLAIMWATCH_* variables over the config file over the defaults. The file is
        read here rather than by pydantic-settings' TomlConfigSettingsSource, which passes over a
        missing file in silence and lets a broken one raise without its name; once read, it is
        what that source makes of a file: initial values, validated as flags are."""
        config = config_file()
        if config is None:
            return init_settings, env_settings
        return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=dict(config.values))

    @property
    def dedup_window(self) -> timedelta:
        return timedelta(seconds=self.dedup_window_s)

    @property
    def context_window(self) -> timedelta:
        return timedelta(seconds=self.context_window_s)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def consumer_group(self) -> str:
        return self.group_id or f"{self.topic_prefix}worker"

    @property
    def bootstrap_servers(self) -> list[str]:
        return [server.strip() for server in self.broker.split(",") if server.strip()]


def _variable(field: str) -> str:
    return f"CLAIMWATCH_{field.upper()}"


# Fields holding a path: in the config file a relative one is taken from the file's directory.
_PATH_FIELDS = frozenset(
    name for name, info in Settings.model_fields.items() if Path in (info.annotation, *get_args(info.annotation))
)
_TABLE = re.compile(r"""\s*\[\[?\s*(?:"([^"]*)"|'([^']*)'|([\w-]+))""")
_KEY = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([\w-]+))\s*[=.]""")


@dataclass(frozen=True)
class ConfigFile:
    """A config file, read and checked: its settings (paths as the model will take them) and the
    line each top-level key is on."""

    path: str
    values: Mapping[str, object]
    lines: Mapping[str, int]


def _located(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _key_lines(text: str) -> dict[str, int]:
    """The first line of each top-level key: a `key = …` or `key.sub = …` before the first
    table, or a table header `[key…]`. tomllib keeps no positions, so this reads the lines
    itself; a multi-line string that looks like keys inside can only mislead it into a wrong
    line number in a message, never a wrong value."""
    lines: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.split("\n"), 1):
        header = _TABLE.match(line)
        in_table = in_table or header is not None
        found = header or (None if in_table else _KEY.match(line))
        if found:
            lines.setdefault(next(group for group in found.groups() if group is not None), number)
    return lines


def _from_directory(directory: Path, value: object) -> object:
    if not isinstance(value, str):
        return value  # not a path at all: the model says so
    path = Path(value).expanduser()
    return path if path.is_absolute() else directory / path


def read_config_file(path: str | os.PathLike[str]) -> ConfigFile:
    """The TOML file at `path`, or a one-line SettingsError naming it: unreadable, not TOML (with
    tomllib's line and column), or a key that is no setting (with the nearest setting's name).
    A file is written by hand, so an unknown key there is a mistake, where the environment is
    shared with everything else and its unknown CLAIMWATCH_* variables are passed over."""
    name = str(path)
    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read config file {name}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{name}: not UTF-8 (TOML is UTF-8): byte {exc.start}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{name}: invalid TOML: {exc}") from None
    lines = _key_lines(text)
    unknown = [
        f"{_located(name, lines.get(key))}: {key}: no such setting{did_you_mean(key, Settings.model_fields)}"
        for key in data
        if key not in Settings.model_fields
    ]
    if unknown:
        raise SettingsError("; ".join(unknown))
    directory = Path(os.path.abspath(Path(path).expanduser())).parent
    values = {key: _from_directory(directory, value) if key in _PATH_FIELDS else value for key, value in data.items()}
    return ConfigFile(name, values, lines)


def config_file() -> ConfigFile | None:
    """The file CLAIMWATCH_CONFIG names (`--config` sets it), read and checked; None when it is
    unset or empty."""
    path = os.environ.get(CONFIG_VARIABLE)
    return read_config_file(path) if path else None


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from: a flag, a CLAIMWATCH_* variable, the config file (at a
    line) or the default."""

    source: Literal["option", "env", "file", "default"]
    where: str | None = None  # the variable, or the config file's path
    line: int | None = None

    @property
    def location(self) -> str | None:
        return _located(self.where, self.line) if self.where else None

    def name(self, field: str) -> str:
        """The setting as a message names it, so the user knows which value to fix."""
        if self.source == "option":
            return f"option {field}"
        if self.source == "file":
            return f"{self.location}: {field}"
        return self.where or _variable(field)

    def __str__(self) -> str:
        return f"{self.source} {self.location}" if self.where else self.source


_DEFAULT = Origin("default")
# Where each value came from, for the model's own checks to name a setting as the user gave it;
# only load_settings knows, and sets it while it builds the model (otherwise: by its variable).
_origins: ContextVar[Mapping[str, Origin]] = ContextVar("_origins", default=MappingProxyType({}))


def _environment() -> dict[str, str]:
    """The CLAIMWATCH_* variables that are settings, by field. Matched regardless of case, as
    the model's environment source matches them."""
    prefix = "claimwatch_"
    found = {}
    for variable in os.environ:
        field = variable.lower().removeprefix(prefix)
        if variable.lower().startswith(prefix) and field in Settings.model_fields:
            found[field] = variable
    return found


def setting_origins(given: Mapping[str, object] | None = None) -> dict[str, Origin]:
    """Where each setting of `load_settings(**given)` comes from; reads (and checks) the config
    file."""
    config = config_file()
    environment = _environment()
    origins = {}
    for field in Settings.model_fields:
        if given and given.get(field) is not None:
            origins[field] = Origin("option")
        elif field in environment:
            origins[field] = Origin("env", environment[field])
        elif config is not None and field in config.values:
            origins[field] = Origin("file", config.path, config.lines.get(field))
        else:
            origins[field] = Origin("default")
    return origins


def load_settings(**overrides: object) -> Settings:
    """The config file, then the environment, then the flags a command was given (None means
    not given). An invalid value is a SettingsError naming where it came from (the flag, the
    variable, or the file and line) and what is wrong, one line each."""
    given = {k: v for k, v in overrides.items() if v is not None}
    origins = setting_origins(given)  # a config file that cannot be read is told before any value
    token = _origins.set(origins)
    try:
        return Settings(**given)  # type: ignore[arg-type]  # flags are validated by the model, as variables are
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            if field:
                problems.append(f"{origins.get(field, _DEFAULT).name(field)}: {message} (got {error['input']!r})")
            else:
                problems.append(message)
        raise SettingsError("; ".join(problems)) from None
    finally:
        _origins.reset(token)
