"""Per-camera settings that had no page or API (docs/product.md §3.3, §4.2): the continuous-recording quota
with its storage-days estimate (a quota below the stored video says what goes and needs a confirmation),
the export-length limit set by the owner (0 or more than 24 h refused; a receiver cannot set it), and the
motion endpoint's secret, rotated and shown once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from devices.models import Device
from recording import media_services
from recording.models import CameraRecording, RecordingSegment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


def settings_url(camera) -> str:
    return reverse("recording:recording_settings", kwargs={"camera_id": camera.pk})


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stored(alpha, settings, tmp_path):
    """Ten 1-minute files of 1 GB each (10 GB stored)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rows = []
    for i in range(10):
        name = default_storage.save(f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/s{i}.mp4", ContentFile(b"v"))
        rows.append(
            RecordingSegment.objects.create(
                operator=alpha.operator,
                camera=alpha.camera,
                start=START + timedelta(minutes=i),
                duration=60,
                size=10**9,
                storage_name=name,
            )  # fmt: skip
        )
    return rows


def test_the_page_sets_quota_and_export_limit_with_the_storage_days_estimate(alpha, stored):
    client = client_for(alpha.admin)
    page = client.get(settings_url(alpha.camera)).content.decode()
    assert "GB stored now" in page and "holds about" in page
    response = client.post(settings_url(alpha.camera), {"quota_gb": "20", "export_max_minutes": "90"})
    assert response.status_code == 302
    row = CameraRecording.objects.get(camera=alpha.camera)
    assert (row.quota_bytes, row.export_max_minutes) == (20 * 10**9, 90)
    assert RecordingSegment.objects.filter(camera=alpha.camera).count() == 10


def test_a_quota_below_the_stored_video_says_what_goes_and_deletes_only_when_confirmed(alpha, stored):
    client = client_for(alpha.admin)
    response = client.post(settings_url(alpha.camera), {"quota_gb": "5"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "the oldest 5 recording files (5.00 GB, from 2026-03-01 09:00 to 2026-03-01 09:04)" in page
    assert 'name="confirm_deletion"' in page
    assert not CameraRecording.objects.filter(camera=alpha.camera).exists()
    assert RecordingSegment.objects.filter(camera=alpha.camera).count() == 10
    response = client.post(settings_url(alpha.camera), {"quota_gb": "5", "confirm_deletion": "on"})
    assert response.status_code == 302
    kept = RecordingSegment.objects.filter(camera=alpha.camera).order_by("start")
    assert [r.start for r in kept] == [r.start for r in stored[5:]]
    assert not default_storage.exists(stored[0].storage_name) and default_storage.exists(stored[9].storage_name)


@pytest.mark.parametrize("minutes", ["0", "1441", "-5"])
def test_an_export_limit_of_0_or_over_24_hours_is_refused_and_nothing_saved(alpha, minutes):
    response = client_for(alpha.admin).post(settings_url(alpha.camera), {"export_max_minutes": minutes})
    assert response.status_code == 200
    assert "from 1 minute to 24 hours" in response.content.decode()
    assert not CameraRecording.objects.filter(camera=alpha.camera).exists()
    response = api(alpha.admin).patch(
        f"/api/v1/cameras/{alpha.camera.pk}/recording-settings/", {"export_max_minutes": int(minutes)}, format="json"
    )
    assert response.status_code == 400 and "24 hours" in str(response.json())
    assert not CameraRecording.objects.filter(camera=alpha.camera).exists()


def test_the_owners_export_limit_is_what_an_export_may_span(alpha, stored):
    CameraRecording.objects.create(operator=alpha.operator, camera=alpha.camera, export_max_minutes=3)
    with pytest.raises(Exception, match="at most 3 minutes"):
        media_services.export_create(
            user=alpha.admin, camera=alpha.camera, start=START, end=START + timedelta(minutes=4)
        )
    export = media_services.export_create(
        user=alpha.admin, camera=alpha.camera, start=START, end=START + timedelta(minutes=3)
    )
    assert export.pk


def test_the_api_reads_and_sets_the_quota_with_the_estimate_and_the_confirmation(alpha, stored):
    url = f"/api/v1/cameras/{alpha.camera.pk}/recording-settings/"
    data = api(alpha.admin).get(url).json()
    assert data["quota_gb"] is None and data["used_gb"] == 10.0 and data["storage_days"] > 0
    response = api(alpha.admin).patch(url, {"quota_gb": "4"}, format="json")
    assert response.status_code == 400 and "would be deleted" in response.json()["quota_gb"][0]
    assert RecordingSegment.objects.filter(camera=alpha.camera).count() == 10
    response = api(alpha.admin).patch(url, {"quota_gb": "4", "confirm_deletion": True}, format="json")
    assert response.status_code == 200 and response.json()["quota_gb"] == "4.00"
    assert RecordingSegment.objects.filter(camera=alpha.camera).count() == 4


def test_viewers_cannot_and_a_receiver_of_a_shared_camera_gets_404(alpha, bravo):
    from tests.sharing.factories import share_of

    share_of(alpha)  # alpha's camera shared to another operator
    url = f"/api/v1/cameras/{alpha.camera.pk}/recording-settings/"
    assert client_for(alpha.viewer).get(settings_url(alpha.camera)).status_code == 403
    assert api(alpha.viewer).patch(url, {"export_max_minutes": 5}, format="json").status_code == 403
    assert client_for(bravo.admin).get(settings_url(alpha.camera)).status_code == 404
    assert api(bravo.admin).patch(url, {"export_max_minutes": 5}, format="json").status_code == 404
    from sharing.models import CameraShare

    share = CameraShare.objects.filter(camera=alpha.camera).first()
    receiver = share.receiver.users.filter(role="admin").first()
    assert api(receiver).patch(url, {"export_max_minutes": 5}, format="json").status_code == 404
    assert client_for(receiver).post(settings_url(alpha.camera), {"export_max_minutes": "5"}).status_code == 404
    assert not CameraRecording.objects.filter(camera=alpha.camera).exists()


def test_the_motion_secret_is_rotated_and_shown_once(alpha):
    old = alpha.camera.ingest_secret
    client = client_for(alpha.admin)
    page = client.get(settings_url(alpha.camera)).content.decode()
    assert old not in page  # never shown back
    response = client.post(reverse("recording:motion_secret_rotate", kwargs={"camera_id": alpha.camera.pk}))
    new = Device.objects.get(pk=alpha.camera.pk).ingest_secret
    assert new != old and new in response.content.decode() and response["Cache-Control"] == "no-store"
    assert new not in client.get(settings_url(alpha.camera)).content.decode()
    endpoint = reverse("recording:motion_endpoint", kwargs={"device_id": alpha.camera.pk})
    body = {"at": "2026-03-02T10:00:00+09:00"}
    assert (
        client.post(endpoint, body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {old}").status_code
        == 404
    )
    answer = client.post(endpoint, body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {new}")
    assert answer.status_code == 202
    data = api(alpha.admin).post(f"/api/v1/cameras/{alpha.camera.pk}/motion-secret/").json()
    assert data["secret"] == Device.objects.get(pk=alpha.camera.pk).ingest_secret != new
    assert data["endpoint"].endswith(endpoint)
    assert api(alpha.viewer).post(f"/api/v1/cameras/{alpha.camera.pk}/motion-secret/").status_code == 403


@pytest.mark.parametrize(
    "quota, valid",
    [("4", True), ("0.01", True), ("1234567.89", True), ("0", False), ("0.00", False), ("-1", False), ("1.234", False)],
)
def test_the_quota_pattern_admits_what_the_api_takes(alpha, quota, valid):
    import re

    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    body = schemas["PatchedRecordingSettingsRequest"]["properties"]
    assert (body["export_max_minutes"]["minimum"], body["export_max_minutes"]["maximum"]) == (1, 1440)
    assert bool(re.search(body["quota_gb"]["pattern"], quota)) is valid
    response = api(alpha.admin).patch(
        f"/api/v1/cameras/{alpha.camera.pk}/recording-settings/", {"quota_gb": quota}, format="json"
    )
    assert (response.status_code == 200) is valid, response.content
