"""A Redis cache that degrades instead of failing: with Redis unreachable, this process uses its own memory.

Everything cached here can be recomputed (chart SVGs) or is a budget that may be counted per process for
a while (API throttling): a page must never answer 500 because the cache is down. After a failure the
process stops asking Redis for RETRY_SECONDS, so a dead Redis costs one short timeout per window, not
one per request; then it tries again and is back on Redis as soon as Redis answers.
"""

import logging
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._local = LocMemCache(f"credtrack-fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._redis_down_until = 0.0

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._redis_down_until


def _degrading(name: str):
    def method(self, *args, **kwargs):
        if not self.degraded:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except redis.RedisError as error:
                self._redis_down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("cache: Redis unavailable (%s); using this process's memory for now", error)
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    return method


# get_or_set and friends are built on these in BaseCache, so they degrade too.
_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)
for _name in _OPERATIONS:
    setattr(FallbackRedisCache, _name, _degrading(_name))
