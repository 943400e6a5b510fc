"""The cache never unpickles: a value planted in Redis (a smuggled SET, a shared Redis) is data or a miss,
never code (portal/cache.py; issue 13)."""

from __future__ import annotations

import pickle

import pytest
from django.conf import settings
from django.core.cache import cache

from portal.cache import JSONSerializer

RAN: list[str] = []


def _mark() -> None:
    RAN.append("unpickled")


class Exploit:
    def __reduce__(self):  # unpickling calls _mark(): what an attacker's payload would do
        return (_mark, ())


@pytest.fixture(autouse=True)
def _reset():
    RAN.clear()
    yield
    RAN.clear()


def test_the_serializer_reads_a_pickle_as_a_miss_without_running_it():
    assert JSONSerializer().loads(pickle.dumps(Exploit())) is None
    assert RAN == []


def test_the_serializer_round_trips_what_the_portal_caches():
    serializer = JSONSerializer()
    jpeg = b"\xff\xd8\xff\xe0 a snapshot \x00\xff\xd9"
    for value in (jpeg, "2026-01-01T00:00:00+09:00", {"a": [1, 2.5, None, True]}, 0, 41):
        assert serializer.loads(serializer.dumps(value)) == value
    assert serializer.dumps(41) == 41  # raw, so that incr() stays atomic
    with pytest.raises(TypeError):
        serializer.dumps(object())


def test_the_redis_cache_uses_it():
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("no Redis: REDIS_URL is not set, the embedded file cache is in use")
    assert settings.CACHES["default"]["OPTIONS"]["serializer"] == "portal.cache.JSONSerializer"


def test_a_pickle_planted_in_redis_under_the_snapshot_key_is_not_unpickled():
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("no Redis: REDIS_URL is not set, the embedded file cache is in use")
    import redis

    key = "recording:snapshot:987654"
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    raw.set(cache.make_key(key), pickle.dumps(Exploit()), ex=30)  # what a smuggled SET would write
    try:
        assert cache.get(key) is None
        assert RAN == []
        cache.set(key, b"\xff\xd8 jpeg", 30)  # and a real snapshot still goes through
        assert cache.get(key) == b"\xff\xd8 jpeg"
    finally:
        raw.delete(cache.make_key(key))


def test_the_redis_cache_keeps_one_client_and_threads_share_it():
    """Django's RedisCache builds a client per operation (portal/cache.py): here one per pool, which threads
    may share, each reading back what it wrote."""
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("no Redis: REDIS_URL is not set, the embedded file cache is in use")
    from concurrent.futures import ThreadPoolExecutor

    from portal.cache import RedisCache

    assert settings.CACHES["default"]["BACKEND"] == "portal.cache.RedisCache"
    shared = RedisCache(settings.CACHES["default"]["LOCATION"], {"OPTIONS": {"serializer": JSONSerializer}})
    client = shared._cache.get_client()
    assert shared._cache.get_client(write=True) is client

    def round_trip(n: int) -> bool:
        key = f"shared-client-test:{n}"
        shared.set(key, {"n": n}, 30)
        return shared.get(key) == {"n": n} and shared.delete(key)

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, range(200)))
    assert shared._cache.get_client() is client
