"""/healthz: what a load balancer or monitor acts on (django-health-check). 200 when every check passes,
503 when any fails, with one line per check in the body (`?format=json` or `text` for machines)."""

import dataclasses
from collections.abc import Callable

import kombu.exceptions
from celery import current_app
from django.conf import settings
from health_check.base import HealthCheck
from health_check.contrib import redis as redis_check
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


def _redis_client():
    # Its own short-lived client: the cache's client degrades to memory (apps/core/cache.py) and would hide
    # exactly the outage this check is for.
    from redis.asyncio import Redis as AsyncRedis

    return AsyncRedis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


@dataclasses.dataclass
class Redis(redis_check.Redis):
    """Redis answers: the cache (charts, API throttling) and, here, the broker's server too."""

    client_factory: Callable = dataclasses.field(repr=False, default=_redis_client)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (queued recomputes, reminders and scans go through it)."""

    def run(self):
        try:
            with current_app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except (OSError, kombu.exceptions.OperationalError) as error:
            raise ServiceUnavailable("the broker refuses connections") from error


class HealthView(HealthCheckView):
    def get_checks(self):
        # Read per request, so the settings in force (tests, a reload) decide what is checked.
        self.checks = settings.HEALTH_CHECKS
        return super().get_checks()

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            # A failed check is the service being unavailable, not a crash of this view.
            response.status_code = 503
        return response
