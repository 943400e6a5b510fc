"""docker-compose.yml describes production: no Docker engine runs here, so its content is checked."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.waiting import patience

COMPOSE = Path(settings.BASE_DIR) / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_it_runs_web_worker_ingest_beat_postgres_and_redis(compose):
    assert set(compose["services"]) == {"web", "live", "worker", "ingest", "beat", "postgres", "redis"}
    assert (
        "daphne" in compose["services"]["live"]["command"] and "portal.asgi" in compose["services"]["live"]["command"]
    )
    assert compose["services"]["ingest"]["command"] == "python manage.py run_ingest"
    assert "gunicorn" in compose["services"]["web"]["command"]
    assert "celery -A portal worker" in compose["services"]["worker"]["command"]
    assert "celery -A portal beat" in compose["services"]["beat"]["command"]


def test_gunicorn_runs_a_worker_per_cpu_plus_one_unless_web_concurrency_says(compose, monkeypatch):
    """gunicorn.conf.py decides the web role's workers (docs/deployment.md): neither the image's CMD nor
    docker-compose's web service overrides it with a --workers of their own."""
    conf = str(Path(settings.BASE_DIR) / "gunicorn.conf.py")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert runpy.run_path(conf)["workers"] == len(os.sched_getaffinity(0)) + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    assert runpy.run_path(conf)["workers"] == 7
    dockerfile = (Path(settings.BASE_DIR) / "Dockerfile").read_text()
    for command in (compose["services"]["web"]["command"], dockerfile[dockerfile.index("\nCMD ") :]):
        assert "gunicorn" in command and "--workers" not in command and " -w " not in command, command


@pytest.mark.parametrize("service", ["web", "live", "worker", "ingest", "beat"])
def test_app_services_get_production_settings_and_real_services(compose, service):
    env = compose["services"][service]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.prod"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379/0"
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
        assert ":?" in env[secret], f"{secret} must be required, not defaulted"


def _check(settings_module: str, **env) -> subprocess.CompletedProcess:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    full_env.update(DJANGO_SETTINGS_MODULE=settings_module, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=patience(120),
    )


PRODUCTION = {
    "SECRET_KEY": "k3-Vq9_zT1pW8rLm2Xc7NbF4hJ6dS0yA5eG!uR+oI@wK#tEp7Zq",
    "FIELD_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "ALLOWED_HOSTS": "portal.example.com",
    "REDIS_URL": "redis://:0f3a9c1e7b2d4a6f@127.0.0.1:6379/0",
}


def test_production_settings_pass_check_deploy():
    result = _check("portal.settings.prod", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_redis_url_without_a_password():
    result = _check("portal.settings.prod", **{**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode != 0
    assert "REDIS_URL must carry a password" in result.stderr


def test_redis_requires_the_password_in_compose(compose):
    redis = compose["services"]["redis"]
    assert "requirepass $$REDIS_PASSWORD" in " ".join(redis["command"])
    assert ":?" in redis["environment"]["REDIS_PASSWORD"], "the Redis password must be required, not defaulted"


def test_a_malformed_allowed_network_stops_start_up_with_its_name():
    result = _check("portal.settings.dev", CAMERA_ALLOWED_NETWORKS="10.0.0.0/33")
    assert result.returncode != 0
    assert "CAMERA_ALLOWED_NETWORKS" in result.stderr


def test_production_allows_only_public_camera_addresses_by_default(compose):
    assert compose["services"]["ingest"]["environment"]["CAMERA_ALLOWED_NETWORKS"] == "${CAMERA_ALLOWED_NETWORKS:-}"
    env = {k: v for k, v in os.environ.items() if k != "CAMERA_ALLOWED_NETWORKS"}
    code = "from portal.settings import outbound; print(outbound.CAMERA_ALLOWED_NETWORKS)"
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
