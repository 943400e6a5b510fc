"""The Redis cache: a serializer that cannot run code, and one client per connection pool.

The serializer is JSON, with bytes tagged and base64-encoded.

Django's RedisCache pickles every value by default, and unpickling runs whatever the bytes say. Anyone who
can write one key into Redis (a smuggled command, a shared Redis) would run code in the web process
(issue 13). With this serializer a value is data or nothing: what is not valid JSON reads as a miss.
Integers stay raw, as in Django's own serializer, so that incr() stays atomic.

Django's RedisCache builds a new `redis.Redis` for every operation, and redis-py fills a table of about 160
response callbacks each time: on the 2-CPU VM that was about 0.13 ms per get, as much as the round trip
itself, and a camera-list request makes two (docs/performance.md). `RedisCache` here keeps one client per
pool; a redis-py client is safe to share between threads, and its pool re-opens its connections after a fork.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)
_BYTES = "__bytes__"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"the cache stores JSON values and bytes only, not {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    return obj


class JSONSerializer:
    """For CACHES OPTIONS "serializer" (django.core.cache.backends.redis.RedisCache)."""

    def dumps(self, obj: Any) -> bytes | int:
        if type(obj) is int:
            return obj
        return json.dumps(obj, default=_encode, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return int(data)
        except ValueError:
            pass
        try:
            return json.loads(data, object_hook=_decode)
        except (UnicodeDecodeError, ValueError):
            logger.warning("cache: a value that is not JSON was ignored (%d bytes)", len(data))
            return None


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}  # Django's pool (kept for the process) -> its one client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """For CACHES BACKEND: Django's RedisCache, with one `redis.Redis` per pool rather than one per operation."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
