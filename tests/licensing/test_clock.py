"""The licensing clock is the real one unless the settings name the controllable clock (demo/clock.py)."""

from datetime import UTC, datetime

from django.core.cache import cache
from django.utils import timezone

from demo import clock as demo_clock
from licensing import clock

FAKE = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)


def test_without_the_setting_licensing_ignores_every_fake_now(settings):
    settings.PORTAL_CONTROLLABLE_CLOCK = None
    settings.PORTAL_FAKE_NOW = FAKE
    cache.set(demo_clock.CACHE_KEY, FAKE.isoformat(), timeout=None)
    try:
        before = timezone.now()
        now = clock.now()
        assert before <= now <= timezone.now()
    finally:
        cache.delete(demo_clock.CACHE_KEY)


def test_the_demo_moves_the_clock_only_where_the_setting_names_it(settings):
    settings.PORTAL_FAKE_NOW = None
    settings.PORTAL_CONTROLLABLE_CLOCK = "demo.clock.fake_now"
    demo_clock.set_fake_now(FAKE)
    try:
        assert clock.now() == FAKE
        settings.PORTAL_CONTROLLABLE_CLOCK = None
        assert clock.now() != FAKE
    finally:
        demo_clock.set_fake_now(None)
