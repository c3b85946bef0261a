"""A worker refuses to start on topics whose partition counts it cannot work with, and says
which topic, what it has, what it needs and what to do (exit 2), instead of going wrong.

Measured before the check (one run each, /tmp scripts of stop 23): with a 6-partition raw
topic and ``partitions = 4`` the worker ran, with nothing waiting for raw partitions 4 and 5's
event time (totals happened to be exact on an in-order backlog); with a 2-partition
brand-state changelog left by an earlier run, it consumed 9,920 mentions and then crashed
(``AssertionError: Unrecognized partition`` writing the state, exit 1), as every restart would."""

from __future__ import annotations

import time

import pytest

from streams.topics import TopicSpec, create_topics

from .harness import buzzwatch, free_port, unique, worker_env, write_config

pytestmark = [pytest.mark.kafka]

REFUSED_WITHIN_S = 60


def refused_start(env: dict) -> tuple[str, float]:
    started = time.monotonic()
    proc = buzzwatch("worker", env=env, timeout=REFUSED_WITHIN_S + 30, check=False)
    took = time.monotonic() - started
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    return proc.stderr, took


def setup(tmp_path, kafka_bootstrap, tag: str) -> tuple[dict, str, str]:
    config = write_config(tmp_path / "buzzwatch.toml", partitions=4)
    prefix, app_id = unique(tag) + ".", unique(tag + "app")
    env = worker_env(config, kafka_bootstrap, app_id, prefix, free_port(), tmp_path / "data")
    return env, prefix, app_id


def test_a_raw_topic_with_more_partitions_than_configured_is_refused_at_start(tmp_path, kafka_bootstrap):
    env, prefix, _ = setup(tmp_path, kafka_bootstrap, "lay")
    create_topics(kafka_bootstrap, [TopicSpec(prefix + "mentions", 6)])
    says, took = refused_start(env)
    assert f"topic '{prefix}mentions' has 6 partitions where this worker needs 4" in says
    assert "set [topics] partitions to the topic's count" in says
    assert took < REFUSED_WITHIN_S
    described = buzzwatch("topics", "describe", env=env, check=False)  # what the operator looks at next
    assert described.returncode == 1, described.stderr
    assert f"topic '{prefix}mentions' has 6 partitions where this worker needs 4" in described.stdout


def test_state_kept_with_another_partition_count_is_refused_at_start(tmp_path, kafka_bootstrap):
    env, _, app_id = setup(tmp_path, kafka_bootstrap, "lcl")
    create_topics(kafka_bootstrap, [TopicSpec(f"{app_id}-brand_state-changelog", 2, 1, {"cleanup.policy": "compact"})])
    says, took = refused_start(env)
    assert f"topic '{app_id}-brand_state-changelog' has 2 partitions where this worker needs 4" in says
    assert "rebuild under a new app_id" in says
    assert took < REFUSED_WITHIN_S


def test_the_topics_it_creates_pass_its_own_check(tmp_path, kafka_bootstrap):
    """`buzzwatch topics create`, then the check a worker runs: nothing to say."""
    from streams.settings import load_settings
    from streams.worker import prepare_topics

    env, _, _ = setup(tmp_path, kafka_bootstrap, "lok")
    buzzwatch("topics", "create", env=env)
    prepare_topics(load_settings(env["BUZZWATCH_CONFIG"], env=env))  # raises TopicLayoutError otherwise
    buzzwatch("topics", "describe", env=env)  # exit 0: nothing to say (check=True)
