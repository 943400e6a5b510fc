"""A camera's motion settings (page and API): the source, and the sub-stream URL, which is write-only,
goes through the outbound-connection policy, and belongs to the camera's operator alone."""

import json

import pytest
from django.urls import reverse

from recording.models import CameraRecording
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SUB = "rtsp://viewer:s3cret@127.0.0.1:8554/sub"


def page(camera) -> str:
    return reverse("recording:motion_settings", kwargs={"camera_id": camera.pk})


def api(camera) -> str:
    return reverse("camera-motion-settings", kwargs={"camera_id": camera.pk})


def test_an_admin_enters_a_sub_stream_that_is_stored_and_never_shown(alpha):
    client = client_for(alpha.admin)
    response = client.post(page(alpha.camera), {"motion_source": "server", "sub_stream_url": SUB})
    assert response.status_code == 302
    row = CameraRecording.objects.get(camera=alpha.camera)
    assert row.motion_sub_stream_url == SUB
    shown = client.get(page(alpha.camera)).content.decode()
    assert "s3cret" not in shown and "/sub" not in shown
    body = client.get(api(alpha.camera)).json()
    assert body["sub_stream_url_set"] is True and "sub_stream_url" not in body
    # Left blank, the stored URL stays; the API can remove it.
    client.post(page(alpha.camera), {"motion_source": "sensor", "sub_stream_url": ""})
    row.refresh_from_db()
    assert (row.motion_source, row.motion_sub_stream_url) == ("sensor", SUB)
    clear = {"motion_source": "server", "clear_sub_stream": True}
    client.put(api(alpha.camera), clear, content_type="application/json")
    row.refresh_from_db()
    assert (row.motion_source, row.motion_sub_stream_url) == ("server", "")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/sub", "rtsp://127.0.0.1:8554/sub\r\nFLUSHALL", "rtsp://169.254.169.254/latest"],
)
def test_a_sub_stream_the_outbound_policy_refuses_is_a_field_error_and_nothing_is_saved(alpha, url):
    client = client_for(alpha.admin)
    body = json.dumps({"motion_source": "server", "sub_stream_url": url})
    response = client.put(api(alpha.camera), body, content_type="application/json")
    assert response.status_code == 400 and "sub_stream_url" in response.json()
    form = client.post(page(alpha.camera), {"motion_source": "server", "sub_stream_url": url})
    assert form.status_code == 200
    assert not CameraRecording.objects.filter(camera=alpha.camera).exclude(motion_sub_stream_url="").exists()


def test_a_viewer_cannot_change_them_and_another_operator_gets_404(alpha, bravo):
    viewer = client_for(alpha.viewer)
    assert viewer.post(page(alpha.camera), {"motion_source": "sensor"}).status_code in (403, 404)
    assert viewer.put(api(alpha.camera), {"motion_source": "sensor"}, content_type="application/json").status_code in (
        403,
        404,
    )
    outsider = client_for(bravo.admin)
    for method in ("get", "post", "put"):
        assert getattr(outsider, method)(page(alpha.camera)).status_code in (404, 405)
        assert getattr(outsider, method)(api(alpha.camera), content_type="application/json").status_code in (404, 405)
    assert not CameraRecording.objects.filter(camera=alpha.camera, motion_source="sensor").exists()


def test_the_camera_page_says_how_motion_is_detected(alpha):
    status = {"motion_decode": "keyframes", "motion_stream": "main", "motion_gop_seconds": 2}
    CameraRecording.objects.create(operator=alpha.operator, camera=alpha.camera, **status)
    text = client_for(alpha.admin).get(reverse("devices:detail", kwargs={"device_id": alpha.camera.pk})).content
    text = text.decode()
    assert "Keyframes only" in text and "a keyframe every 2.0 s" in text
    assert page(alpha.camera) in text
