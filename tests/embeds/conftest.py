"""Embed fixtures: alpha's registered congestion camera with a public image, a group, clean counters."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from congestion.models import Group, PublicImage
from embeds import quota, selectors
from tests.congestion.conftest import give_option, jpeg, register


def this_minute():
    """The start of the current minute: a public image captured then is current (CONGESTION_STALE_MINUTES)."""
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture(autouse=True)
def _media(media_in_tmp):
    """Every test here stores images in its own folder (tests/conftest.py)."""


@pytest.fixture(autouse=True)
def clean_counters(settings):
    """Each test starts with no embed counters in its Redis database and a fresh quota cache."""
    settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = 0
    settings.EMBED_KEY_CALLS_PER_MINUTE = 0
    quota.forget_quota_cache()
    selectors.forget_caches()
    if quota.uses_redis():
        client = quota.redis_client()
        for pattern in (f"{quota.KEY_PREFIX}*", f"{quota.RATE_PREFIX}*", f"{quota.KEY_RATE_PREFIX}*"):
            for key in client.scan_iter(match=pattern):
                client.delete(key)
    yield
    quota.forget_quota_cache()
    selectors.forget_caches()


def publish(cc, count: int = 3, colour=(10, 200, 10), at=None) -> PublicImage:
    """A current public image (captured this minute unless `at` says otherwise)."""
    at = at or this_minute()
    name = default_storage.save(f"congestion/test/public-{cc.pk}.jpg", ContentFile(jpeg(colour=colour)))
    return PublicImage.objects.update_or_create(
        congestion_camera=cc,
        defaults={"operator_id": cc.operator_id, "image": name, "count": count, "captured_at": at, "analysed_at": at},
    )[0]


@pytest.fixture
def cc(alpha):
    give_option(alpha.operator, 3)
    cc = register(alpha)
    publish(cc)
    return cc


@pytest.fixture
def group(alpha, cc, second_cc):
    group = Group.objects.create(operator=alpha.operator, name="Alpha Lobby", default_camera=cc)
    group.cameras.set([cc, second_cc])
    return group


@pytest.fixture
def second_cc(alpha, cc):
    from tests.factories import CameraFactory

    cc2 = register(CameraFactory(room=alpha.room, name="Alpha Cam 2"))
    publish(cc2, count=4)
    return cc2
