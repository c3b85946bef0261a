"""Throw-away TLS material for the local broker and the tests: a CA, and certificates it signs.

Made with the ``openssl`` command (present wherever Python's ssl module is), so no extra Python
dependency; keys are EC P-256, unencrypted PKCS#8 (what Kafka's ``PEM`` keystore type reads),
valid for two days, and the certificates name ``127.0.0.1`` and ``localhost`` so clients
verify the broker's hostname as they would in production. For development and tests only:
production certificates come from the operator's PKI.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = 2


class CertError(RuntimeError):
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


def issue(ca: KeyPair, directory: Path, name: str, *, server: bool) -> KeyPair:
    """A certificate for ``name`` signed by ``ca`` (server: for 127.0.0.1/localhost; else a client)."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(directory / f"{name}.pem", directory / f"{name}.key")
    csr = directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    _key(pair.key)
    _openssl("req", "-new", "-key", str(pair.key), "-out", str(csr), "-subj", f"/CN={name}", cwd=directory)
    usage = "serverAuth" if server else "clientAuth"
    ext.write_text(f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
                   + ("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else ""))
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
             "-out", str(pair.cert), "-days", str(DAYS), "-extfile", str(ext), cwd=directory)
    csr.unlink()
    ext.unlink()
    return pair
