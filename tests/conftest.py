import os

import pytest
from django.db import connection

from tests import factories

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
