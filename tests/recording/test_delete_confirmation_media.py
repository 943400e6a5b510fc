"""Deleting a building, room or device deletes its cameras' recordings, clips and exports: the confirmation
(page and API) says how many, how many GB and the oldest date first (docs/product.md §2.3). An exchange
deletes nothing (§2.5)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from devices.services import device_exchange
from recording.models import EventClip, Export, RecordingSegment
from tests.conftest import client_for
from tests.factories import CameraFactory, RoomFactory

OLDEST = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo


def _media(camera, *, start=OLDEST, store: bool = False) -> list[Path]:
    """Two 1-minute recordings (1.5 GB each), a clip (0.5 GB) and an export (0.25 GB) of `camera`."""
    names = []
    for i in range(2):
        name = f"recordings/{camera.operator_id}/{camera.pk}/continuous/{start:%Y%m%d}-{i}.mp4"
        RecordingSegment.objects.create(
            operator_id=camera.operator_id, camera=camera, start=start + timedelta(minutes=i), duration=60,
            size=1_500_000_000, storage_name=name,
        )  # fmt: skip
        names.append(name)
    clip = f"recordings/{camera.operator_id}/{camera.pk}/clips/{start:%Y%m%d}.mp4"
    EventClip.objects.create(
        operator_id=camera.operator_id, camera=camera, motion_at=start + timedelta(days=1),
        start=start + timedelta(days=1), duration=10, size=500_000_000, storage_name=clip,
    )  # fmt: skip
    names.append(clip)
    admin = camera.operator.users.filter(role="admin").first()
    Export.objects.create(
        operator_id=camera.operator_id, camera=camera, user=admin, start=start + timedelta(days=2),
        end=start + timedelta(days=2, minutes=5), status=Export.Status.DONE, size=250_000_000,
        storage_name=f"recordings/{camera.operator_id}/{camera.pk}/exports/1.mp4",
        expires_at=start + timedelta(days=9),
    )  # fmt: skip
    if not store:
        return []
    return [Path(default_storage.path(default_storage.save(n, ContentFile(b"video")))) for n in names]


def _page(user, url: str) -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_building_confirmation_states_the_media_that_goes(alpha, bravo):
    _media(alpha.camera)
    other_room = RoomFactory(building=alpha.building, name="Parking")
    _media(CameraFactory(room=other_room, name="Parking cam"), start=OLDEST + timedelta(days=5))
    _media(bravo.camera, start=OLDEST - timedelta(days=100))  # another operator's: not counted
    page = _page(alpha.admin, reverse("buildings:delete", kwargs={"building_id": alpha.building.pk}))
    assert "4 continuous recording files" in page
    assert "2 event clips" in page
    assert "2 converted files (exports)" in page
    assert "7.50 GB in all; the oldest is from 2026-11-03 09:30." in page
    assert "cannot be restored" in page


def test_the_room_and_device_confirmations_count_only_their_cameras(alpha):
    _media(alpha.camera)
    lone = CameraFactory(room=RoomFactory(building=alpha.building, name="Bikes"), name="Bike cam")
    room_page = _page(alpha.admin, reverse("buildings:room_delete", kwargs={"room_id": alpha.room.pk}))
    assert "2 continuous recording files" in room_page and "3.75 GB in all" in room_page
    device_page = _page(alpha.admin, reverse("devices:delete", kwargs={"device_id": alpha.camera.pk}))
    assert "2 continuous recording files" in device_page and "1 event clip" in device_page
    assert "1 converted file (export)" in device_page
    empty = _page(alpha.admin, reverse("devices:delete", kwargs={"device_id": lone.pk}))
    assert "No recordings, event clips or converted files are stored for it." in empty


def test_the_confirmation_is_in_japanese_too(alpha):
    _media(alpha.camera)
    client = client_for(alpha.admin)
    client.cookies["django_language"] = "ja"
    page = client.get(reverse("devices:delete", kwargs={"device_id": alpha.camera.pk})).content.decode()
    assert "常時録画ファイル 2 件" in page and "元に戻せません" in page


def test_the_api_gives_the_same_summary_before_a_delete(alpha, bravo):
    _media(alpha.camera)
    client = APIClient()
    client.force_authenticate(alpha.admin)
    for url in (
        f"/api/v1/buildings/{alpha.building.pk}/delete-summary/",
        f"/api/v1/rooms/{alpha.room.pk}/delete-summary/",
        f"/api/v1/devices/{alpha.camera.pk}/delete-summary/",
    ):
        data = client.get(url).json()
        assert data["cameras"] == 1, url
        media = data["media"]
        assert (media["recordings"], media["clips"], media["exports"]) == (2, 1, 1)
        assert media["bytes"] == 3_750_000_000 and media["gb"] == 3.75
        assert media["oldest"].startswith("2026-11-03T09:30")
    viewer = APIClient()
    viewer.force_authenticate(alpha.viewer)
    assert viewer.get(f"/api/v1/devices/{alpha.camera.pk}/delete-summary/").status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(bravo.admin)
    assert outsider.get(f"/api/v1/buildings/{alpha.building.pk}/delete-summary/").status_code == 404


def test_an_exchange_deletes_no_recording_clip_export_or_file(
    alpha, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    files = _media(alpha.camera, store=True)
    before = (
        RecordingSegment.objects.filter(camera=alpha.camera).count(),
        EventClip.objects.filter(camera=alpha.camera).count(),
        Export.objects.filter(camera=alpha.camera).count(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        device_exchange(user=alpha.admin, device=alpha.camera, new_mac="02:00:00:00:99:01")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alpha.admin).post(
            reverse("devices:exchange", kwargs={"device_id": alpha.camera.pk}),
            {"mac": "02:00:00:00:99:02", "confirm": "1"},
        )
    assert response.status_code == 302
    alpha.camera.refresh_from_db()
    assert alpha.camera.mac == "02:00:00:00:99:02"
    after = (
        RecordingSegment.objects.filter(camera=alpha.camera).count(),
        EventClip.objects.filter(camera=alpha.camera).count(),
        Export.objects.filter(camera=alpha.camera).count(),
    )
    assert after == before == (2, 1, 1)
    assert files and all(path.exists() for path in files)
