"""All configuration in one frozen model, read from CLAIMWATCH_* environment variables; CLI flags
override it by building a copy. The stream worker, `scan` and the tools read the same model, so a
setting such as the dedup window means the same thing offline and live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import SettingsError

# The repository (or installed source tree): the shipped rules/ and the test corpora live here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_TEXT_CHARS = 5000


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
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{_variable(name)}: no such file {str(path)!r}")
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"CLAIMWATCH_SECURITY_PROTOCOL={self.security_protocol} needs CLAIMWATCH_SASL_USERNAME "
                             "and CLAIMWATCH_SASL_PASSWORD")
        return self

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


def load_settings(**overrides: object) -> Settings:
    """Environment first, then the flags a command was given (None means not given). An invalid
    value is a SettingsError naming the variable (or flag) and what is wrong, one line each."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]  # flags are validated by the model, as variables are
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            message = str(error["msg"]).removeprefix("Value error, ")
            if field:
                source = f"option {field}" if field in given else _variable(field)
                problems.append(f"{source}: {message} (got {error['input']!r})")
            else:
                problems.append(message)
        raise SettingsError("; ".join(problems)) from None
