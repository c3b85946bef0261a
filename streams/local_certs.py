"""Throw-away TLS material for the local broker, the tests and the compose SASL_SSL option:
a CA, and certificates it signs.

Made with the ``openssl`` command (present wherever Python's ssl module is), so no extra Python
dependency; keys are EC P-256, unencrypted PKCS#8 (what Kafka's ``PEM`` keystore type reads),
valid for two days, and the certificates name ``127.0.0.1`` and ``localhost`` so clients
verify the broker's hostname as they would in production. For development and tests only:
production certificates come from the operator's PKI.

    python -m streams.local_certs compose deploy/secrets   # the files docker-compose.sasl-ssl.yml mounts
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DAYS = 2


class CertError(BuzzwatchError, RuntimeError):
    """openssl is missing or refused to make a key or certificate."""


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path

    def bundle(self, path: Path) -> Path:
        """Key then certificate in one file (Kafka's ``ssl.keystore.type=PEM`` location)."""
        path.write_bytes(self.key.read_bytes() + self.cert.read_bytes())
        path.chmod(0o600)
        return path


def _openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        raise CertError("openssl is not installed (apt-get install openssl)")
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise CertError(f"openssl {args[0]} failed: {proc.stderr.strip()[-1000:]}")


def _key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path), cwd=path.parent)
    path.chmod(0o600)


def make_ca(directory: Path, name: str = "ca") -> KeyPair:
    """A self-signed CA ``<name>.pem`` / ``<name>.key`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(directory / f"{name}.pem", directory / f"{name}.key")
    _key(pair.key)
    _openssl("req", "-x509", "-new", "-key", str(pair.key), "-out", str(pair.cert), "-days", str(DAYS),
             "-subj", f"/CN=Buzzwatch test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return pair


def issue(ca: KeyPair, directory: Path, name: str, *, server: bool, hosts: tuple[str, ...] = ()) -> KeyPair:
    """A certificate for ``name`` signed by ``ca`` (server: for 127.0.0.1, localhost and
    ``hosts``; else a client certificate)."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(directory / f"{name}.pem", directory / f"{name}.key")
    csr = directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    _key(pair.key)
    _openssl("req", "-new", "-key", str(pair.key), "-out", str(csr), "-subj", f"/CN={name}", cwd=directory)
    usage = "serverAuth" if server else "clientAuth"
    ext.write_text(f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
                   + (f"subjectAltName=IP:127.0.0.1,DNS:localhost{''.join(f',DNS:{h}' for h in hosts)}\n"
                      if server else ""))
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
             "-out", str(pair.cert), "-days", str(DAYS), "-extfile", str(ext), cwd=directory)
    csr.unlink()
    ext.unlink()
    return pair


COMPOSE_FILES = ("ca.pem", "kafka-keystore.pem", "kafka_sasl_password")


def compose_secrets(directory: Path, broker_host: str = "kafka") -> list[Path]:
    """The secret files ``docker-compose.sasl-ssl.yml`` mounts: the CA the workers trust, the
    broker's key + certificate (for ``broker_host``) as one PEM keystore, and a random SCRAM
    password (kept if the file exists, so a re-run does not lock the workers out)."""
    directory.mkdir(parents=True, exist_ok=True)
    work = directory / ".work"
    ca = make_ca(work)
    broker = issue(ca, work, "kafka", server=True, hosts=(broker_host,))
    (directory / "ca.pem").write_bytes(ca.cert.read_bytes())
    # compose (without swarm) bind-mounts secret files as they are: the apache/kafka image runs
    # as a non-root user, so the broker's keystore must be readable by others on this host
    broker.bundle(directory / "kafka-keystore.pem").chmod(0o644)
    shutil.rmtree(work)  # the CA key is not kept: a re-run makes a new CA (and restarts trust)
    password = directory / "kafka_sasl_password"
    if not password.exists():
        password.write_text(secrets.token_urlsafe(24))  # no newline; letters, digits, - and _
        password.chmod(0o600)
    return [directory / name for name in COMPOSE_FILES]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "compose":
        print("usage: python -m streams.local_certs compose DIRECTORY", file=sys.stderr)
        return 2
    try:
        for path in compose_secrets(Path(argv[1])):
            print(path)
    except CertError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
