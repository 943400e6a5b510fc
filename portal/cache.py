"""A cache serializer that cannot run code: JSON, with bytes tagged and base64-encoded.

Django's RedisCache pickles every value by default, and unpickling runs whatever the bytes say. Anyone who
can write one key into Redis (a smuggled command, a shared Redis) would run code in the web process
(issue 13). With this serializer a value is data or nothing: what is not valid JSON reads as a miss.
Integers stay raw, as in Django's own serializer, so that incr() stays atomic.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

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
