"""A camera the license stops says why (issue 16 point 18, docs/product.md §7.8): when recording stops because
the camera's license expired or was moved away, its trouble state names the reason ("License expired" /
"No license"), the room's recipients get exactly one mail saying so, and the room and device pages show it.
When the camera is licensed again, the trouble clears with one recovery mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from devices.models import Device, TroubleState
from licensing.services import license_move
from recording import media_services
from recording.ingest import ingest_sync
from recording.models import IngestLease
from recording.services import notification_setting_update
from tests.conftest import client_for
from tests.factories import CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses

pytestmark = pytest.mark.django_db(transaction=True)

LABEL = {
    TroubleState.LICENSE_EXPIRED: "License expired: recording stopped",
    TroubleState.LICENSE_MISSING: "No license: recording stopped",
}


@pytest.fixture
def licensed(alpha):
    """Alpha's camera with a license and a stream, recording (its lease enabled), and a recipient for troubles."""
    [lic] = give_camera_licenses(alpha.operator)
    alpha.camera.rtsp_url, alpha.camera.stream_source = "rtsp://127.0.0.1:1/none", "rtsp"
    alpha.camera.save(update_fields=["rtsp_url", "stream_source"])
    notification_setting_update(
        user=alpha.admin, room=alpha.room, notification_type="troubles", recipients=["kanri@example.com"]
    )
    ingest_sync()
    assert IngestLease.objects.get(camera=alpha.camera).enabled
    return lic


def _trouble_mails() -> list:
    return [m for m in mail.outbox if "Trouble:" in m.subject]


def _stops_and_says(alpha, state: str) -> None:
    for _tick in range(3):  # the recorder's supervision runs again and again: one mail, not one per tick
        ingest_sync()
    lease = IngestLease.objects.get(camera=alpha.camera)
    assert not lease.enabled and lease.disabled_reason == state  # recording stopped
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == state
    # A late word of the stopping recorder (an outage, recording again) leaves the reason and mails nothing.
    for late in (TroubleState.NETWORK, ""):
        assert media_services.trouble_set(camera=Device.objects.get(pk=alpha.camera.pk), state=late) is False
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == state
    [sent] = _trouble_mails()
    assert sent.to == ["kanri@example.com"] and alpha.camera.name in sent.subject
    assert LABEL[state] in sent.body and "ライセンス" in sent.body  # Japanese, then English
    client = client_for(alpha.viewer)
    room = client.get(reverse("buildings:room_detail", kwargs={"room_id": alpha.room.pk})).content.decode()
    assert LABEL[state] in room
    device = client.get(reverse("devices:detail", kwargs={"device_id": alpha.camera.pk})).content.decode()
    assert LABEL[state] in device
    api = client.get(f"/api/v1/devices/{alpha.camera.pk}/").json()
    assert (api["trouble_state"], api["trouble_label"]) == (state, LABEL[state])


def test_a_camera_whose_license_is_moved_away_stops_and_one_mail_says_it_has_no_license(alpha, licensed):
    other = CameraFactory(room=RoomFactory(building=alpha.building), name="Other cam")
    license_move(operator=alpha.operator, actor=alpha.admin, lic=licensed, device=other)

    _stops_and_says(alpha, TroubleState.LICENSE_MISSING)

    license_move(operator=alpha.operator, actor=alpha.admin, lic=licensed, device=alpha.camera)
    ingest_sync()
    ingest_sync()
    assert IngestLease.objects.get(camera=alpha.camera).enabled
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == ""
    assert len([m for m in mail.outbox if "resolved" in m.subject.lower()]) == 1
    assert len(_trouble_mails()) == 1


def test_a_camera_whose_license_expires_stops_and_one_mail_says_it_expired(alpha, licensed, settings):
    settings.PORTAL_FAKE_NOW = licensed.expires_at + timedelta(minutes=1)

    _stops_and_says(alpha, TroubleState.LICENSE_EXPIRED)
