"""With Redis stopped, every API read still answers and throttling still holds (per process, from memory).

The Redis here is the test's own server (tests/faults.py), stopped and started by the test.
"""

import time

import pytest

from apps.api import views
from tests.api.test_permissions import LISTS, V1, detail_urls

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.redis]


def test_every_read_answers_with_redis_stopped(api, scanned, hr_admin, cache_on_own_redis):
    api.force_login(hr_admin)
    cache_on_own_redis.stop()

    started = time.monotonic()
    for name in LISTS:
        assert api.get(f"{V1}/{name}/").status_code == 200, name
    for url in detail_urls(scanned).values():
        assert api.get(url).status_code == 200, url
    assert api.get(f"{V1}/employees/{scanned.alice.pk}/compliance/?forecast=30").status_code == 200

    assert time.monotonic() - started < 20  # one short connect timeout per retry window, not per request


def test_throttling_still_holds_with_redis_stopped(api, world, hr_admin, cache_on_own_redis, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/minute"}}
    api.force_login(hr_admin)
    cache_on_own_redis.stop()

    answers = [api.get(f"{V1}/roles/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]


def test_the_cache_is_back_on_redis_once_it_returns(api, world, hr_admin, cache_on_own_redis, settings, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr("apps.core.cache.RETRY_SECONDS", 0.0)
    cache_on_own_redis.stop()
    cache.set("k", "memory")
    cache_on_own_redis.start()

    cache.set("k", "redis")

    import redis

    assert redis.Redis.from_url(cache_on_own_redis.url).get(cache.make_and_validate_key("k")) is not None


def test_an_unexpected_failure_answers_500_in_the_error_shape(api, world, hr_admin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.selectors, "employee_compliance", broken)
    api.force_login(hr_admin)

    response = api.get(f"{V1}/employees/{world.alice.pk}/compliance/")

    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "code": "server_error",
        "detail": "Something went wrong on our side.",
        "fields": {},
    }
