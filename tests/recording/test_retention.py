"""Retention end to end (docs/product.md, manual 001): event clips go after 30 days, converted files
(exports) after 7; their files and rows go, nothing else is touched. The hourly task decides with the
tested rules of workers/retention.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from recording import media_services, tasks
from recording.models import EventClip, Export, RecordingSegment
from tests.recording.media import media_settings

pytestmark = pytest.mark.django_db

# The hourly task reads the real clock: the ages below keep a day away from each boundary.
NOW = timezone.now()


def _stored(name: str) -> str:
    return default_storage.save(name, ContentFile(b"\x00" * 1000))


def _clip(tenant, *, age: timedelta, tag: str) -> EventClip:
    at = NOW - age
    return EventClip.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        motion_at=at,
        start=at - timedelta(seconds=5),
        duration=10,
        size=1000,
        storage_name=_stored(f"recordings/{tenant.operator.pk}/{tenant.camera.pk}/clips/{tag}.mp4"),
    )


def _export(tenant, *, age: timedelta, tag: str) -> Export:
    made = NOW - age
    return Export.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        user=tenant.admin,
        start=made - timedelta(hours=1),
        end=made - timedelta(minutes=30),
        status=Export.Status.DONE,
        storage_name=_stored(f"exports/{tenant.operator.pk}/{tag}.mp4"),
        created_at=made,
        expires_at=made + timedelta(days=7),
    )


def _segment(tenant, *, age: timedelta, tag: str) -> RecordingSegment:
    return RecordingSegment.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        start=NOW - age,
        duration=60,
        size=1000,
        storage_name=_stored(f"recordings/{tenant.operator.pk}/{tenant.camera.pk}/continuous/{tag}.mp4"),
    )


@pytest.fixture
def media(settings, tmp_path, alpha, bravo):
    media_settings(settings, tmp_path)
    return {
        "old_clip": _clip(alpha, age=timedelta(days=31), tag="old"),
        "bravo_old_clip": _clip(bravo, age=timedelta(days=45), tag="bravo-old"),
        "young_clip": _clip(alpha, age=timedelta(days=29), tag="young"),
        "old_export": _export(alpha, age=timedelta(days=8), tag="old"),
        "young_export": _export(alpha, age=timedelta(days=6), tag="young"),
        "old_segment": _segment(alpha, age=timedelta(days=90), tag="old"),  # continuous: the quota decides, not age
    }


def test_the_hourly_task_deletes_clips_past_30_days_and_exports_past_7_with_their_files(media):
    gone = [media["old_clip"], media["bravo_old_clip"], media["old_export"]]
    kept = [media["young_clip"], media["young_export"], media["old_segment"]]

    result = tasks.expire_media.apply().get()

    assert result == {"clips": 2, "exports": 1}
    for row in gone:
        assert not type(row).objects.filter(pk=row.pk).exists()
        assert not default_storage.exists(row.storage_name), row.storage_name
    for row in kept:
        assert type(row).objects.filter(pk=row.pk).exists()
        assert default_storage.exists(row.storage_name), row.storage_name


def test_a_second_run_deletes_nothing_more(media):
    media_services.media_expire(now=NOW)

    assert media_services.media_expire(now=NOW) == {"clips": 0, "exports": 0}
    assert EventClip.objects.count() == 1 and Export.objects.count() == 1 and RecordingSegment.objects.count() == 1


def test_the_plans_clip_days_move_the_cutoff(media, settings):
    settings.RECORDING_CLIP_DAYS = 60

    assert media_services.media_expire(now=NOW) == {"clips": 0, "exports": 1}
    assert EventClip.objects.count() == 3


def test_an_export_made_under_a_longer_setting_still_goes_after_the_current_days(media, settings):
    """Converted files live RECORDING_EXPORT_DAYS from their creation, whatever expiry was written then."""
    media["young_export"].created_at = NOW - timedelta(days=3)
    media["young_export"].expires_at = NOW + timedelta(days=27)  # made when exports lasted 30 days
    media["young_export"].save(update_fields=["created_at", "expires_at"])
    settings.RECORDING_EXPORT_DAYS = 2

    assert media_services.media_expire(now=NOW)["exports"] == 2
    assert not Export.objects.exists()


def test_the_task_decides_with_the_tested_retention_rules(media, monkeypatch):
    """The queries only narrow the candidates: workers/retention.py's rules have the last word."""
    monkeypatch.setattr(media_services, "clips_expired", lambda clips, *, now, keep_days: [])
    monkeypatch.setattr(media_services, "exports_to_delete", lambda exports, **kwargs: [])

    assert media_services.media_expire(now=NOW) == {"clips": 0, "exports": 0}
    assert EventClip.objects.count() == 3 and Export.objects.count() == 2
