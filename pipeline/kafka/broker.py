"""A single-node Apache Kafka broker (KRaft, combined broker+controller) that Claimwatch starts itself.

The demo, `claimwatch broker` and the integration tests need a real Kafka; the jars come from
Maven (`pipeline.kafka.jars`) and the broker runs as a plain `java` subprocess with a generated
server.properties.

With `security` the client port is a SASL_SSL listener (SCRAM over TLS, as a production
cluster is set up): the broker makes its own CA and server certificate (`pipeline.kafka.tls`) and
knows one SCRAM user. A second, plaintext listener on 127.0.0.1 stays for the broker's own use
(inter-broker traffic, its readiness check, setting the user's password).

Layout of a broker's data directory:
    server.properties, log4j.properties   rewritten on every start (ports may change)
    broker.log                            the JVM's stdout+stderr, appended across restarts
    kafka-logs/                           Kafka's log.dirs (and KRaft metadata log); kept on restart
    tls/ca.pem, tls/broker.pem            with `security`: the CA clients trust, the broker's key
                                          and certificates; made once, kept on restart
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from pipeline.errors import BrokerError, BrokerInterrupted
from pipeline.kafka.host import (
    LIBC,
    LOOPBACK,
    cluster_id_at,
    die_with_parent,
    ensure_port_free,
    free_ports,
    log_tail,
    new_cluster_id,
    port_is_open,
    read_cluster_id,
)
from pipeline.kafka.jars import MARKER, fetch_kafka_jars, java_executable, uses_log4j2
from pipeline.kafka.tls import TlsFiles, ensure_tls_files, write_private
from pipeline.settings import Settings, load_settings

__all__ = ["MARKER", "BrokerSecurity", "EmbeddedBroker", "fetch_kafka_jars", "run_forever"]

LOG_NAME = "broker.log"
LOG_DIRS_NAME = "kafka-logs"
TLS_DIR_NAME = "tls"
CLIENT_ENV_NAME = "client.env"
SECURE_LISTENER = "SASL_SSL"
SCRAM_MECHANISM = "SCRAM-SHA-512"
FORMAT_TIMEOUT_S = 120
PORT_RETRIES = 3  # auto-picked ports can be taken by someone else between picking and binding
# A small-footprint JVM for a 2-core machine: serial GC has no concurrent threads, C1-only JIT
# (TieredStopAtLevel=1) cuts start-up CPU, and a broker that runs out of memory should die loudly.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


@dataclass(frozen=True)
class BrokerSecurity:
    """A SASL_SSL client listener with one SCRAM-SHA-512 user."""

    username: str
    password: str

    def __post_init__(self) -> None:
        # Kafka's --add-scram and kafka-configs read these inside `[name=…,password=…]`.
        for field, value in (("username", self.username), ("password", self.password)):
            if not value or any(c in value for c in ",[]=\n\"'"):
                raise BrokerError(f"the SCRAM {field} must be non-empty and hold none of , [ ] = quotes or newlines")


def server_properties(
    host: str, port: int, controller_port: int, log_dirs: Path, secure: tuple[int, TlsFiles] | None = None
) -> str:
    """Combined-mode KRaft config for one node; replication factors of 1 since there is one broker.
    With `secure` (the plaintext port kept for the broker itself, and its certificates), `port`
    is a SASL_SSL listener."""
    if secure is None:
        listeners = {"PLAINTEXT": f"{host}:{port}"}
        protocols = {"PLAINTEXT": "PLAINTEXT"}
        own: dict[str, str] = {}
    else:
        plain_port, tls = secure
        listeners = {"PLAINTEXT": f"{LOOPBACK}:{plain_port}", SECURE_LISTENER: f"{host}:{port}"}
        protocols = {"PLAINTEXT": "PLAINTEXT", SECURE_LISTENER: SECURE_LISTENER}
        prefix = f"listener.name.{SECURE_LISTENER.lower()}"
        own = {
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"{prefix}.sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"{prefix}.{SCRAM_MECHANISM.lower()}.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"{prefix}.ssl.keystore.type": "PEM",
            f"{prefix}.ssl.keystore.location": str(tls.broker),
            f"{prefix}.ssl.client.auth": "none",
        }
    advertised = [f"{name}://{at}" for name, at in listeners.items()]
    protocols["CONTROLLER"] = "PLAINTEXT"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "listeners": ",".join([*advertised, f"CONTROLLER://{LOOPBACK}:{controller_port}"]),
        "advertised.listeners": ",".join(advertised),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": ",".join(f"{name}:{protocol}" for name, protocol in protocols.items()),
        **own,
        "log.dirs": str(log_dirs),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        # One partition instead of 50: the first consumer group on a fresh broker is ready at once.
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Small segments and few threads: a dev/test broker on a 2-core machine, not a production one.
        "log.segment.bytes": str(16 * 1024 * 1024),
        "num.network.threads": "2",
        "num.io.threads": "4",
        "background.threads": "4",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


LOG4J_PROPERTIES = """\
# Everything to stdout, which the launcher sends to broker.log in the data directory.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""

# The same for Kafka 4, which logs through log4j 2.
LOG4J2_PROPERTIES = """\
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.requests.name = kafka.request.logger
logger.requests.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
"""


class EmbeddedBroker:
    """One Kafka broker+controller JVM on this machine, started and stopped by Python.

    port=0 picks a free port; data_dir=None uses a temp dir that stop() removes, while a given
    data_dir is kept and a later start on it keeps its topics and messages. With `security`,
    clients connect to `port` with SASL_SSL (`client_environment()` says how).
    """

    def __init__(
        self,
        port: int = 0,
        data_dir: Path | str | None = None,
        host: str = LOOPBACK,
        heap: str = "256m",
        *,
        version: str | None = None,
        security: BrokerSecurity | None = None,
    ) -> None:
        """`version`: the Kafka release to run (default: CLAIMWATCH_KAFKA_VERSION, 3.9.1)."""
        if not re.fullmatch(r"\d+[kKmMgG]", heap):
            raise BrokerError(f"heap must look like 256m or 1g, got {heap!r}")
        if not 0 <= port <= 65535:
            raise BrokerError(f"port out of range: {port}")
        self.requested_port = port
        self.host = host
        self.heap = heap
        self.version = version or load_settings().kafka_version
        self._owns_data_dir = data_dir is None
        self.data_dir: Path | None = Path(data_dir).resolve() if data_dir is not None else None
        self.port: int | None = port or None
        self.controller_port: int | None = None
        self.security = security
        self._plain_port: int | None = None  # with `security`: the broker's own plaintext listener
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0  # where this run's output begins in the appended broker.log

    # -- public API -------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """`host:port` for clients' bootstrap_servers."""
        if self.port is None:
            raise BrokerError("the broker has no port yet: call start() first")
        return f"{self.host}:{self.port}"

    @property
    def tls(self) -> TlsFiles:
        """The CA clients trust and the broker's own key and certificates (with `security`)."""
        return ensure_tls_files(self._dir() / TLS_DIR_NAME, self.host)

    def write_client_environment(self) -> Path:
        """client.env in the data directory: the client settings as `export` lines, readable by
        the owner only (it holds the password)."""
        path = self._dir() / CLIENT_ENV_NAME
        lines = (f"export {key}={shlex.quote(value)}\n" for key, value in self.client_environment().items())
        write_private(path, "".join(lines).encode("utf-8"))
        return path

    def _client_fields(self) -> dict[str, str]:
        """The settings a client needs to reach this broker, by their field names."""
        fields = {"broker": self.bootstrap}
        if self.security is not None:
            fields.update(security_protocol=SECURE_LISTENER, sasl_mechanism=SCRAM_MECHANISM,
                          sasl_username=self.security.username, sasl_password=self.security.password,
                          ssl_cafile=str(self.tls.ca))  # fmt: skip
        return fields

    def client_environment(self) -> dict[str, str]:
        """The CLAIMWATCH_* variables a client process needs to reach this broker."""
        return {f"CLAIMWATCH_{name.upper()}": value for name, value in self._client_fields().items()}

    def client_settings(self, settings: Settings) -> Settings:
        """`settings` pointed at this broker, validated as any settings are."""
        return Settings.model_validate({**settings.model_dump(), **self._client_fields()})

    @property
    def _ready_address(self) -> str:
        """Where the broker itself is asked whether it is up: its plaintext listener."""
        return f"{LOOPBACK}:{self._plain_port}" if self.security is not None else self.bootstrap

    @property
    def log_path(self) -> Path:
        """broker.log in the data directory: the JVM's output, appended across restarts."""
        return self._dir() / LOG_NAME

    def _dir(self) -> Path:
        if self.data_dir is None:
            raise BrokerError("the broker has no data directory yet: call start() first")
        return self.data_dir

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 90, *, cancel: threading.Event | None = None) -> EmbeddedBroker:
        """Start the JVM and return once a Kafka client can list topics.

        `timeout` bounds the JVM start-up (the one-time jar fetch is not counted: it has its own
        bound). `cancel`, when set by another thread or a signal handler, aborts the wait.
        """
        if self.is_running():
            return self
        jars = fetch_kafka_jars(self.version)
        self._prepare_data_dir()
        try:
            self._start_jvm(jars, timeout, cancel)
        except BaseException:  # incl. KeyboardInterrupt: never leave a JVM or a temp dir behind
            self.stop()
            raise
        atexit.register(self.stop)  # last resort if the caller forgets to stop()
        return self

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (Kafka shuts down cleanly), SIGKILL after `timeout`; remove a temp data dir. Idempotent."""
        atexit.unregister(self.stop)
        self.halt(signal.SIGTERM, timeout)
        self._cleanup_data_dir()

    def halt(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> None:
        """Stop the JVM with `sig` and keep everything else (data directory, ports): a broker
        that went away, for fault tests. SIGTERM shuts Kafka down cleanly, SIGKILL is a crash;
        start() brings it back on the same data."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:  # a reaped pid's group id may belong to others
            self._signal_group(proc, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- steps of start() -------------------------------------------------------------------

    def _prepare_data_dir(self) -> None:
        if self._owns_data_dir and self.data_dir is None:  # a restart after halt() keeps its data
            self.data_dir = Path(tempfile.mkdtemp(prefix="claimwatch-kafka-"))
        assert self.data_dir is not None
        (self.data_dir / LOG_DIRS_NAME).mkdir(parents=True, exist_ok=True)

    def _start_jvm(self, jars: Path, timeout: float, cancel: threading.Event | None) -> None:
        """Launch and wait; with auto-picked ports, retry on new ones if another process took them."""
        attempts = PORT_RETRIES if self.requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            self._choose_ports()
            formatted = self._format_storage(jars)
            self._launch(jars)
            try:
                self._wait_ready(timeout, cancel)
                if self.security is not None and not formatted:
                    self._set_scram_user(jars)  # storage made earlier holds whatever user it was given then
                return
            except _PortTaken:
                self.port = None  # pick others
                if attempt == attempts:
                    raise BrokerError(f"Kafka could not bind free ports in {attempts} tries; end of {self.log_path}:\n"
                                      f"{log_tail(self.log_path, self._log_start)}") from None  # fmt: skip
                self.halt(signal.SIGTERM, timeout=10)

    def _choose_ports(self) -> None:
        if self.requested_port == 0 and self.port is not None and self.controller_port is not None:
            # a restart after halt(): its clients know this port
            ensure_port_free(self.host, self.port)
            return
        if self.requested_port == 0:
            self.port, self.controller_port, self._plain_port = free_ports(3, self.host)
        else:
            ensure_port_free(self.host, self.requested_port)
            self.port = self.requested_port
            # The controller port (and the secure broker's plaintext one) are internal to the one
            # JVM, so fresh free ones each start are fine.
            self.controller_port, self._plain_port = [p for p in free_ports(3) if p != self.requested_port][:2]

    def _write_config(self) -> Path:
        assert self.data_dir is not None and self.port is not None and self.controller_port is not None
        props = self.data_dir / "server.properties"
        log_dirs = self.data_dir / LOG_DIRS_NAME
        secure = None
        if self.security is not None:
            assert self._plain_port is not None
            secure = (self._plain_port, self.tls)
        props.write_text(server_properties(self.host, self.port, self.controller_port, log_dirs, secure),
                         encoding="utf-8")
        (self.data_dir / "log4j.properties").write_text(LOG4J_PROPERTIES, encoding="utf-8")
        (self.data_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES, encoding="utf-8")
        return props

    def _java(self, jars: Path, heap: str, *args: str) -> list[str]:
        if uses_log4j2(self.version):
            logging = f"-Dlog4j2.configurationFile={self._dir() / 'log4j2.properties'}"
        else:
            logging = f"-Dlog4j.configuration={(self._dir() / 'log4j.properties').as_uri()}"
        return [java_executable(), f"-Xmx{heap}", f"-Xms{heap}", *JVM_FLAGS,
                logging, "-cp", f"{jars}{os.sep}*", *args]  # fmt: skip

    def _format_storage(self, jars: Path) -> bool:
        """Format the KRaft storage once (with the SCRAM user, if any); an existing
        meta.properties means data to keep. Whether it formatted."""
        props = self._write_config()
        if (self._dir() / LOG_DIRS_NAME / "meta.properties").exists():
            return False
        user = []
        if self.security is not None:
            user = ["--add-scram", f"{SCRAM_MECHANISM}=[name={self.security.username},"
                                   f"password={self.security.password}]"]  # fmt: skip
        self._run_tool(jars, "formatting Kafka storage",
                       "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(props), *user)
        return True

    def _set_scram_user(self, jars: Path) -> None:
        assert self.security is not None
        self._run_tool(jars, f"setting the SCRAM user {self.security.username}",
                       "kafka.admin.ConfigCommand", "--bootstrap-server", self._ready_address, "--alter",
                       "--entity-type", "users", "--entity-name", self.security.username,
                       "--add-config", f"{SCRAM_MECHANISM}=[password={self.security.password}]")  # fmt: skip

    def _run_tool(self, jars: Path, what: str, *args: str) -> None:
        """One of Kafka's own command-line tools, its output appended to broker.log."""
        cmd = self._java(jars, "128m", *args)
        with open(self.log_path, "ab") as log:
            since = log.tell()
            try:
                done = subprocess.run(cmd, cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=FORMAT_TIMEOUT_S)  # fmt: skip
            except subprocess.TimeoutExpired:
                raise BrokerError(f"{what} took over {FORMAT_TIMEOUT_S}s") from None
        if done.returncode != 0:
            raise BrokerError(f"{what} in {self.data_dir} failed (exit {done.returncode}):\n"
                              f"{log_tail(self.log_path, since)}")  # fmt: skip

    def _launch(self, jars: Path) -> None:
        assert self.data_dir is not None
        cmd = self._java(jars, self.heap, "kafka.Kafka", str(self.data_dir / "server.properties"))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the JVM writes to it until stop() closes it
        self._log_start = self._log.tell()
        # Its own session/process group: Ctrl-C in a terminal reaches us, not the JVM, so shutdown
        # goes through stop(); PDEATHSIG only from the main thread since it fires when the *thread*
        # that forked exits.
        pdeathsig = LIBC is not None and threading.current_thread() is threading.main_thread()
        self._proc = subprocess.Popen(
            cmd, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent if pdeathsig else None,
        )  # fmt: skip

    def _wait_ready(self, timeout: float, cancel: threading.Event | None) -> None:
        assert self._proc is not None and self.port is not None and self.data_dir is not None
        expected = read_cluster_id(self.data_dir / LOG_DIRS_NAME)
        deadline = time.monotonic() + timeout
        foreign = ""
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = log_tail(self.log_path, self._log_start)
                if self.requested_port == 0 and "Address already in use" in tail:
                    raise _PortTaken()
                raise BrokerError(f"{foreign}Kafka broker exited with code {code} before it was ready; "
                                  f"end of {self.log_path}:\n{tail}")  # fmt: skip
            if cancel is not None and cancel.is_set():
                raise BrokerInterrupted("broker start-up was interrupted")
            if port_is_open(self.host, self.port):
                seen = cluster_id_at(self._ready_address)
                if seen is not None and seen == expected:
                    return
                if seen is not None:  # someone else's broker answers here; ours will fail to bind
                    foreign = f"another Kafka broker (cluster {seen}) already answers on {self.bootstrap}; "
            if time.monotonic() > deadline:
                raise BrokerError(f"{foreign}Kafka broker was not ready within {timeout:.0f}s; "
                                  f"end of {self.log_path}:\n{log_tail(self.log_path, self._log_start)}")  # fmt: skip
            time.sleep(0.25)

    # -- steps of stop() --------------------------------------------------------------------

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)  # the group: the JVM is its leader (start_new_session)
        except ProcessLookupError:
            pass

    def _cleanup_data_dir(self) -> None:
        if self._owns_data_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


class _PortTaken(Exception):
    """The JVM lost a race for an auto-picked port; start() retries with new ports."""


def run_forever(
    port: int = 9092, data_dir: Path | str | None = None, security: BrokerSecurity | None = None
) -> None:
    """The `claimwatch broker` command: start, print `ready <host:port>`, serve until SIGTERM/SIGINT.

    Returns normally (exit code 0) after a signal; raises BrokerError if the broker cannot start
    or dies while serving. Must run in the main thread (signal handlers). port=0 picks a free port,
    data_dir=None serves from a temp dir that is removed on exit. With `security`, the client
    settings are written to client.env in the data directory, and its path is printed.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    broker = EmbeddedBroker(port=port, data_dir=data_dir, security=security)
    try:
        try:
            broker.start(cancel=stop)
        except BrokerError:
            if stop.is_set():  # asked to stop while starting (e.g. Ctrl-C killed Maven): not a failure
                return
            raise
        print(f"broker log: {broker.log_path}", file=sys.stderr, flush=True)
        if security is not None:
            print(f"SASL_SSL with SCRAM-SHA-512 user {security.username!r} and CA {broker.tls.ca}; clients: "
                  f"source {broker.write_client_environment()}", file=sys.stderr, flush=True)
        print(f"ready {broker.bootstrap}", flush=True)
        while not stop.wait(0.5):
            if not broker.is_running():
                tail = log_tail(broker.log_path, broker._log_start)
                raise BrokerError(f"Kafka broker died; end of {broker.log_path}:\n{tail}")
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
