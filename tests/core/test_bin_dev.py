"""bin/dev checks its port before any setup: a taken port is said at once, not after a minute of installing."""

import os
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

BIN_DEV = Path(settings.BASE_DIR) / "bin" / "dev"


@pytest.fixture
def taken_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def run_dev(*args: str, tmp_path, **env) -> subprocess.CompletedProcess:
    """bin/dev with its setup pointed at a database that must never be created."""
    database = tmp_path / "never-created.sqlite3"
    return subprocess.run(
        [str(BIN_DEV), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}", **env},
    )


def test_a_taken_port_is_refused_before_any_setup(taken_port, tmp_path):
    result = run_dev("--port", str(taken_port), tmp_path=tmp_path)

    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert "bin/dev --port 8001" in result.stderr
    assert "==>" not in result.stdout + result.stderr  # no step of the setup started
    assert not (tmp_path / "never-created.sqlite3").exists()


def test_the_port_can_come_from_the_environment(taken_port, tmp_path):
    result = run_dev(tmp_path=tmp_path, PORT=str(taken_port))

    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in result.stderr


@pytest.mark.parametrize("port", ["eighty", "0", "70000", ""])
def test_a_port_that_is_no_port_is_refused(port, tmp_path):
    result = run_dev("--port", port, tmp_path=tmp_path)

    assert result.returncode == 2
    assert "the port must be a number from 1 to 65535" in result.stderr


def test_an_unknown_argument_shows_the_usage(tmp_path):
    result = run_dev("--prot", "8001", tmp_path=tmp_path)

    assert result.returncode == 2
    assert "Usage: bin/dev [--port N] [EMPLOYEES]" in result.stderr
