import os

import pytest
from django.db import connection

from tests import factories
from tests.browser import browser  # noqa: F401 (one Chromium per module)
from tests.faults import cache_on_own_redis, own_redis  # noqa: F401 (the fault tests' own redis-server)
from tests.smtp import smtp_sink  # noqa: F401 (a real SMTP server)
from tests.world import Hospital, build_hospital

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(available: bool, reason: str):
    """Skip on a newcomer's machine that lacks a service; under CI=true a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be available, not skipped)")
    pytest.skip(reason)


@pytest.fixture
def postgres():
    require_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def redis_url():
    from django.conf import settings

    url = settings.REDIS_URL
    if url:
        import redis

        try:
            redis.Redis.from_url(url).ping()
        except redis.RedisError as error:
            require_service(False, f"needs Redis at {url}: {error}")
    require_service(bool(url), "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/5")
    return url


@pytest.fixture
def hospital(db) -> Hospital:
    """The small hospital of tests/world.py: its catalogue and departments, no staff yet."""
    return build_hospital()


@pytest.fixture
def hr_admin(db):
    return factories.UserFactory(username="hilda", is_staff=True, is_superuser=True)


@pytest.fixture
def alice(db):
    """A staff member with a login."""
    user = factories.UserFactory(username="alice")
    return factories.EmployeeFactory(user=user, first_name="Alice", last_name="Adams", email="alice@example.org")


@pytest.fixture
def charlie(db):
    """A logged-in user with no role at all: should have no access to anything."""
    return factories.UserFactory(username="charlie")


@pytest.fixture
def celery_worker_process(transactional_db, postgres, redis_url, settings):
    """A real `celery worker` (two processes) in a subprocess, on the test database and a real Redis.

    Tasks sent from the test go through Redis to it; the test's data must be committed
    (this fixture implies transactional_db). Yields the app with eager mode switched off.
    """
    import subprocess
    import sys
    import tempfile
    import time

    import redis
    from django.conf import settings as django_settings

    from credtrack.celery import app

    redis.Redis.from_url(redis_url).flushdb()
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credtrack.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SITE_URL": django_settings.SITE_URL,
        "EMAIL_URL": os.environ.get("TEST_WORKER_EMAIL_URL", "dummymail://"),
        "CONN_MAX_AGE": "0",
    }
    log = tempfile.NamedTemporaryFile("w+", prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "credtrack",
            "worker",
            "-c",
            "2",
            "-P",
            "prefork",
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=redis_url, result_backend=redis_url)
    _reset_celery_connections(app)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start; its log: {log.name}")
        yield app
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.conf.update(saved)
        _reset_celery_connections(app)


def _reset_celery_connections(app):
    """Forget the app's broker pools and result backend so a changed configuration takes effect."""
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def hr(client, hr_admin):
    """A test client signed in as the HR admin."""
    client.force_login(hr_admin)
    return client
