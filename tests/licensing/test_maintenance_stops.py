"""Remote maintenance stops with the license (docs/product.md §7.8): trouble refresh, exchange and stream
settings of a camera whose license expired or was moved away are refused in the services, so in the
pages and the API alike, each saying why; nothing changes. The building-wide trouble refresh skips such a
camera (not asked) and lists it as skipped with the reason."""

from datetime import timedelta

import pytest
from django.urls import reverse

from devices.models import Device
from licensing.services import license_move
from recording.models import TroubleRefresh
from tests.conftest import client_for
from tests.factories import CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses

pytestmark = pytest.mark.django_db

NEW_MAC = "00:11:22:33:44:99"
STOPPED = "remote maintenance (trouble refresh, exchange, stream settings) is stopped"


def _api(device_id: int, action: str) -> str:
    return f"/api/v1/devices/{device_id}/{action}/"


SKIPPED = {
    "license has expired": "maintenance stopped: license expired",
    "has no license": "maintenance stopped: no license",
}


@pytest.fixture(params=["expired", "moved away"])
def stopped(request, alpha, settings):
    """Alpha's camera without a running license: expired, or its license moved to another camera."""
    [lic] = give_camera_licenses(alpha.operator)
    if request.param == "expired":
        settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
        reason = "license has expired"
    else:
        other = CameraFactory(room=RoomFactory(building=alpha.building), name="Other cam")  # no stream: not probed
        license_move(operator=alpha.operator, actor=alpha.admin, lic=lic, device=other)
        reason = "has no license"
    alpha.camera.rtsp_url, alpha.camera.stream_source = "rtsp://192.0.2.10/old", "rtsp"
    alpha.camera.save(update_fields=["rtsp_url", "stream_source"])
    return reason


def _unchanged(camera, before: Device) -> None:
    after = Device.objects.get(pk=camera.pk)
    assert (after.mac, after.rtsp_url, after.trouble_checked_at) == (
        before.mac,
        before.rtsp_url,
        before.trouble_checked_at,
    )
    assert not after.exchanges.exists()


def test_the_pages_refuse_maintenance_and_say_why(alpha, stopped):
    before = Device.objects.get(pk=alpha.camera.pk)
    client = client_for(alpha.admin)

    refresh = client.post(reverse("devices:trouble_refresh", args=[alpha.camera.pk]), follow=True)
    assert stopped in refresh.content.decode() and STOPPED in refresh.content.decode()
    assert "The trouble information was refreshed." not in refresh.content.decode()
    exchange_url = reverse("devices:exchange", args=[alpha.camera.pk])
    assert STOPPED in client.get(exchange_url).content.decode()
    confirmed = client.post(exchange_url, {"mac": NEW_MAC, "confirm": "1"})
    assert confirmed.status_code == 200 and stopped in confirmed.content.decode()
    stream_url = reverse("devices:stream", args=[alpha.camera.pk])
    assert STOPPED in client.get(stream_url).content.decode()
    saved = client.post(stream_url, {"source": "rtsp", "rtsp_url": "rtsp://192.0.2.10/new"})
    assert saved.status_code == 200 and stopped in saved.content.decode()
    _unchanged(alpha.camera, before)


def test_the_api_refuses_maintenance_with_the_reason(alpha, stopped):
    before = Device.objects.get(pk=alpha.camera.pk)
    client = client_for(alpha.admin)

    exchanged = client.post(_api(alpha.camera.pk, "exchange"), {"mac": NEW_MAC}, content_type="application/json")
    assert exchanged.status_code == 400 and stopped in str(exchanged.json())
    body = {"stream_source": "rtsp", "rtsp_url": "rtsp://192.0.2.10/new"}
    put = client.put(_api(alpha.camera.pk, "stream"), body, content_type="application/json")
    assert put.status_code == 400 and stopped in str(put.json())
    _unchanged(alpha.camera, before)


def test_the_trouble_refresh_api_refuses_like_the_page_with_the_reason(alpha, stopped):
    before = Device.objects.get(pk=alpha.camera.pk)
    for user in (alpha.admin, alpha.viewer):  # every role may refresh a licensed camera; none this one
        refused = client_for(user).post(_api(alpha.camera.pk, "trouble-refresh"))
        assert refused.status_code == 400, refused.content
        [message] = refused.json()["non_field_errors"]
        assert stopped in message and STOPPED in message
    _unchanged(alpha.camera, before)  # not asked: no check time, no trouble


def test_the_trouble_refresh_api_documents_the_refusal():
    from tests.test_tenant_isolation import openapi

    operation = openapi()["device-trouble-refresh"]["post"]
    assert set(operation["responses"]) == {"200", "400"}
    assert "license" in operation["responses"]["400"]["description"]


def test_the_building_refresh_skips_the_stopped_camera_and_says_why(alpha, stopped, django_capture_on_commit_callbacks):
    client = client_for(alpha.viewer)
    with django_capture_on_commit_callbacks(execute=True):  # the run's task, after the commit
        client.post(reverse("recording:building_trouble_refresh", args=[alpha.building.pk]))
    page = client.get(reverse("recording:building_trouble_refresh", args=[alpha.building.pk]))
    run = TroubleRefresh.objects.get(building=alpha.building)
    assert run.state == "done" and run.done == run.total and run.troubles == 0
    assert [(entry["id"], entry["name"]) for entry in run.skipped] == [(alpha.camera.pk, alpha.camera.name)]
    body = page.content.decode()
    assert f"{alpha.camera.name}: {SKIPPED[stopped]}" in body
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.trouble_state, camera.trouble_checked_at) == ("", None)  # never probed
    latest = client.get(f"/api/v1/buildings/{alpha.building.pk}/trouble-refresh/").json()
    assert [(e["id"], e["message"]) for e in latest["skipped"]] == [(alpha.camera.pk, SKIPPED[stopped])]


def test_a_licensed_camera_is_maintained_as_before(alpha):
    give_camera_licenses(alpha.operator)
    client = client_for(alpha.admin)

    refresh = client.post(reverse("devices:trouble_refresh", args=[alpha.camera.pk]), follow=True)
    assert "The trouble information was refreshed." in refresh.content.decode()
    api = client_for(alpha.viewer).post(_api(alpha.camera.pk, "trouble-refresh"))
    assert api.status_code == 200 and api.json()["device"]["id"] == alpha.camera.pk
    assert api.json()["checked"] is False and "no stream settings" in api.json()["message"]
    assert STOPPED not in client.get(reverse("devices:exchange", args=[alpha.camera.pk])).content.decode()
    exchanged = client.post(_api(alpha.camera.pk, "exchange"), {"mac": NEW_MAC}, content_type="application/json")
    assert exchanged.status_code == 200
    assert Device.objects.get(pk=alpha.camera.pk).mac == NEW_MAC
