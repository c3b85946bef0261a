"""A real, local, single-node Apache Kafka 4.x (KRaft) for development, the demo and the tests.

No Docker: the broker's jars are resolved once from Maven Central with ``mvn`` (pinned in
``deploy/kafka/pom.xml``) into a cache, storage is formatted in a fresh data dir, and
``kafka.Kafka`` runs under ``java`` on 127.0.0.1, on free ports, as one broker+controller
process. ``buzzwatch kafka up|down|status``, ``make kafka-jars``, the demo and the pytest
fixture all use this module; ``$BUZZWATCH_KAFKA`` (bootstrap servers) always wins over it.

For the security tests, ``LocalKafka(tls=True, scram_users={...})`` adds beside the PLAINTEXT
listener an ``SSL`` listener that requires a client certificate (mutual TLS) and a ``SASL_SSL``
listener with SCRAM-SHA-512 users (created by ``kafka-storage format --add-scram``), with a fresh
CA and certificates (``BrokerTls``, made with ``openssl``); ``bootstrap_for(protocol)`` gives
each listener's address.

Cache layout (``$BUZZWATCH_CACHE`` or ``<repo>/.cache/buzzwatch``)::

    kafka/<version>/libs/*.jar   runtime jars; ``.complete`` holds the hash of the pom they came from
    kafka/state.json             the broker of ``kafka up``: pid, ports, data dir, logs
    kafka/data/                  that broker's data dir (wiped by ``up`` and ``down``)

Broker logs, in the data dir: ``server.log`` (log4j2, WARN and above) and ``broker.log`` (the
JVM's own stdout/stderr, e.g. a crash before logging starts). Startup errors quote both.

    python -m streams.kafka_local resolve|up|down|status
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

import atexit
import base64
import contextlib
import fcntl
import hashlib
import json
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
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
POM = REPO / "deploy" / "kafka" / "pom.xml"
LOG4J = REPO / "deploy" / "kafka" / "log4j2.properties"
KAFKA_VERSION = "4.3.1"
HEAP = "512m"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class KafkaError(BuzzwatchError, RuntimeError):
    """The local broker could not be resolved, started, reached or stopped."""


# --- where things live ----------------------------------------------------------------------
def cache_dir() -> Path:
    return Path(os.environ.get("BUZZWATCH_CACHE") or REPO / ".cache" / "buzzwatch") / "kafka"


def libs_dir() -> Path:
    return cache_dir() / KAFKA_VERSION / "libs"


def state_file() -> Path:
    return cache_dir() / "state.json"


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock between processes (two `make` targets, a CLI and a test session)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- jars -----------------------------------------------------------------------------------
def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes() + KAFKA_VERSION.encode()).hexdigest()[:16]


def jars_resolved() -> bool:
    marker = libs_dir() / ".complete"
    return marker.exists() and marker.read_text().strip() == _pom_digest()


def resolve_jars(quiet: bool = True) -> Path:
    """Resolve the broker's runtime jars with Maven into the cache; no-op when already there.

    Maven writes into a scratch dir that is renamed into place only when complete, so an
    interrupted download never leaves a half-filled ``libs`` behind.
    """
    if jars_resolved():
        return libs_dir()
    with _locked("resolve"):
        if jars_resolved():  # another process did it while we waited for the lock
            return libs_dir()
        for tool, why in (("mvn", "it resolves the Kafka jars from Maven Central (apt-get install maven)"),
                          ("java", "Kafka needs a Java 17+ runtime (apt-get install default-jre-headless)")):
            if shutil.which(tool) is None:
                raise KafkaError(f"{tool} is not installed: {why}")
        libs = libs_dir()
        libs.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))  # same filesystem: rename works
        try:
            cmd = ["mvn", "-B", "-ntp", "-Dstyle.color=never", "-f", str(POM), "dependency:copy-dependencies",
                   f"-DoutputDirectory={scratch}", "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}"]
            if quiet:
                cmd.insert(1, "-q")
            proc = subprocess.run(cmd, stdout=subprocess.PIPE if quiet else None,
                                  stderr=subprocess.STDOUT if quiet else None, text=True)
            if proc.returncode != 0:
                output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout or "")
                raise KafkaError(f"mvn could not resolve Kafka {KAFKA_VERSION} (exit {proc.returncode}; "
                                 f"is Maven Central reachable?):\n{output[-3000:]}")
            if not list(scratch.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
                raise KafkaError(f"mvn finished but kafka_2.13-{KAFKA_VERSION}.jar is not in {scratch}")
            (scratch / ".complete").write_text(_pom_digest())
            shutil.rmtree(libs, ignore_errors=True)  # a stale cache from another pom
            scratch.rename(libs)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return libs


# --- ports and processes --------------------------------------------------------------------
def free_port(exclude: tuple[int, ...] = ()) -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (and not one in ``exclude``)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; reaps it if it is our own exited child (not a zombie forever)."""
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie someone else has yet to reap is not running
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _is_our_broker(pid: int, data_dir: str) -> bool:
    """The pid is still the ``kafka.Kafka`` we started (pids get reused: never signal a stranger)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return sys.platform != "linux" and _pid_alive(pid)  # no /proc: trust the state file
    return "kafka.Kafka" in cmdline and any(data_dir in arg for arg in cmdline)


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM the broker if the Python process that owns it
    dies without cleaning up (a killed test session must not leave a broker behind)."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64 without padding (22 chars), never
    starting with "-" (it would read as an option on the StorageTool command line)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _properties(data_dir: Path, port: int, controller_port: int, secured: dict[str, int] | None = None,
                tls: "BrokerTls | None" = None) -> str:
    # Single node: every internal topic has replication 1. auto.create stays on because Faust
    # and ad-hoc tools expect it; Buzzwatch's own topics are created explicitly (topics.py).
    # ``secured`` adds listeners by protocol (SSL, SASL_SSL) beside the PLAINTEXT one, which
    # stays for the broker's own traffic and the readiness probe.
    secured = secured or {}
    extra = "".join(f",{proto}://127.0.0.1:{p}" for proto, p in secured.items())
    proto_map = "".join(f",{proto}:{proto}" for proto in secured)
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}{extra}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}{extra}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT{proto_map}
inter.broker.listener.name=PLAINTEXT
{tls.properties(secured) if tls else ""}log.dirs={data_dir / 'logs'}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
message.max.bytes=4194304
log.retention.check.interval.ms=60000
"""


SCRAM_MECHANISM = "SCRAM-SHA-512"


class BrokerTls:
    """TLS material of a secured local broker, made fresh in ``directory`` (``streams.local_certs``):
    a CA, the broker's certificate for 127.0.0.1, and one client certificate for mutual TLS.

    The ``SSL`` listener requires a client certificate signed by the CA (mutual TLS: the
    certificate is the credential); the ``SASL_SSL`` listener encrypts with the same broker
    certificate and authenticates with SCRAM-SHA-512 users instead."""

    def __init__(self, directory: Path):
        from streams.local_certs import issue, make_ca

        self.directory = directory
        self.ca = make_ca(directory)
        self.server = issue(self.ca, directory, "broker", server=True)
        self.client = issue(self.ca, directory, "client", server=False)
        self.keystore = self.server.bundle(directory / "broker-keystore.pem")

    @property
    def ca_file(self) -> Path:
        return self.ca.cert

    def properties(self, secured: dict[str, int]) -> str:
        lines = [
            "ssl.keystore.type=PEM", f"ssl.keystore.location={self.keystore}",
            "ssl.truststore.type=PEM", f"ssl.truststore.location={self.ca.cert}",
        ]
        if "SSL" in secured:
            lines.append("listener.name.ssl.ssl.client.auth=required")
        if "SASL_SSL" in secured:
            lines += [f"listener.name.sasl_ssl.sasl.enabled.mechanisms={SCRAM_MECHANISM}",
                      f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config="
                      "org.apache.kafka.common.security.scram.ScramLoginModule required;"]
        return "\n".join(lines) + "\n"


def _terminate(proc: subprocess.Popen | None, timeout_s: float) -> None:
    """SIGTERM (Kafka shuts down cleanly), SIGKILL after ``timeout_s``; no-op if not running."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class LocalKafka:
    """One single-node Kafka (broker + controller in one JVM) on 127.0.0.1.

    ``start()`` returns the bootstrap address once the broker answers metadata requests;
    ``stop()`` ends it (SIGTERM, then SIGKILL) and removes the data dir if it made it.
    Also a context manager::

        with LocalKafka() as kafka:
            produce_to(kafka.bootstrap)
    """

    def __init__(self, data_dir: Path | None = None, heap: str = HEAP, *, tls: bool = False,
                 scram_users: dict[str, str] | None = None):
        """``tls=True`` adds an ``SSL`` listener (mutual TLS); ``scram_users`` (name -> password)
        adds a ``SASL_SSL`` listener with those SCRAM-SHA-512 users, created when the storage
        is formatted. Either makes fresh TLS material (``self.tls``). The PLAINTEXT listener is
        always there (``bootstrap``)."""
        for name, password in (scram_users or {}).items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not re.fullmatch(r"[A-Za-z0-9_.@%+-]+", password):
                raise KafkaError("local SCRAM user names and passwords: letters, digits and _.-@%+ only "
                                 "(they go through kafka-storage's --add-scram syntax)")
        self.want_tls = tls
        self.scram_users = dict(scram_users or {})
        self.tls: BrokerTls | None = None
        self.secured_ports: dict[str, int] = {}
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="buzzwatch-kafka-"))
        self.heap = heap
        self.port: int | None = None
        self.controller_port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise KafkaError("the local broker is not started")
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, protocol: str) -> str:
        """The address of the ``PLAINTEXT``, ``SSL`` or ``SASL_SSL`` listener."""
        if protocol == "PLAINTEXT":
            return self.bootstrap
        if protocol not in self.secured_ports:
            raise KafkaError(f"this local broker has no {protocol} listener")
        return f"127.0.0.1:{self.secured_ports[protocol]}"

    @property
    def log_path(self) -> Path:
        """The JVM's stdout/stderr; the broker's own WARN+ log is ``server.log`` beside it."""
        return self.data_dir / "broker.log"

    def _java(self, libs: Path, main: str, *args: str, heap: str, tool: bool = False) -> list[str]:
        # a one-shot tool starts faster without C2 and G1; the broker keeps Kafka's usual G1 flags
        gc = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"] if tool else ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
        opts = [f"-Xmx{heap}", "-Xms64m", *gc, "-Djava.awt.headless=true", f"-Dkafka.logs.dir={self.data_dir}"]
        if LOG4J.exists():
            opts.append(f"-Dlog4j2.configurationFile={LOG4J}")
        return ["java", *opts, "-cp", f"{libs}/*", main, *args]

    def start(self, timeout_s: float = START_TIMEOUT_S, detach: bool = False) -> str:
        """Format storage, start the broker and wait (at most ``timeout_s``) until it answers.

        ``detach=True`` is for ``kafka up``: the broker outlives this Python process. Otherwise
        it is tied to the calling thread's process (Linux PDEATHSIG) and stopped at exit.
        """
        if self.proc is not None:
            return self.bootstrap
        try:
            libs = resolve_jars()
            if shutil.which("java") is None:
                raise KafkaError("java is not on PATH: Kafka needs a Java 17+ runtime (apt-get install default-jre-headless)")
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.port = free_port()
            self.controller_port = free_port(exclude=(self.port,))
            taken = [self.port, self.controller_port]
            for proto, wanted in (("SSL", self.want_tls), ("SASL_SSL", bool(self.scram_users))):
                if wanted:
                    self.secured_ports[proto] = free_port(exclude=tuple(taken))
                    taken.append(self.secured_ports[proto])
            if self.secured_ports:
                from streams.local_certs import CertError

                try:
                    self.tls = BrokerTls(self.data_dir / "tls")
                except CertError as exc:
                    raise KafkaError(f"could not make the local broker's TLS material: {exc}") from exc
            props = self.data_dir / "server.properties"
            props.write_text(_properties(self.data_dir, self.port, self.controller_port, self.secured_ports, self.tls))
            scram = [arg for name, password in self.scram_users.items()
                     for arg in ("--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]")]
            fmt = subprocess.run(
                self._java(libs, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(props),
                           *scram, heap="256m", tool=True),
                capture_output=True, text=True, timeout=timeout_s,
            )
            if fmt.returncode != 0:
                raise KafkaError(f"formatting Kafka storage in {self.data_dir} failed:\n"
                                 f"{fmt.stdout[-2000:]}\n{fmt.stderr[-2000:]}")
            self._launch(libs, attached=not detach and threading.current_thread() is threading.main_thread())
            if not detach:
                atexit.register(self.stop)
            self._wait_ready(timeout_s)
            return self.bootstrap
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise KafkaError(f"Kafka exited with code {self.proc.returncode} during startup:\n{self.log_tail()}")
            if (port_answers(self.port) and all(port_answers(p) for p in self.secured_ports.values())
                    and self._metadata_ok()):
                return
            time.sleep(0.3)
        raise KafkaError(f"Kafka did not answer on {self.bootstrap} within {timeout_s:.0f} s:\n{self.log_tail()}")

    def _metadata_ok(self) -> bool:
        try:
            from kafka import KafkaAdminClient

            # bounded: a port that accepts but never answers (not Kafka, or a wedged broker) must
            # not hold the probe for the client's default 30 s bootstrap timeout
            bounded = {k: 3000 for k in ("request_timeout_ms", "bootstrap_timeout_ms")
                       if k in KafkaAdminClient.DEFAULT_CONFIG}
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="buzzwatch-probe", **bounded)
            try:
                admin.list_topics()
                return True
            finally:
                admin.close()
        except Exception:  # noqa: BLE001 - not ready yet; the deadline decides
            return False

    def log_tail(self, chars: int = 3000) -> str:
        """The first ERROR lines (the cause, before the stack traces) and the tail of both logs."""
        parts = []
        for path in (self.data_dir / "server.log", self.log_path):
            try:
                text = path.read_text(errors="replace").strip()
            except OSError:
                continue
            if text:
                errors = [ln for ln in text.splitlines() if " ERROR " in ln or " FATAL " in ln][:5]
                if errors:
                    parts.append(f"--- first errors in {path}\n" + "\n".join(ln[:500] for ln in errors))
                parts.append(f"--- {path} (tail)\n{text[-chars:]}")
        return "\n".join(parts) or f"(no broker log in {self.data_dir})"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (Kafka shuts down cleanly), SIGKILL after ``timeout_s``; idempotent."""
        atexit.unregister(self.stop)
        proc, self.proc = self.proc, None
        _terminate(proc, timeout_s)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _launch(self, libs: Path, *, attached: bool) -> None:
        """Start the broker process on the formatted data dir (``server.properties`` in it)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self._java(libs, "kafka.Kafka", str(self.data_dir / "server.properties"), heap=self.heap),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # own session: a Ctrl-C in the terminal reaches Python, which stops the broker in order
                start_new_session=True,
                preexec_fn=_die_with_parent if attached and sys.platform == "linux" else None,
            )

    def restart(self, down_s: float = 0.0, timeout_s: float = START_TIMEOUT_S) -> str:
        """Stop the broker cleanly, stay down ``down_s`` seconds, and start it again on the same
        ports and data (what an operator's rolling restart does to clients)."""
        if self.proc is None:
            raise KafkaError("the local broker is not started")
        proc, self.proc = self.proc, None
        _terminate(proc, STOP_TIMEOUT_S)
        time.sleep(down_s)
        self._launch(resolve_jars(), attached=threading.current_thread() is threading.main_thread())
        self._wait_ready(timeout_s)
        return self.bootstrap

    def __enter__(self) -> "LocalKafka":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the broker of `buzzwatch kafka up`: outlives the CLI, found again via state.json ------
def _read_state() -> dict | None:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None


def kafka_status() -> dict | None:
    """The running ``kafka up`` broker (pid alive, still kafka.Kafka, port answers), else None."""
    st = _read_state()
    if not st or not _pid_alive(st["pid"]) or not _is_our_broker(st["pid"], st["data_dir"]):
        return None
    if not port_answers(st["port"]):
        return None
    return st


def kafka_up(timeout_s: float = START_TIMEOUT_S) -> str:
    """Start a detached local broker (or find the one already running); returns its bootstrap."""
    with _locked("state"):
        st = kafka_status()
        if st:
            return st["bootstrap"]
        _stop_recorded_broker()  # a stale or half-dead one
        data = cache_dir() / "data"
        shutil.rmtree(data, ignore_errors=True)
        broker = LocalKafka(data_dir=data)
        bootstrap = broker.start(timeout_s=timeout_s, detach=True)
        st = {"bootstrap": bootstrap, "port": broker.port, "controller_port": broker.controller_port,
              "pid": broker.proc.pid, "version": KAFKA_VERSION, "data_dir": str(data),
              "log": str(data / "server.log"), "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = state_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=2))
        tmp.replace(state_file())
        broker.proc.returncode = 0  # detached on purpose: no "still running" warning at exit
        return bootstrap


def kafka_down(timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Stop the ``kafka up`` broker; True if one was running."""
    with _locked("state"):
        return _stop_recorded_broker(timeout_s)


def _stop_recorded_broker(timeout_s: float = STOP_TIMEOUT_S) -> bool:
    st = _read_state()
    if st is None:
        return False
    pid, stopped = st["pid"], False
    if _pid_alive(pid) and _is_our_broker(pid, st["data_dir"]):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid) and time.monotonic() < deadline + 10:
                time.sleep(0.1)
        stopped = True
    state_file().unlink(missing_ok=True)
    shutil.rmtree(st.get("data_dir") or cache_dir() / "data", ignore_errors=True)
    return stopped


def bootstrap_servers() -> str:
    """``$BUZZWATCH_KAFKA`` if set, else the broker of ``buzzwatch kafka up``, else an error."""
    env = os.environ.get("BUZZWATCH_KAFKA")
    if env:
        return env
    st = kafka_status()
    if st:
        return st["bootstrap"]
    raise KafkaError("no Kafka broker: run `buzzwatch kafka up` (a local one on 127.0.0.1) "
                     "or set BUZZWATCH_KAFKA=host:port")


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "status"
    try:
        if cmd == "resolve":
            if not jars_resolved():
                print(f"resolving Apache Kafka {KAFKA_VERSION} jars with Maven into {libs_dir()} ...", flush=True)
            t0 = time.monotonic()
            libs = resolve_jars()
            print(f"{libs} ({len(list(libs.glob('*.jar')))} jars, {time.monotonic() - t0:.1f} s)")
        elif cmd == "up":
            t0 = time.monotonic()
            bootstrap = kafka_up()
            print(f"{bootstrap} (ready in {time.monotonic() - t0:.1f} s)", file=sys.stderr)
            print(bootstrap)
        elif cmd == "down":
            print("stopped" if kafka_down() else "not running")
        elif cmd == "status":
            st = kafka_status()
            print(json.dumps(st, indent=2) if st else "down")
            return 0 if st else 1
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except KafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
