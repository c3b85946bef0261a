"""Fixtures for the integration tests that need real Prometheus-ecosystem binaries."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from .harness import free_port


def alertmanager_binary() -> str:
    for name in ("prometheus-alertmanager", "alertmanager"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Alertmanager is not installed (Debian package prometheus-alertmanager; `make test` installs it)", pytrace=False)


@pytest.fixture
def alertmanager():
    tmp = Path(tempfile.mkdtemp(prefix="buzzwatch-am-"))
    port, cluster = free_port(), free_port()
    (tmp / "am.yml").write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    proc = subprocess.Popen(
        [alertmanager_binary(), f"--config.file={tmp / 'am.yml'}", f"--storage.path={tmp / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", f"--cluster.listen-address=127.0.0.1:{cluster}"],
        stdout=subprocess.DEVNULL, stderr=(tmp / "am.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/-/ready", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"alertmanager exited: {(tmp / 'am.log').read_text()[-2000:]}")
                time.sleep(0.3)
        else:
            pytest.fail("alertmanager did not become ready in 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


