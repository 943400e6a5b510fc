"""A deleted camera's files go with it: recordings, clips, exports, thumbnails and POS thumbnails."""

from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from devices import camera_order
from devices.services import device_delete
from recording.models import RecordingSegment
from tests.factories import SensorFactory


def _store(name: str) -> Path:
    return Path(default_storage.path(default_storage.save(name, ContentFile(b"data"))))


def _purges(callbacks: list) -> list:
    # The camera list forgets its kept order on commit as well (devices/camera_order.py).
    return [callback for callback in callbacks if callback is not camera_order._new_generation]


def test_files_of_the_deleted_camera_go_after_commit_and_others_stay(
    alpha, bravo, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    camera, other = alpha.camera, bravo.camera
    ours = [
        _store(f"recordings/{alpha.operator.pk}/{camera.pk}/continuous/2026/11/20/0900.mp4"),
        _store(f"recordings/{alpha.operator.pk}/{camera.pk}/clips/motion-1.mp4"),
        _store(f"recordings/{alpha.operator.pk}/{camera.pk}/thumbnail.jpg"),
        _store(f"pos/{alpha.operator.pk}/{camera.pk}/42.jpg"),
    ]
    theirs = [
        _store(f"recordings/{bravo.operator.pk}/{other.pk}/continuous/2026/11/20/0900.mp4"),
        _store(f"pos/{bravo.operator.pk}/{other.pk}/43.jpg"),
    ]
    RecordingSegment.objects.create(
        operator=alpha.operator, camera=camera, start="2026-11-20T00:00:00Z", duration=60, size=4,
        storage_name=f"recordings/{alpha.operator.pk}/{camera.pk}/continuous/2026/11/20/0900.mp4",
    )  # fmt: skip

    # A sensor is not a camera: deleting one touches no files.
    with django_capture_on_commit_callbacks(execute=True):
        device_delete(user=alpha.admin, device=SensorFactory(parent=camera, operator=alpha.operator, room=camera.room))
    assert all(path.exists() for path in ours)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        device_delete(user=alpha.admin, device=camera)
    assert len(_purges(callbacks)) == 1
    assert not any(path.exists() for path in ours)
    assert not Path(settings.MEDIA_ROOT, "recordings", str(alpha.operator.pk), str(camera.pk)).exists()
    assert all(path.exists() for path in theirs)
    assert not RecordingSegment.objects.filter(operator=alpha.operator).exists()


def test_nothing_is_purged_when_the_deletion_rolls_back(alpha, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    kept = _store(f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/thumbnail.jpg")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        device_delete(user=alpha.admin, device=alpha.camera)
    assert len(_purges(callbacks)) == 1  # queued for the commit only; a rollback would drop it
    assert kept.exists()
