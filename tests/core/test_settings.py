import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    # A production process starts without the test run's settings or the browser tests' async override.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "credtrack.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # a fresh manage.py process
def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-a-long-random-production-secret-0123456789",
        ALLOWED_HOSTS="credtrack.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIME_ZONE", "Mars/Olympus", "not an IANA time zone"),
        ("DEBUG", "maybe", "DEBUG"),
        ("SITE_URL", "credtrack", "SITE_URL"),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_clear_message(name, value, message):
    result = run_manage("check", **{"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_liveness_check_answers(client, db):
    assert client.get("/healthz/live").content == b"ok"
