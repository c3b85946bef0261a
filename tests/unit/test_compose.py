"""docker-compose.yml cannot run here, so it is checked for consistency instead."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_required_services_exist():
    assert {"kafka", "topics", "worker", "prometheus", "alertmanager", "grafana"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:4.")


def test_images_are_pinned():
    for name, svc in SERVICES.items():
        if "image" in svc:
            assert ":" in svc["image"] and not svc["image"].endswith(":latest"), name


def test_bind_mounts_point_at_files_in_the_repo():
    for name, svc in SERVICES.items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name}: {src} does not exist"


def test_published_ports_are_unique_and_worker_has_none():
    ports = [p.split(":")[0] for svc in SERVICES.values() for p in svc.get("ports", [])]
    assert len(ports) == len(set(ports))
    assert "ports" not in SERVICES["worker"]  # scalable: --scale worker=N


# A value for each variable the deployment sets, to show that the worker honours it.
EXAMPLE_VALUES = {
    "BUZZWATCH_KAFKA": "kafka.example:9092",
    "BUZZWATCH_APP_ID": "other-app",
    "BUZZWATCH_CONFIG": str(ROOT / "config" / "buzzwatch.toml"),
    "BUZZWATCH_WEB_HOST": "0.0.0.0",
    "BUZZWATCH_WEB_PORT": "7001",
    "BUZZWATCH_PARTITIONS": "12",
    "BUZZWATCH_ALERTMANAGER_URL": "http://am.example:9093",
    "BUZZWATCH_WEBHOOK_URL": "https://hooks.example/T000",
    "BUZZWATCH_GRAFANA_URL": "https://grafana.example",
    "BUZZWATCH_DATA_DIR": "/var/lib/buzzwatch",
    "BUZZWATCH_TOPIC_PREFIX": "prod.",
    "BUZZWATCH_ALERTS_TOPIC": "alerts.custom",
    "BUZZWATCH_INSTANCE_ID": "worker-7",
    "BUZZWATCH_TEAMS_URL": "https://teams.example/workflows/1",
    "BUZZWATCH_JSON_WEBHOOK_URL": "https://receiver.example/hook",
    "BUZZWATCH_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "BUZZWATCH_PAGE_URL": "https://buzzwatch.example",
}
# variables that only make sense with another one set too
COMPANIONS = {"BUZZWATCH_JSON_WEBHOOK_URL": ("BUZZWATCH_WEBHOOK_SECRET",)}


def deployment_variables() -> set[str]:
    names = set()
    for name in ("worker", "topics"):
        names |= set(SERVICES[name].get("environment", {}))
    names |= {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()
              if "=" in line and not line.startswith("#")}
    return names


@pytest.mark.parametrize("name", sorted(deployment_variables()))
def test_every_variable_the_deployment_sets_changes_the_settings(name, tmp_path):
    from streams.settings import load_settings

    config = tmp_path / "b.toml"
    config.write_text('[[brands]]\nname = "Acme"\n')
    assert name in EXAMPLE_VALUES, f"{name}: add an example value (and make sure the worker reads it)"
    companions = {c: EXAMPLE_VALUES[c] for c in COMPANIONS.get(name, ())}
    base = load_settings(config, env=companions)
    changed = load_settings(config, env={**companions, name: EXAMPLE_VALUES[name]})
    if name == "BUZZWATCH_CONFIG":  # the file given wins over the env var: compare the path itself
        changed = load_settings(None, env={name: EXAMPLE_VALUES[name]})
        assert changed.config_path == Path(EXAMPLE_VALUES[name])
    else:
        assert changed != base, f"{name} is set by the deployment but changes nothing"


def test_prometheus_scrapes_the_worker_service_and_mounts_rules():
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "buzzwatch-worker")
    assert job["dns_sd_configs"][0]["names"] == ["worker"]
    assert job["dns_sd_configs"][0]["port"] == 6066
    mounts = SERVICES["prometheus"]["volumes"]
    assert any(m.endswith(":/etc/prometheus/prometheus.yml:ro") for m in mounts)
    assert any(m.startswith("./deploy/prometheus/rules:") for m in mounts)


def test_grafana_gets_the_provisioning_and_the_dashboards():
    mounts = SERVICES["grafana"]["volumes"]
    assert "./dashboards/provisioning/datasources:/etc/grafana/provisioning/datasources:ro" in mounts
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/buzzwatch.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert any(m.startswith("./dashboards:") and m.split(":")[1] == path for m in mounts)


def test_dockerfile_builds_the_packages_the_worker_needs():
    docker = (ROOT / "Dockerfile").read_text()
    for part in ("buzzwatch", "streams", "agents", "config"):
        assert f"COPY {part}" in docker
    assert 'ENTRYPOINT ["buzzwatch"]' in docker


# --- the SASL_SSL option (docker-compose.sasl-ssl.yml over docker-compose.yml) -------------
SECURE = yaml.safe_load((ROOT / "docker-compose.sasl-ssl.yml").read_text())


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def merged_env(service: str) -> dict[str, str]:
    """A service's environment with the option applied (compose merges the maps by key)."""
    env = {**SERVICES[service].get("environment", {}), **SECURE["services"][service].get("environment", {})}
    return {k: interpolate(v) for k, v in env.items()}


def image_properties(env: dict) -> dict[str, str]:
    """The server properties the apache/kafka image renders from KAFKA_* variables (its
    utility ConvertKey: one _ is ".", __ is "_", ___ is "-"; entries whose value holds "=" are dropped)."""
    props = {}
    for key, value in env.items():
        if not key.startswith("KAFKA_") or "=" in str(value):
            continue
        name = re.sub(r"[^_]_[^_]", lambda m: m.group(0).replace("_", "."), key[len("KAFKA_"):])
        props[name.replace("___", "-").replace("__", "_").lower()] = str(value)
    return props


def test_secure_option_gives_kafka_a_scram_listener_the_workers_use():
    props = image_properties(merged_env("kafka"))
    advertised = dict(item.split("://") for item in props["advertised.listeners"].split(","))
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    secure = [name for name, protocol in protocols.items() if protocol == "SASL_SSL"]
    assert len(secure) == 1
    listener = secure[0].lower()
    worker = merged_env("worker")
    assert advertised[secure[0]] == worker["BUZZWATCH_KAFKA"] == merged_env("topics")["BUZZWATCH_KAFKA"]
    assert props[f"listener.name.{listener}.sasl.enabled.mechanisms"] == worker["BUZZWATCH_KAFKA_SASL_MECHANISM"]
    mechanism = worker["BUZZWATCH_KAFKA_SASL_MECHANISM"].lower()
    assert props[f"listener.name.{listener}.{mechanism}.sasl.jaas.config"].endswith("ScramLoginModule required;")
    assert props["ssl.keystore.type"] == "PEM"
    assert props["ssl.keystore.location"] == "/run/secrets/kafka_keystore" in [
        f"/run/secrets/{s}" for s in SECURE["services"]["kafka"]["secrets"]]
    # the image's start script demands JKS keystore variables for an advertised "SSL://" listener
    assert "SSL://" not in props["advertised.listeners"] and "SASL_" not in props["advertised.listeners"]


def test_secure_option_creates_the_user_the_workers_log_in_as():
    users = SECURE["services"]["kafka-users"]
    command = " ".join(users["command"])
    assert "SCRAM-SHA-512=[password=$$(cat /run/secrets/kafka_sasl_password)]" in command
    assert interpolate(users["environment"]["BUZZWATCH_KAFKA_SASL_USERNAME"]) == merged_env("worker")["BUZZWATCH_KAFKA_SASL_USERNAME"]
    assert "kafka_sasl_password" in users["secrets"]
    assert SECURE["services"]["topics"]["depends_on"]["kafka-users"]["condition"] == "service_completed_successfully"


def test_secure_option_worker_settings_load_from_its_environment_and_secret_files(tmp_path):
    from streams.local_certs import compose_secrets
    from streams.settings import load_settings

    made = compose_secrets(tmp_path / "secrets")
    files = {name: Path(spec["file"]) for name, spec in SECURE["secrets"].items()}
    assert all(str(f).startswith("deploy/secrets/") for f in files.values())
    assert {f.name for f in files.values()} == {p.name for p in made}  # the generator makes every one
    for service in ("worker", "topics"):
        mounted = {f"/run/secrets/{s}": str(tmp_path / "secrets" / files[s].name) for s in SECURE["services"][service]["secrets"]}
        env = merged_env(service)
        for key, value in env.items():
            if key.endswith("_FILE") or value.startswith("/run/secrets/"):
                assert value in mounted, f"{service}: {key}={value} is not a secret it mounts"
        env = {k: mounted.get(v, v) for k, v in env.items()} | {"BUZZWATCH_CONFIG": str(ROOT / "config" / "buzzwatch.toml")}
        sec = load_settings(env=env).kafka_security
        assert (sec.protocol, sec.sasl_mechanism, sec.sasl_username) == ("SASL_SSL", "SCRAM-SHA-512", "buzzwatch")
        assert sec.sasl_password.get_secret_value() == (tmp_path / "secrets" / "kafka_sasl_password").read_text()
        assert sec.ssl_context() is not None


def test_no_secret_value_is_written_in_a_compose_environment():
    for doc in (COMPOSE, SECURE):
        for name, svc in doc["services"].items():
            for key, value in (svc.get("environment") or {}).items():
                if any(word in key for word in ("PASSWORD", "WEBHOOK_URL", "SECRET", "TOKEN")) and not key.endswith("_FILE"):
                    assert interpolate(value) == "", f"{name}: {key} carries a value; use {key}_FILE and a secret"


def test_secure_option_env_names_are_ones_the_worker_reads():
    read = set(re.findall(r"BUZZWATCH_[A-Z_]+", (ROOT / "streams" / "settings.py").read_text()))
    for name in ("worker", "topics"):
        assert set(SECURE["services"][name]["environment"]) <= read
