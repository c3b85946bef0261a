"""A real, local, single-node Apache Kafka 4.x (KRaft) for development, the demo and the tests.

No Docker here: the broker's jars are resolved from Maven Central with ``mvn`` (pinned in
``deploy/kafka/pom.xml``) into a cache, the storage is formatted in a temporary data dir and
``kafka.Kafka`` is started with ``java`` on 127.0.0.1 on free ports. ``buzzwatch kafka up`` and
the pytest fixture use this same code. ``$BUZZWATCH_KAFKA`` (bootstrap servers) always wins.

    python -m streams.kafka_local resolve|up|down|status
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POM = REPO / "deploy" / "kafka" / "pom.xml"
LOG4J = REPO / "deploy" / "kafka" / "log4j2.properties"
KAFKA_VERSION = "4.3.1"


class KafkaError(RuntimeError):
    """The local broker could not be resolved, started or reached."""


def cache_dir() -> Path:
    return Path(os.environ.get("BUZZWATCH_CACHE", REPO / ".cache" / "buzzwatch")) / "kafka"


def libs_dir() -> Path:
    return cache_dir() / KAFKA_VERSION / "libs"


def state_file() -> Path:
    return cache_dir() / "state.json"


def resolve_jars(quiet: bool = True) -> Path:
    """Resolve the broker's runtime jars with Maven (once; later calls reuse the cache)."""
    libs = libs_dir()
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise KafkaError("mvn is not installed: it resolves the Kafka jars from Maven Central")
    if shutil.which("java") is None:
        raise KafkaError("java is not installed: Kafka needs a JRE 17+")
    libs.mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={libs}",
           "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}"]
    if quiet:
        cmd.insert(1, "-q")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KafkaError(f"mvn could not resolve Kafka {KAFKA_VERSION}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    if not list(libs.glob("kafka_2.13-*.jar")):
        raise KafkaError(f"mvn finished but no kafka_2.13 jar is in {libs}")
    marker.write_text(KAFKA_VERSION)
    return libs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _properties(data_dir: Path, port: int, controller_port: int) -> str:
    return f"""
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data_dir / 'logs'}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
message.max.bytes=4194304
log.retention.check.interval.ms=60000
"""


class LocalKafka:
    """One broker+controller process; ``start()`` returns the bootstrap address."""

    def __init__(self, data_dir: Path | None = None, heap: str = "512m"):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="buzzwatch-kafka-"))
        self.heap = heap
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise KafkaError("broker not started")
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    def _java(self, libs: Path, main: str, *args: str, **kw) -> list[str]:
        opts = [f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        if LOG4J.exists():
            opts.append(f"-Dlog4j2.configurationFile={LOG4J}")
        opts.append(f"-Dkafka.logs.dir={self.data_dir}")
        return ["java", *opts, "-cp", f"{libs}/*", main, *args]

    def start(self, timeout_s: float = 90, detach: bool = False) -> str:
        libs = resolve_jars()
        self.port, controller = free_port(), free_port()
        props = self.data_dir / "server.properties"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props.write_text(_properties(self.data_dir, self.port, controller))
        fmt = subprocess.run(
            self._java(libs, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4().hex[:22]), "-c", str(props)),
            capture_output=True, text=True,
        )
        if fmt.returncode != 0:
            raise KafkaError(f"formatting Kafka storage failed:\n{fmt.stdout[-2000:]}\n{fmt.stderr[-2000:]}")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self._java(libs, "kafka.Kafka", str(props)), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=detach,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise KafkaError(f"Kafka exited with {self.proc.returncode}:\n{self._tail()}")
            if port_answers(self.port) and self._metadata_ok():
                return self.bootstrap
            time.sleep(0.5)
        self.stop()
        raise KafkaError(f"Kafka did not answer on {self.bootstrap} within {timeout_s:.0f}s:\n{self._tail()}")

    def _metadata_ok(self) -> bool:
        try:
            from kafka import KafkaAdminClient

            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
            try:
                admin.list_topics()
                return True
            finally:
                admin.close()
        except Exception:  # noqa: BLE001 - not ready yet
            return False

    def _tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no broker log)"

    def stop(self, timeout_s: float = 30) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "LocalKafka":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- a broker that outlives the CLI process (buzzwatch kafka up/down/status) --------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def kafka_status() -> dict | None:
    try:
        st = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    if not _pid_alive(st["pid"]) or not port_answers(st["port"]):
        return None
    return st


def kafka_up() -> str:
    st = kafka_status()
    if st:
        return st["bootstrap"]
    data = cache_dir() / "data"
    shutil.rmtree(data, ignore_errors=True)
    broker = LocalKafka(data_dir=data)
    bootstrap = broker.start(detach=True)
    state_file().write_text(json.dumps({"bootstrap": bootstrap, "port": broker.port, "pid": broker.proc.pid,
                                        "data_dir": str(data), "log": str(broker.log_path)}))
    return bootstrap


def kafka_down() -> bool:
    try:
        st = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return False
    stopped = False
    if _pid_alive(st["pid"]):
        os.kill(st["pid"], signal.SIGTERM)
        for _ in range(60):
            if not _pid_alive(st["pid"]):
                break
            time.sleep(0.5)
        else:
            os.kill(st["pid"], signal.SIGKILL)
        stopped = True
    state_file().unlink(missing_ok=True)
    shutil.rmtree(st.get("data_dir", ""), ignore_errors=True)
    return stopped


def bootstrap_servers() -> str:
    """``$BUZZWATCH_KAFKA`` if set, else the broker of ``buzzwatch kafka up``."""
    env = os.environ.get("BUZZWATCH_KAFKA")
    if env:
        return env
    st = kafka_status()
    if st:
        return st["bootstrap"]
    raise KafkaError("no Kafka: set BUZZWATCH_KAFKA=host:port or run `buzzwatch kafka up`")


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "status"
    try:
        if cmd == "resolve":
            print(resolve_jars(quiet=False))
        elif cmd == "up":
            print(kafka_up())
        elif cmd == "down":
            print("stopped" if kafka_down() else "not running")
        elif cmd == "status":
            st = kafka_status()
            print(json.dumps(st) if st else "down")
            return 0 if st else 1
        else:
            print(__doc__)
            return 2
    except KafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
