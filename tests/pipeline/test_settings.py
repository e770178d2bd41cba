import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.errors import SettingsError
from pipeline.kafka.topics import kafka_python_config
from pipeline.settings import PROJECT_ROOT, Origin, Settings, default_rules_dir, load_settings, setting_origins


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CLAIMWATCH_* variable of the shell running the tests reaches them, and whatever a test
    sets (CLAIMWATCH_CONFIG too) is gone after it."""
    for variable in list(os.environ):
        if variable.upper().startswith("CLAIMWATCH_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("CLAIMWATCH_CONFIG", "")  # recorded, so that teardown removes what a test sets
    monkeypatch.delenv("CLAIMWATCH_CONFIG")


def _config(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(path))
    return path


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


def test_the_file_is_under_the_environment_and_the_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = _config(tmp_path / "claimwatch.toml", 'broker = "file:9092"\ntopic_prefix = "file."\n'
                     "partitions = 2\ndedup_window_s = 30\n", monkeypatch)
    monkeypatch.setenv("CLAIMWATCH_TOPIC_PREFIX", "env.")
    monkeypatch.setenv("CLAIMWATCH_PARTITIONS", "6")
    settings = load_settings(partitions=8, dedup_window_s=None)
    assert settings.broker == "file:9092" and settings.dedup_window_s == 30  # the file over the default
    assert settings.topic_prefix == "env."  # the environment over the file
    assert settings.partitions == 8  # the flag over both
    assert settings.batch_size == 2000  # in none of them: the default
    assert Settings().partitions == 6  # the model itself reads the file: every caller sees the same settings
    origins = setting_origins({"partitions": 8})
    assert origins["broker"] == Origin("file", str(config), 1) and origins["dedup_window_s"].line == 4
    assert origins["topic_prefix"] == Origin("env", "CLAIMWATCH_TOPIC_PREFIX")
    assert origins["partitions"] == Origin("option") and origins["batch_size"] == Origin("default")
    assert str(origins["broker"]) == f"file {config}:1" and str(origins["topic_prefix"]) == "env CLAIMWATCH_TOPIC_PREFIX"


def test_no_file_or_an_empty_variable_reads_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().broker == "127.0.0.1:9092"
    monkeypatch.setenv("CLAIMWATCH_CONFIG", "")
    assert load_settings().broker == "127.0.0.1:9092"
    assert set(map(str, setting_origins().values())) == {"default"}


def test_relative_paths_in_the_file_are_taken_from_its_directory(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "claimwatch"
    (conf / "certs").mkdir(parents=True)
    (conf / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # elsewhere than the file: a path relative to the working directory would miss
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _config(conf / "claimwatch.toml", 'rules_dir = "rules"\nhealth_file = "../state/health.json"\n'
            'ssl_cafile = "certs/ca.pem"\nssl_certfile = "~/client.pem"\nssl_keyfile = "/nowhere/key.pem"\n'
            'topic_prefix = "rules"\n', monkeypatch)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "client.pem").write_text("x", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"claimwatch.toml:5: ssl_keyfile: no such file '/nowhere/key.pem'"):
        load_settings()  # an absolute path is kept as it is
    (conf / "claimwatch.toml").write_text(
        (conf / "claimwatch.toml").read_text(encoding="utf-8").replace('ssl_keyfile = "/nowhere/key.pem"\n', ""),
        encoding="utf-8")
    settings = load_settings()
    assert settings.rules_dir == conf / "rules" and settings.health_file == conf / ".." / "state" / "health.json"
    assert settings.ssl_cafile == conf / "certs" / "ca.pem" and settings.ssl_certfile == tmp_path / "home" / "client.pem"
    assert settings.topic_prefix == "rules"  # only paths are paths
    monkeypatch.setenv("CLAIMWATCH_RULES_DIR", "env-rules")
    assert load_settings().rules_dir == Path("env-rules")  # a variable's path stays relative to the working directory
    assert load_settings(rules_dir=Path("flag-rules")).rules_dir == Path("flag-rules")


def test_a_file_that_cannot_be_read_or_is_not_toml_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError) as missing:
        load_settings()
    assert str(missing.value) == f"cannot read config file {tmp_path / 'missing.toml'}: No such file or directory"
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(tmp_path))
    with pytest.raises(SettingsError, match=r"^cannot read config file .*: Is a directory$"):
        load_settings()
    _config(tmp_path / "bad.toml", 'broker = "k:9092"\npartitions = \n', monkeypatch)
    with pytest.raises(SettingsError) as invalid:
        load_settings()
    assert str(invalid.value) == f"{tmp_path / 'bad.toml'}: invalid TOML: Invalid value (at line 2, column 14)"
    (tmp_path / "bad.toml").write_bytes(b'broker = "\xff"\n')
    with pytest.raises(SettingsError, match=r"bad.toml: not UTF-8"):
        load_settings()


def test_an_unknown_key_in_the_file_is_an_error_with_the_nearest_setting(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    config = _config(tmp_path / "claimwatch.toml", '# settings\n\nbroker = "k:9092"\n"dedup_windows" = 30\n'
                     "\n[kafka]\nbroker = 1\n", monkeypatch)
    with pytest.raises(SettingsError) as unknown:
        load_settings()
    assert str(unknown.value) == (f"{config}:4: dedup_windows: no such setting (did you mean dedup_window_s?); "
                                  f"{config}:6: kafka: no such setting")
    monkeypatch.setenv("CLAIMWATCH_DEDUP_WINDOWS", "30")
    config.write_text('broker = "k:9092"\n', encoding="utf-8")
    assert load_settings().broker == "k:9092"  # the environment is shared: an unknown variable is no error


def test_a_bad_value_names_the_file_line_and_key_unless_something_above_overrides_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = _config(tmp_path / "claimwatch.toml", 'broker = "k:9092"\ndedup_window_s = "abc"\n', monkeypatch)
    with pytest.raises(SettingsError) as wrong:
        load_settings()
    assert str(wrong.value) == (f"{config}:2: dedup_window_s: Input should be a valid number, unable to parse "
                                "string as a number (got 'abc')")
    monkeypatch.setenv("CLAIMWATCH_DEDUP_WINDOW_S", "oops")
    with pytest.raises(SettingsError, match=r"^CLAIMWATCH_DEDUP_WINDOW_S: Input should be a valid number.*'oops'"):
        load_settings()  # the value in force is the variable's: it is the one named
    assert load_settings(dedup_window_s=5.0).dedup_window_s == 5.0  # the flag wins; neither value is read
    monkeypatch.delenv("CLAIMWATCH_DEDUP_WINDOW_S")
    config.write_text('security_protocol = "SASL_SSL"\nsasl_username = "u"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as sasl:
        load_settings()
    assert str(sasl.value) == f"{config}:1: security_protocol=SASL_SSL needs sasl_username and sasl_password"


def test_the_example_file_holds_only_settings_at_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(PROJECT_ROOT / "claimwatch.example.toml"))
    origins = setting_origins()
    assert {"rules_dir", "dedup_window_s", "broker", "topic_prefix"} <= {f for f, o in origins.items() if o.source == "file"}
    from_file = load_settings()
    assert from_file.rules_dir == default_rules_dir()  # its relative rules_dir: the rules beside it
    monkeypatch.delenv("CLAIMWATCH_CONFIG")
    assert from_file.model_dump() == load_settings().model_dump()
