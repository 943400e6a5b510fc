"""The controllable clock of the demo and the tests, read by licensing.clock when the
`PORTAL_CONTROLLABLE_CLOCK` setting names `demo.clock.fake_now` (dev and test settings only).

The override is the `PORTAL_FAKE_NOW` setting (tests, with `settings` / `override_settings`) or the
cache key of the same name (the demo: set by `manage.py license_clock`, read by the web process and
the Celery workers alike). Without either, licensing reads the real time.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from licensing.clock import now

__all__ = ["CACHE_KEY", "advance", "fake_now", "now", "set_fake_now"]

CACHE_KEY = "PORTAL_FAKE_NOW"


def _parse(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"PORTAL_FAKE_NOW is not a datetime: {value!r}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def fake_now() -> datetime | None:
    """The override in force, if any (setting first, then the shared cache)."""
    override = _parse(getattr(settings, "PORTAL_FAKE_NOW", None))
    if override is not None:
        return override
    return _parse(cache.get(CACHE_KEY))


def set_fake_now(at: datetime | None) -> None:
    """Set (or clear with None) the shared override. No expiry: the demo clock stays until cleared."""
    if at is None:
        cache.delete(CACHE_KEY)
    else:
        cache.set(CACHE_KEY, _parse(at).isoformat(), timeout=None)


def advance(delta: timedelta) -> datetime:
    moved = now() + delta
    set_fake_now(moved)
    return moved
