"""Fault-test helpers: a Redis server of the test's own (never the shared one) and bounded waits."""

import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(probe, *, timeout: float = 60, interval: float = 0.1, what: str = "condition"):
    """Poll `probe` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A redis-server on a free loopback port that a test may stop and start again (same port, empty data)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="credtrack-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        from tests.conftest import require_service

        require_service(False, "needs redis-server on PATH for fault tests")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def cache_on_own_redis(settings, own_redis):
    """This process's cache (chart cache, throttles) on the test's own redis-server, with short timeouts:
    stopping that server is Redis down for the cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.FallbackRedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return own_redis


class Worker:
    """A real `celery worker` process on the test database and a given Redis, that a test may SIGKILL."""

    def __init__(self, *, redis_url: str, name: str, env: dict[str, str] | None = None, concurrency: int = 2):
        import os
        import sys

        from django.db import connection

        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"celery-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "credtrack", "worker", "-c", str(concurrency), "-P", "prefork"]
            + ["-l", "INFO", "--without-gossip", "--without-mingle", "-n", f"{name}-{os.getpid()}@%h"],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "credtrack.settings",
                "DEBUG": "true",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "EMAIL_URL": "dummymail://",
                "CONN_MAX_AGE": "0",
                **(env or {}),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its pool children die with it when the test kills the group
        )

    def logged(self, text: str) -> bool:
        with open(self.log.name) as log:
            return text in log.read()

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a lost machine or the OOM killer would."""
        import os
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        import os
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
