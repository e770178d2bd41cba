"""Telling a misconfiguration from an outage before anything waits on the broker.

A client whose security settings do not match the listener (SASL or TLS against a plaintext
port, a CA that did not sign the broker's certificate, a wrong password) sees the same thing as
one whose broker is down: it retries, logs low-level errors, and after half a minute says it
was "unable to bootstrap". The probe connects once with the configured settings and a short
timeout, listens to what the Kafka client logs while it does, and names the cause: nothing
listening at the address (an outage: the caller may wait for it), or a handshake the listener
refused (a misconfiguration: waiting cannot help, so it is a ConnectionSetupError at once).
When the client's log names no cause (a plaintext client at a TLS port only sees the
connection close), the listener itself is asked what it speaks: a TLS handshake, then a SASL
handshake, whose answer lists the mechanisms it offers.
"""

from __future__ import annotations

import logging
import socket
import ssl
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
    from kafka.protocol.parser import KafkaProtocol
    from kafka.protocol.sasl import SaslHandshakeRequest

PROBE_TIMEOUTS_MS = (2000, 8000)
SAY_EVERY_S = 10.0
LISTENER_TIMEOUT_S = 3.0
# SaslHandshake answers (Kafka's error codes): a SASL listener says which mechanisms it has (0 or
# UNSUPPORTED_SASL_MECHANISM), any other says the handshake is out of place (ILLEGAL_SASL_STATE).
_SASL_ANSWERS = (0, 33)


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


def _split(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    return (host.strip("[]") or LOOPBACK, int(port)) if port.isdigit() else None


def listening(address: str, timeout_s: float = 2.0) -> bool:
    """Whether something accepts TCP connections at `host:port`."""
    place = _split(address)
    return place is not None and port_is_open(*place, timeout=timeout_s)


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


def _dropped_while_authenticating(logged: list[str]) -> bool:
    """The connection closed after the client's SASL proof and before any answer to it: how
    Kafka 4 refuses a SCRAM password (it closes after its failed-authentication delay, and the
    error it meant to send is often not read first)."""
    waiting = False
    for message in logged:
        if "Sending request" in message and "SaslAuthenticateRequest" in message:
            waiting = True
        elif "SaslAuthenticateResponse" in message:
            waiting = False
        elif waiting and ("socket disconnected" in message or "Connection lost" in message):
            return True
    return False


def _cause(settings: Settings, address: str, logged: list[str]) -> str | None:
    text = "\n".join(logged)
    protocol = settings.security_protocol
    if "Authentication failed" in text or "SaslAuthenticationFailed" in text or _dropped_while_authenticating(logged):
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


def listener_protocol(address: str, timeout_s: float = LISTENER_TIMEOUT_S) -> tuple[str, list[str]] | None:
    """What the listener at `address` speaks, as a security protocol (PLAINTEXT, SSL,
    SASL_PLAINTEXT or SASL_SSL) with the SASL mechanisms it offers; None when it does not answer
    as a Kafka listener. Nothing is authenticated: the TLS certificate is not checked and the
    SASL handshake asks for a mechanism only to hear which ones there are."""
    place = _split(address)
    if place is None:
        return None
    host, port = place
    connection: socket.socket
    try:
        raw = socket.create_connection((host, port), timeout_s)
    except OSError:
        return None
    tls = False
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = context.wrap_socket(raw, server_hostname=host)
        tls = True
    except (ssl.SSLError, OSError):  # a plaintext listener drops the hello as a malformed request
        raw.close()
        try:
            connection = socket.create_connection((host, port), timeout_s)
        except OSError:
            return None
    try:
        protocol = KafkaProtocol(client_id="claimwatch-probe")
        protocol.send_request(SaslHandshakeRequest(mechanism="PLAIN", version=1))
        connection.sendall(protocol.send_bytes())
        answers: list[tuple[int, object]] = []
        while not answers:
            data = connection.recv(65536)
            if not data:
                return None
            answers = protocol.receive_bytes(data)
    except (OSError, KafkaError):
        return None
    finally:
        connection.close()
    answer = answers[0][1]
    error_code = getattr(answer, "error_code", None)
    sasl = error_code in _SASL_ANSWERS
    mechanisms = list(getattr(answer, "mechanisms", None) or []) if sasl else []
    return ("SASL_" if sasl else "") + ("SSL" if tls else "PLAINTEXT"), mechanisms


def _mismatch(settings: Settings, address: str) -> str | None:
    """The listener's own protocol against the configured one, when they differ."""
    found = listener_protocol(address)
    if found is None:
        return None
    protocol, mechanisms = found
    if protocol == settings.security_protocol:
        if mechanisms and settings.sasl_mechanism not in mechanisms:
            return (f"{address} does not offer SASL mechanism {settings.sasl_mechanism} (CLAIMWATCH_SASL_MECHANISM); "
                    f"it offers {', '.join(mechanisms)}")
        return None
    offers = f", offering {', '.join(mechanisms)}" if mechanisms else ""
    hint = f"set CLAIMWATCH_SECURITY_PROTOCOL={protocol}"
    if protocol.startswith("SASL") and not settings.security_protocol.startswith("SASL"):
        hint += " with CLAIMWATCH_SASL_MECHANISM, _SASL_USERNAME and _SASL_PASSWORD"
    if protocol.endswith("SSL") and not settings.security_protocol.endswith("SSL"):
        hint += " (and CLAIMWATCH_SSL_CAFILE to the CA that signed its certificate)"
    return (f"{address} is a {protocol} listener{offers}, but CLAIMWATCH_SECURITY_PROTOCOL is "
            f"{settings.security_protocol}: {hint}")


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
    # A refused handshake shows in the client's log at its first attempt, so a short try tells
    # most misconfigurations within a second or two; only a try that failed without a cause is
    # repeated with the long timeout, for a broker slow to answer.
    for timeout_ms in PROBE_TIMEOUTS_MS:
        with _kafka_logs() as logs:
            try:
                admin = KafkaAdminClient(client_id="claimwatch-probe", request_timeout_ms=timeout_ms,
                                         bootstrap_timeout_ms=timeout_ms, **config)
            except KafkaError:
                pass
            else:
                admin.close()
                return
        cause = _cause(settings, ", ".join(reachable), logs.messages) or _mismatch(settings, reachable[0])
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
