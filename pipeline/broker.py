"""A single-node Apache Kafka broker (KRaft, combined broker+controller) that Claimwatch starts itself.

Why this exists: the demo, the CLI's `claimwatch broker` and the integration tests need a real Kafka,
and the machines we run on have Python, Java 17 and Maven but no Docker and no Kafka download. So
the Kafka jars are resolved once from Maven Central into the user's cache directory and the broker
is run as a plain `java` subprocess with a generated server.properties.

Layout of a broker's data directory:
    server.properties, log4j.properties   rewritten on every start (ports may change)
    broker.log                            the JVM's stdout+stderr, appended across restarts
    kafka-logs/                           Kafka's log.dirs (and KRaft metadata log); kept on restart
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from pipeline.errors import ClaimwatchError

KAFKA_VERSION = "3.9.1"  # the 3.9.x release Maven Central serves; 4.x drops log4j 1 and needs other wiring
SCALA_BINARY = "2.13"
# kafka_2.13's POM only brings slf4j-api; without a binding the broker runs silently (slf4j NOP), so
# we add the same backend the Kafka 3.9 distribution ships in its libs/.
LOGGING_COORDINATES = ("org.slf4j:slf4j-reload4j:1.7.36", "ch.qos.reload4j:reload4j:1.2.25")
# Pinned so a fresh machine resolves the same plugin instead of whatever the `dependency:` prefix finds.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
MAVEN_TIMEOUT_S = 900  # first fetch downloads ~50 MB; bounded so a hung network fails instead of hanging
FORMAT_TIMEOUT_S = 120
MARKER = ".complete"

LOOPBACK = "127.0.0.1"
LOG_NAME = "broker.log"
LOG_DIRS_NAME = "kafka-logs"
PORT_RETRIES = 3  # auto-picked ports can be taken by someone else between picking and binding
# A small-footprint JVM for a 2-core machine: serial GC has no concurrent threads, C1-only JIT
# (TieredStopAtLevel=1) cuts start-up CPU, and a broker that runs out of memory should die loudly.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


class BrokerError(ClaimwatchError):
    """The embedded Kafka broker could not be fetched, started or kept running; says what failed."""


class BrokerInterrupted(BrokerError):
    """start() was cancelled (SIGTERM/SIGINT during start-up); the broker has been stopped."""


# ---------------------------------------------------------------------------------------------
# Fetching the jars
# ---------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/claimwatch`, or `~/.cache/claimwatch` when XDG_CACHE_HOME is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimwatch"


def kafka_coordinates(version: str = KAFKA_VERSION) -> list[str]:
    """Every Maven artifact the classpath is built from (their runtime dependencies come along)."""
    return [f"org.apache.kafka:kafka_{SCALA_BINARY}:{version}", *LOGGING_COORDINATES]


def _require_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BrokerError(f"`{name}` was not found on PATH; it is needed to {why}. Install it and retry.")
    return path


def java_executable() -> str:
    """JAVA_HOME's java when set (what Kafka's own scripts do), else java on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    return _require_tool("java", "run the Kafka broker (Java 17 is expected)")


def _pom_xml(coordinates: list[str]) -> str:
    deps = []
    for coordinate in coordinates:
        group, artifact, version = coordinate.split(":")
        deps.append(
            f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>local.claimwatch</groupId><artifactId>kafka-classpath</artifactId>"
        "<version>1</version><packaging>pom</packaging>\n"
        "  <dependencies>\n" + "\n".join(deps) + "\n  </dependencies>\n</project>\n"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock: a second process (e.g. a parallel pytest) waits here instead of fetching too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_maven(coordinates: list[str], output_dir: Path) -> None:
    """Resolve the artifacts plus their runtime dependencies and copy all jars into output_dir."""
    mvn = _require_tool("mvn", "fetch the Kafka jars from Maven Central (Maven 3.8+ is expected)")
    with tempfile.TemporaryDirectory(prefix="claimwatch-kafka-pom-") as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(_pom_xml(coordinates), encoding="utf-8")
        # -U: a failure from an earlier network blip is cached in ~/.m2 and would otherwise not be
        # retried for a day; this runs once per version, so re-checking costs nothing.
        cmd = [
            mvn, "-B", "-q", "-U", "-Dstyle.color=never", "-f", str(pom),
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={output_dir}", "-DincludeScope=runtime",
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BrokerError(f"Maven did not finish fetching {', '.join(coordinates)} in {MAVEN_TIMEOUT_S}s") from None
    if done.returncode != 0:
        output = _last_lines(_maven_errors(done.stdout + done.stderr), 30)
        raise BrokerError(f"Maven failed to fetch {', '.join(coordinates)} (exit {done.returncode}):\n{output}")


def _maven_errors(output: str) -> str:
    """Maven's output without colour codes (-B does not remove them all) and its generic hint block."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return output.split("[ERROR] To see the full stack trace")[0]


def fetch_kafka_jars(version: str = KAFKA_VERSION, cache_dir: Path | str | None = None) -> Path:
    """Return a directory holding every jar the Kafka broker needs, fetching it with Maven only once.

    The directory is `<cache_dir>/kafka-<version>/` (cache_dir defaults to default_cache_dir()).
    A marker file written last makes later calls a single stat; concurrent first calls serialise on
    a lock file and the jars are copied into a temp dir that is renamed into place, so a killed
    fetch never leaves a half-filled directory that looks complete.
    """
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise BrokerError(f"not a Kafka release version: {version!r} (expected e.g. {KAFKA_VERSION})")
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = base / f"kafka-{version}"
    if (target / MARKER).is_file():
        return target
    coordinates = kafka_coordinates(version)
    with _file_lock(base / f"kafka-{version}.lock"):
        if (target / MARKER).is_file():  # another process finished while we waited for the lock
            return target
        for stale in base.glob(f".kafka-{version}-*"):  # staging of a fetch that was killed mid-way
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=base))
        try:
            _run_maven(coordinates, staging)
            main_jar = staging / f"kafka_{SCALA_BINARY}-{version}.jar"
            if not main_jar.is_file():
                raise BrokerError(f"Maven finished but {main_jar.name} is missing from the fetched jars")
            (staging / MARKER).write_text("\n".join(coordinates) + "\n", encoding="utf-8")
            if target.exists():  # leftover without a marker: not trustworthy, replace it
                shutil.rmtree(target)
            os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])


def _log_tail(path: Path, since: int = 0, count: int = 25) -> str:
    """What went wrong, from the broker log (from byte offset `since`), for error messages.

    Kafka logs its cause (e.g. a bind failure) as ERROR lines and then a long clean shutdown, so
    the ERROR/FATAL lines with their exception messages come first, then the last lines.
    """
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(since, size - 2 * 1024 * 1024))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return "(no broker log)"
    if not lines:
        return "(log is empty)"
    errors: list[str] = []
    for i, line in enumerate(lines):
        if " ERROR " in line or " FATAL " in line:
            # the message, then its exception and "Caused by" lines, not the stack frames
            errors.append(line)
            errors.extend(n for n in lines[i + 1 : i + 6] if n and not n[0].isspace() and not n.startswith("["))
        if len(errors) >= 12:
            break
    tail = "\n".join(lines[-count:])
    return ("errors:\n" + "\n".join(errors[:12]) + "\nlast lines:\n" + tail) if errors else tail


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Ports the OS says are free now; all sockets are held together so the ports differ."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _ensure_port_free(host: str, port: int) -> None:
    """Fail in milliseconds with a clear message instead of after a JVM start-up."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Java's server sockets use SO_REUSEADDR, so a port left in TIME_WAIT is fine for Kafka too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise BrokerError(f"cannot start Kafka on {host}:{port}: {exc.strerror or exc}") from None


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def cluster_id_at(bootstrap: str, timeout_ms: int = 3000) -> str | None:
    """The cluster id of the broker a real Kafka client reaches at `bootstrap` after listing its
    topics, or None if it cannot get that far (not merely a TCP accept: the broker must answer).

    The id lets start() tell its own broker from another one already serving the same port.
    """
    try:
        from kafka import KafkaAdminClient  # type: ignore[import-untyped]
        from kafka.errors import KafkaError  # type: ignore[import-untyped]
    except ImportError:
        raise BrokerError("kafka-python is not installed; `pip install kafka-python`") from None
    # kafka-python 3 bounds the first connection with bootstrap_timeout_ms; 2.x has no such option.
    extra = {"bootstrap_timeout_ms": timeout_ms} if "bootstrap_timeout_ms" in KafkaAdminClient.DEFAULT_CONFIG else {}
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, **extra)
    except (KafkaError, OSError):
        return None
    try:
        admin.list_topics()
        return str(admin.describe_cluster()["cluster_id"])
    except (KafkaError, OSError):
        return None
    finally:
        admin.close()


def read_cluster_id(log_dir: Path) -> str | None:
    """cluster.id from a formatted log dir's meta.properties, None if not formatted yet."""
    try:
        text = (log_dir / "meta.properties").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    match = re.search(r"^cluster\.id=(\S+)$", text, flags=re.MULTILINE)
    return match.group(1) if match else None


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what `random-uuid` prints).

    Generated here to save a JVM start; Kafka likewise avoids ids starting with '-' (they look like flags).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _die_with_parent() -> None:
    """Runs in the forked child before exec: ask Linux to SIGTERM the JVM if its parent dies.

    Without this a SIGKILLed test run or CLI would leave an orphan broker holding ports and memory,
    since the JVM lives in its own process group and gets no terminal signals.
    """
    PR_SET_PDEATHSIG = 1
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)  # loaded up front: the child after fork must not load it
    except OSError:
        return None


_LIBC = _load_libc()


# ---------------------------------------------------------------------------------------------
# The broker
# ---------------------------------------------------------------------------------------------


def server_properties(host: str, port: int, controller_port: int, log_dirs: Path) -> str:
    """Combined-mode KRaft config for one node; replication factors of 1 since there is one broker."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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


class EmbeddedBroker:
    """One Kafka broker+controller JVM on this machine, started and stopped by Python.

    port=0 picks a free port; data_dir=None uses a temp dir that stop() removes, while a given
    data_dir is kept and a later start on it keeps its topics and messages.
    """

    def __init__(
        self,
        port: int = 0,
        data_dir: Path | str | None = None,
        host: str = LOOPBACK,
        heap: str = "256m",
        *,
        version: str = KAFKA_VERSION,
    ) -> None:
        if not re.fullmatch(r"\d+[kKmMgG]", heap):
            raise BrokerError(f"heap must look like 256m or 1g, got {heap!r}")
        if not 0 <= port <= 65535:
            raise BrokerError(f"port out of range: {port}")
        self.requested_port = port
        self.host = host
        self.heap = heap
        self.version = version
        self._owns_data_dir = data_dir is None
        self.data_dir: Path | None = Path(data_dir).resolve() if data_dir is not None else None
        self.port: int | None = port or None
        self.controller_port: int | None = None
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
        self._terminate(timeout)
        self._cleanup_data_dir()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- steps of start() -------------------------------------------------------------------

    def _prepare_data_dir(self) -> None:
        if self._owns_data_dir:
            self.data_dir = Path(tempfile.mkdtemp(prefix="claimwatch-kafka-"))
        assert self.data_dir is not None
        (self.data_dir / LOG_DIRS_NAME).mkdir(parents=True, exist_ok=True)

    def _start_jvm(self, jars: Path, timeout: float, cancel: threading.Event | None) -> None:
        """Launch and wait; with auto-picked ports, retry on new ones if another process took them."""
        attempts = PORT_RETRIES if self.requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            self._choose_ports()
            self._format_storage(jars)
            self._launch(jars)
            try:
                self._wait_ready(timeout, cancel)
                return
            except _PortTaken:
                if attempt == attempts:
                    raise BrokerError(f"Kafka could not bind free ports in {attempts} tries; end of {self.log_path}:\n"
                                      f"{_log_tail(self.log_path, self._log_start)}") from None  # fmt: skip
                self._terminate(timeout=10)

    def _choose_ports(self) -> None:
        if self.requested_port == 0:
            self.port, self.controller_port = free_ports(2, self.host)
        else:
            _ensure_port_free(self.host, self.requested_port)
            self.port = self.requested_port
            # The controller port is internal to the one JVM, so a fresh free one each start is fine.
            self.controller_port = next(p for p in free_ports(2) if p != self.requested_port)

    def _write_config(self) -> Path:
        assert self.data_dir is not None and self.port is not None and self.controller_port is not None
        props = self.data_dir / "server.properties"
        log_dirs = self.data_dir / LOG_DIRS_NAME
        props.write_text(server_properties(self.host, self.port, self.controller_port, log_dirs), encoding="utf-8")
        (self.data_dir / "log4j.properties").write_text(LOG4J_PROPERTIES, encoding="utf-8")
        return props

    def _java(self, jars: Path, heap: str, *args: str) -> list[str]:
        log4j = (self._dir() / "log4j.properties").as_uri()
        return [java_executable(), f"-Xmx{heap}", f"-Xms{heap}", *JVM_FLAGS,
                f"-Dlog4j.configuration={log4j}", "-cp", f"{jars}{os.sep}*", *args]  # fmt: skip

    def _format_storage(self, jars: Path) -> None:
        """Format the KRaft storage once; an existing meta.properties means data to keep."""
        props = self._write_config()
        if (self._dir() / LOG_DIRS_NAME / "meta.properties").exists():
            return
        cmd = self._java(jars, "128m", "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(props))
        with open(self.log_path, "ab") as log:
            since = log.tell()
            try:
                done = subprocess.run(cmd, cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, timeout=FORMAT_TIMEOUT_S)  # fmt: skip
            except subprocess.TimeoutExpired:
                raise BrokerError(f"formatting Kafka storage took over {FORMAT_TIMEOUT_S}s") from None
        if done.returncode != 0:
            raise BrokerError(f"formatting Kafka storage in {self.data_dir} failed (exit {done.returncode}):\n"
                              f"{_log_tail(self.log_path, since)}")  # fmt: skip

    def _launch(self, jars: Path) -> None:
        assert self.data_dir is not None
        cmd = self._java(jars, self.heap, "kafka.Kafka", str(self.data_dir / "server.properties"))
        self._log = open(self.log_path, "ab")
        self._log_start = self._log.tell()
        # Its own session/process group: Ctrl-C in a terminal reaches us, not the JVM, so shutdown
        # goes through stop(); PDEATHSIG only from the main thread since it fires when the *thread*
        # that forked exits.
        pdeathsig = _LIBC is not None and threading.current_thread() is threading.main_thread()
        self._proc = subprocess.Popen(
            cmd, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent if pdeathsig else None,
        )  # fmt: skip

    def _wait_ready(self, timeout: float, cancel: threading.Event | None) -> None:
        assert self._proc is not None and self.port is not None and self.data_dir is not None
        expected = read_cluster_id(self.data_dir / LOG_DIRS_NAME)
        deadline = time.monotonic() + timeout
        foreign = ""
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = _log_tail(self.log_path, self._log_start)
                if self.requested_port == 0 and "Address already in use" in tail:
                    raise _PortTaken()
                raise BrokerError(f"{foreign}Kafka broker exited with code {code} before it was ready; "
                                  f"end of {self.log_path}:\n{tail}")  # fmt: skip
            if cancel is not None and cancel.is_set():
                raise BrokerInterrupted("broker start-up was interrupted")
            if port_is_open(self.host, self.port):
                seen = cluster_id_at(self.bootstrap)
                if seen is not None and seen == expected:
                    return
                if seen is not None:  # someone else's broker answers here; ours will fail to bind
                    foreign = f"another Kafka broker (cluster {seen}) already answers on {self.bootstrap}; "
            if time.monotonic() > deadline:
                raise BrokerError(f"{foreign}Kafka broker was not ready within {timeout:.0f}s; "
                                  f"end of {self.log_path}:\n{_log_tail(self.log_path, self._log_start)}")  # fmt: skip
            time.sleep(0.25)

    # -- steps of stop() --------------------------------------------------------------------

    def _terminate(self, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:  # a reaped pid's group id may belong to others
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

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


def run_forever(port: int = 9092, data_dir: Path | str | None = None) -> None:
    """The `claimwatch broker` command: start, print `ready <host:port>`, serve until SIGTERM/SIGINT.

    Returns normally (exit code 0) after a signal; raises BrokerError if the broker cannot start
    or dies while serving. Must run in the main thread (signal handlers). port=0 picks a free port,
    data_dir=None serves from a temp dir that is removed on exit.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    broker = EmbeddedBroker(port=port, data_dir=data_dir)
    try:
        try:
            broker.start(cancel=stop)
        except BrokerError:
            if stop.is_set():  # asked to stop while starting (e.g. Ctrl-C killed Maven): not a failure
                return
            raise
        print(f"broker log: {broker.log_path}", file=sys.stderr, flush=True)
        print(f"ready {broker.bootstrap}", flush=True)
        while not stop.wait(0.5):
            if not broker.is_running():
                tail = _log_tail(broker.log_path, broker._log_start)
                raise BrokerError(f"Kafka broker died; end of {broker.log_path}:\n{tail}")
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
