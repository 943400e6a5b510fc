"""The monthly embed call quota, the per-address allowance and the per-key budget (docs/product.md §6.11).

Every image an embed or generated site shows is one call, counted per operator and calendar month
in Asia/Tokyo. Counting must be exact under concurrency and must not make the image request wait
on a database write lock, so with Redis:

* the live, authoritative count of (operator, month) is one Redis integer; a Lua script checks the
  quota and increments in one atomic step (no lost or double counts, never past the quota);
* `flush()` (Celery beat, every minute) COPIES each counter into PostgreSQL with
  `count = GREATEST(count, redis value)`. It never moves or resets anything in Redis, so a flusher
  killed at any point loses nothing and running it twice changes nothing;
* a counter missing from Redis (first call of the month, or Redis restarted empty) is seeded from
  the PostgreSQL row (`SET NX` inside the script), so counting resumes from the last flush.

Without Redis (the embedded demo) the request updates the PostgreSQL / SQLite row itself with one
conditional `UPDATE … SET count = count + 1 WHERE count < quota`.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from licensing.selectors import embed_call_quota
from portal.client_ip import rate_limit_bucket
from tenants.models import Operator

from .models import CallCount

TOKYO = ZoneInfo("Asia/Tokyo")
KEY_PREFIX = "embed:calls:"
RATE_PREFIX = "embed:rate:"
KEY_RATE_PREFIX = "embed:keyrate:"
LOW_REMAINING = 5_000  # fewer than this many calls left: the login notice (docs/product.md §6.11)
QUOTA_CACHE_SECONDS = 60.0
KEY_TTL_SECONDS = 62 * 24 * 3600  # a month's counter outlives its month; the row keeps it for good


# ----------------------------------------------------------------------------- pure rules


def month_of(moment: datetime | None = None) -> date:
    """The 1st of the calendar month in Asia/Tokyo that `moment` falls in (whatever TIME_ZONE says)."""
    local = (moment or timezone.now()).astimezone(TOKYO)
    return local.date().replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


@dataclass(frozen=True)
class Usage:
    month: date
    used: int
    quota: int

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.quota

    @property
    def low(self) -> bool:
        return self.remaining < LOW_REMAINING


def counter_key(operator_id: int, month: date) -> str:
    return f"{KEY_PREFIX}{operator_id}:{month:%Y%m}"


def parse_counter_key(key: str) -> tuple[int, date] | None:
    try:
        operator_id, yyyymm = key.removeprefix(KEY_PREFIX).split(":")
        return int(operator_id), date(int(yyyymm[:4]), int(yyyymm[4:6]), 1)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- Redis

# KEYS[1] counter; ARGV[1] quota, ARGV[2] seed (the PostgreSQL count) or "" when unknown, ARGV[3] n, ARGV[4] ttl.
# Returns the new count when charged, -1 when the quota is used up, -2 when the counter needs a seed.
CHARGE_LUA = """
local v = redis.call('GET', KEYS[1])
if not v then
  if ARGV[2] == '' then return -2 end
  redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[4])
  v = redis.call('GET', KEYS[1])
end
v = tonumber(v)
local n = tonumber(ARGV[3])
if v + n > tonumber(ARGV[1]) then return -1 end
return redis.call('INCRBY', KEYS[1], n)
"""

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()
_scripts: dict[str, object] = {}
_quota_cache: dict[int, tuple[float, int]] = {}


def redis_client():
    """One client per Redis URL for the whole process: redis-py clients are thread-safe and share
    a connection pool, so threads (gunicorn gthread, live_server) reuse connections."""
    import redis

    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
                _clients[url] = client
    return client


@atexit.register
def _close_clients() -> None:
    # Drop the clients while the interpreter is still whole: redis-py's __del__ run during
    # interpreter shutdown prints tracebacks (its module globals are already gone).
    _scripts.clear()
    for client in list(_clients.values()):
        client.close()
    _clients.clear()


def uses_redis() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def _script(name: str, source: str):
    client = redis_client()
    key = f"{name}:{settings.REDIS_URL}"
    if key not in _scripts:
        _scripts[key] = client.register_script(source)
    return _scripts[key]


# ----------------------------------------------------------------------------- quota per operator


def quota_for(operator_id: int) -> int:
    """Calls allowed per month, cached a minute per process (it changes only with license changes)."""
    now = time.monotonic()
    hit = _quota_cache.get(operator_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = embed_call_quota(Operator(pk=operator_id))
    _quota_cache[operator_id] = (now + QUOTA_CACHE_SECONDS, value)
    return value


def forget_quota_cache() -> None:
    _quota_cache.clear()


def _db_count(operator_id: int, month: date) -> int:
    row = CallCount.objects.filter(operator_id=operator_id, month=month).values_list("count", flat=True).first()
    return int(row or 0)


def charge(operator_id: int, n: int = 1, *, at: datetime | None = None, quota: int | None = None) -> bool:
    """Count `n` calls for this month if they fit in the quota. False (nothing counted) when they do not."""
    month = month_of(at)
    quota = quota_for(operator_id) if quota is None else quota
    if n <= 0:
        return True
    if uses_redis():
        script = _script("charge", CHARGE_LUA)
        key = counter_key(operator_id, month)
        result = int(script(keys=[key], args=[quota, "", n, KEY_TTL_SECONDS]))
        if result == -2:
            result = int(script(keys=[key], args=[quota, _db_count(operator_id, month), n, KEY_TTL_SECONDS]))
        return result >= 0
    return _charge_db(operator_id, month, n, quota)


def _charge_db(operator_id: int, month: date, n: int, quota: int) -> bool:
    rows = CallCount.objects.filter(operator_id=operator_id, month=month, count__lte=quota - n)
    if rows.update(count=F("count") + n, updated_at=timezone.now()):
        return True
    # No row yet, or the calls do not fit. Make sure the row exists, then the same conditional update
    # decides (the row lock serialises concurrent requests; an "exists" check here would race).
    if not CallCount.objects.filter(operator_id=operator_id, month=month).exists():
        try:
            with transaction.atomic():
                CallCount.objects.create(operator_id=operator_id, month=month, count=0)
        except IntegrityError:
            pass  # another request created it first
    return bool(rows.update(count=F("count") + n, updated_at=timezone.now()))


def used(operator_id: int, *, at: datetime | None = None) -> int:
    """Calls counted this month: the live Redis counter when there is one, else the row."""
    month = month_of(at)
    db = _db_count(operator_id, month)
    if uses_redis():
        value = redis_client().get(counter_key(operator_id, month))
        if value is not None:
            return max(int(value), db)
    return db


def usage(operator_id: int, *, at: datetime | None = None) -> Usage:
    return Usage(month_of(at), used(operator_id, at=at), quota_for(operator_id))


# ----------------------------------------------------------------------------- flusher


def flush(*, on_each=None) -> int:
    """Copy every Redis counter into PostgreSQL (`GREATEST`, so it is idempotent and never goes back).

    `on_each(operator_id, month)` is called after each row is written (tests use it to kill the
    flusher half-way). Returns how many counters were copied."""
    if not uses_redis():
        return 0
    client = redis_client()
    done = 0
    for raw in client.scan_iter(match=f"{KEY_PREFIX}*", count=500):
        key = raw.decode() if isinstance(raw, bytes) else raw
        parsed = parse_counter_key(key)
        value = client.get(key)
        if parsed is None or value is None:
            continue
        operator_id, month = parsed
        value = int(value)
        if not Operator.objects.filter(pk=operator_id).exists():
            client.delete(key)  # the operator was deleted: its calls go with it
            continue
        with transaction.atomic():
            updated = CallCount.objects.filter(operator_id=operator_id, month=month).update(
                count=Greatest(F("count"), value), updated_at=timezone.now()
            )
            if not updated:
                try:
                    with transaction.atomic():
                        CallCount.objects.create(operator_id=operator_id, month=month, count=value)
                except IntegrityError:
                    CallCount.objects.filter(operator_id=operator_id, month=month).update(
                        count=Greatest(F("count"), value), updated_at=timezone.now()
                    )
        done += 1
        if on_each is not None:
            on_each(operator_id, month)
    return done


# ----------------------------------------------------------------------------- rate limits
#
# Two token buckets guard every public image / prediction call (docs/product.md §6.11):
#
# * per client address (IPv4, IPv6 /64) and camera shown (a camera or group embed, one camera of a
#   generated site): EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE, refilled evenly, a full minute's worth at
#   once. A page's allowance so grows with what it loads (a site of 4 cameras: 4 × 60 a minute). Many
#   visitors behind one NAT share it, so it is sized for them; one client hammering empties it and
#   then gets one call per refill;
# * per public embed, all clients together: EMBED_KEY_CALLS_PER_MINUTE sustained with bursts up to
#   EMBED_KEY_BURST, so many addresses together cannot empty the operator's month in minutes. It is
#   twice the per-address allowance, so one hammering address cannot starve an embed's visitors.
#
# A refused call gets the "rate limited" image (429) and is not charged.

# KEYS[1] the bucket; ARGV[1] tokens per second, ARGV[2] capacity, ARGV[3] now in seconds.
# Returns 1 when a token was taken, 0 when the bucket is empty.
BUCKET_LUA = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(cap, tokens + (now - at) * rate) else now = at end
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 60)
return ok
"""
_local_buckets_lock = threading.Lock()
clock = time.time  # the buckets' clock (tests move it instead of waiting minutes)


def take(key: str, *, per_minute: float, capacity: float, now: float | None = None) -> bool:
    """Take one token from bucket `key` (refilled at `per_minute`, holding at most `capacity`).
    False when it is empty. Without Redis the Django cache holds the bucket (per machine, not atomic
    across processes: good enough for the embedded demo)."""
    now = clock() if now is None else now
    rate = per_minute / 60.0
    capacity = max(capacity, 1.0)
    if uses_redis():
        return bool(int(_script("bucket", BUCKET_LUA)(keys=[key], args=[repr(rate), repr(capacity), repr(now)])))
    with _local_buckets_lock:
        tokens, at = cache.get(key) or (capacity, now)
        if now > at:
            tokens, at = min(capacity, tokens + (now - at) * rate), now
        ok = tokens >= 1
        cache.set(key, (tokens - 1 if ok else tokens, at), int(capacity / rate) + 60)
    return ok


def rate_limited(ip: str, public_key: str = "", *, now: float | None = None) -> bool:
    """True when this client address used up its allowance for this camera shown (`public_key`: the
    embed key, or "site key/index"). 0 turns the limit off. The Redis key holds a digest only."""
    allowance = settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE
    if not allowance:
        return False
    digest = hashlib.sha256(f"{rate_limit_bucket(ip)}|{public_key}".encode()).hexdigest()[:24]
    return not take(f"{RATE_PREFIX}{digest}", per_minute=allowance, capacity=allowance, now=now)


def key_rate_limited(public_key: str, *, now: float | None = None) -> bool:
    """True when one public embed (a camera or group key, or one camera of a generated site) used up
    its budget, whichever clients made the calls. 0 turns the ceiling off."""
    limit = settings.EMBED_KEY_CALLS_PER_MINUTE
    if not limit:
        return False
    burst = settings.EMBED_KEY_BURST or limit
    digest = hashlib.sha256(public_key.encode()).hexdigest()[:24]
    return not take(f"{KEY_RATE_PREFIX}{digest}", per_minute=limit, capacity=burst, now=now)
