"""What a broker process needs from this machine: free ports, the cluster id a client sees, a
JVM that dies with its parent, and the cause of a failure read from the broker's log."""

from __future__ import annotations

import base64
import ctypes
import os
import re
import signal
import socket
import sys
import uuid
from pathlib import Path

from pipeline.errors import BrokerError

LOOPBACK = "127.0.0.1"


def log_tail(path: Path, since: int = 0, count: int = 25) -> str:
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


def ensure_port_free(host: str, port: int) -> None:
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
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError
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


def die_with_parent() -> None:
    """Runs in the forked child before exec: ask Linux to SIGTERM the JVM if its parent dies.

    Without this a SIGKILLed test run or CLI would leave an orphan broker holding ports and memory,
    since the JVM lives in its own process group and gets no terminal signals.
    """
    PR_SET_PDEATHSIG = 1
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)  # loaded up front: the child after fork must not load it
    except OSError:
        return None


LIBC = _load_libc()
