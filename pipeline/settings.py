"""All configuration in one frozen model, read from CLAIMWATCH_* environment variables; CLI flags
override it by building a copy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.decode import MAX_TEXT_CHARS
from pipeline.rules import default_rules_dir


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMWATCH_", frozen=True, extra="ignore")

    rules_dir: Path = Field(default_factory=default_rules_dir, description="directory of rule YAML files")
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1, description="longer segments are rejected")


def load_settings(**overrides: object) -> Settings:
    """Environment first, then the flags a command was given (None means not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)  # type: ignore[arg-type]
