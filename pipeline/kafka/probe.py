"""Telling a misconfiguration from an outage before anything waits on the broker.

A client whose security settings do not match the listener (SASL or TLS against a plaintext
port, a CA that did not sign the broker's certificate, a wrong password) sees the same thing as
one whose broker is down: it retries, logs low-level errors, and after half a minute says it
was "unable to bootstrap". The probe connects once with the configured settings and a short
timeout, listens to what the Kafka client logs while it does, and names the cause: nothing
listening at the address (an outage: the caller may wait for it), or a handshake the listener
refused (a misconfiguration: waiting cannot help, so it is a ConnectionSetupError at once).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pipeline.errors import BrokerUnreachable, ConnectionSetupError
from pipeline.kafka.host import LOOPBACK, port_is_open
from pipeline.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError, KafkaTimeoutError

PROBE_TIMEOUT_MS = 8000
SAY_EVERY_S = 10.0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _kafka_logs() -> Iterator[_Collect]:
    """What the Kafka client logs meanwhile, kept instead of printed."""
    logger = logging.getLogger("kafka")
    collect = _Collect()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collect)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield collect
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        logger.propagate = propagate


def listening(address: str, timeout_s: float = 2.0) -> bool:
    """Whether something accepts TCP connections at `host:port`."""
    host, _, port = address.rpartition(":")
    return port.isdigit() and port_is_open(host.strip("[]") or LOOPBACK, int(port), timeout=timeout_s)


def wait_until_listening(
    settings: Settings, wait_s: float, say: Callable[[str], None] | None = None
) -> list[str]:
    """The bootstrap addresses that accept connections, as soon as there is one. While none does,
    say so at once and every few seconds (a worker started before its broker is normal in a
    deployment, but must not look hung), and raise BrokerUnreachable when `wait_s` has passed."""
    addresses = ", ".join(settings.bootstrap_servers)
    started = time.monotonic()
    next_word = started
    while not (reachable := [address for address in settings.bootstrap_servers if listening(address, 1.0)]):
        waited = time.monotonic() - started
        if waited >= wait_s:
            raise BrokerUnreachable(f"no broker at {addresses}: nothing listening after {wait_s:g} s "
                                    "(the address is CLAIMWATCH_BROKER or --broker)")
        if say is not None and time.monotonic() >= next_word:
            say(f"waiting for the broker at {addresses}: nothing listening yet "
                f"({waited:.0f} of {wait_s:g} s)")
            next_word += SAY_EVERY_S
        time.sleep(min(0.5, max(0.0, wait_s - waited)))
    return reachable


def _cause(settings: Settings, address: str, logged: list[str]) -> str | None:
    text = "\n".join(logged)
    protocol = settings.security_protocol
    if "Authentication failed" in text or "SaslAuthenticationFailed" in text:
        return (f"{address} refused the credentials of CLAIMWATCH_SASL_USERNAME={settings.sasl_username!r} "
                f"({settings.sasl_mechanism}): wrong username, password or mechanism")
    if "UnsupportedSaslMechanism" in text:
        return f"{address} does not offer SASL mechanism {settings.sasl_mechanism} (CLAIMWATCH_SASL_MECHANISM)"
    if "SaslHandshake failed" in text or "IllegalSaslState" in text:
        return (f"{address} does not speak SASL: its listener is not {protocol} (check "
                "CLAIMWATCH_SECURITY_PROTOCOL against the broker's listener)")
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return (f"the certificate of {address} is not trusted: it is not signed by CLAIMWATCH_SSL_CAFILE="
                f"{str(settings.ssl_cafile)!r}" if settings.ssl_cafile else f"the certificate of {address} is not "
                "trusted by the system's CAs: set CLAIMWATCH_SSL_CAFILE to the CA that signed it")
    if "Handshake failed" in text and "SSL" in text:
        return (f"the TLS handshake with {address} failed: its listener does not speak TLS ({protocol} was asked "
                "for; check CLAIMWATCH_SECURITY_PROTOCOL)")
    return None


def probe(
    settings: Settings, config: dict[str, Any], wait_s: float | None = None, say: Callable[[str], None] | None = None
) -> None:
    """Before a client starts: wait up to `wait_s` for some bootstrap address to listen
    (BrokerUnreachable after that; with None, an outage is left to the caller to wait out),
    then raise ConnectionSetupError when the broker refuses these settings."""
    if wait_s is not None:
        reachable = wait_until_listening(settings, wait_s, say)
    else:
        reachable = [address for address in settings.bootstrap_servers if listening(address)]
    if not reachable:
        return
    with _kafka_logs() as logs:
        try:
            admin = KafkaAdminClient(client_id="claimwatch-probe", request_timeout_ms=PROBE_TIMEOUT_MS,
                                     bootstrap_timeout_ms=PROBE_TIMEOUT_MS, **config)
        except KafkaError:
            admin = None
        else:
            admin.close()
    if admin is not None:
        return
    cause = _cause(settings, ", ".join(reachable), logs.messages)
    if cause is not None:
        raise ConnectionSetupError(cause)


@contextmanager
def answering(settings: Settings) -> Iterator[None]:
    """Kafka's own "unable to bootstrap" inside a client's work, as BrokerUnreachable: something
    listens at the address but no broker answers there (another service, or a broker going away)."""
    try:
        yield
    except KafkaTimeoutError as exc:  # this client's way of saying it could not bootstrap
        raise BrokerUnreachable(f"no Kafka broker answers at {', '.join(settings.bootstrap_servers)}: {exc}") from None
