"""The Kafka broker's jars, fetched once through Maven into the user's cache directory.

The machines Claimwatch runs its tests and demo on have Java 17 and Maven but no Kafka download,
so the broker's classpath is resolved from Maven Central (kafka_2.13 and its runtime
dependencies, plus a logging backend) and kept under `~/.cache/claimwatch/kafka-<version>/`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import BrokerError

KAFKA_VERSION = "3.9.1"  # the default (CLAIMWATCH_KAFKA_VERSION); 4.x is tested too (README)
SCALA_BINARY = "2.13"
# kafka_2.13's POM only brings slf4j-api; without a binding the broker runs silently (slf4j NOP), so
# we add the backend each line's distribution ships in its libs/: reload4j for 3.x, log4j 2 for 4.x
# (which dropped log4j 1).
LOGGING_COORDINATES = ("org.slf4j:slf4j-reload4j:1.7.36", "ch.qos.reload4j:reload4j:1.2.25")
LOG4J2_COORDINATES = ("org.apache.logging.log4j:log4j-slf4j-impl:2.24.3", "org.apache.logging.log4j:log4j-core:2.24.3")


def uses_log4j2(version: str) -> bool:
    return int(version.split(".")[0]) >= 4
# Pinned so a fresh machine resolves the same plugin instead of whatever the `dependency:` prefix finds.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
MAVEN_TIMEOUT_S = 900  # first fetch downloads ~50 MB; bounded so a hung network fails instead of hanging
MARKER = ".complete"


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/claimwatch`, or `~/.cache/claimwatch` when XDG_CACHE_HOME is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimwatch"


def kafka_coordinates(version: str = KAFKA_VERSION) -> list[str]:
    """Every Maven artifact the classpath is built from (their runtime dependencies come along)."""
    logging = LOG4J2_COORDINATES if uses_log4j2(version) else LOGGING_COORDINATES
    return [f"org.apache.kafka:kafka_{SCALA_BINARY}:{version}", *logging]


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


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-count:])
