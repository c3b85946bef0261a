"""The core (``buzzwatch``) never imports Kafka, Faust, HTTP clients or reads the clock."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import buzzwatch

CORE = Path(buzzwatch.__file__).parent
FORBIDDEN_MODULES = ("faust", "mode", "aiokafka", "kafka", "aiohttp", "requests", "prometheus_client")


def core_modules():
    return sorted(m.name for m in pkgutil.walk_packages([str(CORE)], prefix="buzzwatch."))


def test_importing_every_core_module_loads_no_framework():
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_MODULES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_core_never_reads_the_wall_clock():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in {("time", "time"), ("time", "time_ns"), ("datetime", "now"),
                                                  ("datetime", "utcnow"), ("time", "monotonic")}:
                    offenders.append(f"{path.relative_to(CORE)}:{node.lineno}")
    assert offenders == []
