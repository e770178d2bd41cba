from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.errors import SettingsError
from pipeline.kafka.topics import kafka_python_config
from pipeline.settings import Settings, load_settings


def test_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_BROKER", "k1:9092, k2:9092")
    monkeypatch.setenv("CLAIMWATCH_TOPIC_PREFIX", "prod.")
    monkeypatch.setenv("CLAIMWATCH_DEDUP_WINDOW_S", "30")
    settings = load_settings(topic_prefix=None, partitions=8)
    assert settings.bootstrap_servers == ["k1:9092", "k2:9092"]
    assert settings.topic("alerts") == "prod.alerts" and settings.consumer_group == "prod.worker"
    assert settings.dedup_window.total_seconds() == 30 and settings.partitions == 8


def test_settings_are_frozen_and_validated() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.partitions = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Settings(partitions=0)
    with pytest.raises(ValidationError):
        Settings(security_protocol="TLS")  # type: ignore[arg-type]


def test_security_options_reach_the_kafka_client(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    settings = Settings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u",
                        sasl_password="s3cr3t", ssl_cafile=ca)
    config = kafka_python_config(settings)
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "u" and config["sasl_plain_password"] == "s3cr3t"
    assert config["ssl_cafile"] == str(ca)
    assert "s3cr3t" not in repr(settings)  # the password is a secret, not printed


def test_an_invalid_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAIMWATCH_DEDUP_WINDOW_S", "abc")
    with pytest.raises(SettingsError, match=r"^CLAIMWATCH_DEDUP_WINDOW_S: Input should be a valid number.*'abc'"):
        load_settings()
    monkeypatch.delenv("CLAIMWATCH_DEDUP_WINDOW_S")
    with pytest.raises(SettingsError, match="option partitions"):
        load_settings(partitions=0)
    monkeypatch.setenv("CLAIMWATCH_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("CLAIMWATCH_SSL_CAFILE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(SettingsError, match=r"CLAIMWATCH_SSL_CAFILE: no such file '.*missing-ca.pem'"):
        load_settings()
    monkeypatch.setenv("CLAIMWATCH_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("CLAIMWATCH_SSL_CAFILE")
    with pytest.raises(SettingsError, match="needs CLAIMWATCH_SASL_USERNAME and CLAIMWATCH_SASL_PASSWORD"):
        load_settings()
