""" "Refresh trouble info" probes the camera now: a live SimCamera clears a network trouble, a dead one
sets it, each transition mails once, and a camera without stream settings says so."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from demo.rtsp_sim import SimCamera
from devices.models import TroubleState
from recording.services import notification_setting_update
from tests.conftest import client_for
from tests.recording.media import VTEST, point_at, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def patient_checks(settings):
    """On a loaded machine a slow stream answer must not read as an unreachable camera (NETWORK): the trouble
    checks here wait up to a minute for each answer (a dead camera refuses at once)."""
    settings.RECORDING_PROBE_TIMEOUT = 60


def _refresh(user, camera) -> str:
    url = reverse("devices:trouble_refresh", kwargs={"device_id": camera.pk})
    return client_for(user).post(url, follow=True).content.decode()


def _mails(word: str) -> list:
    return [m for m in mail.outbox if word in m.subject]


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def mails_on(alpha):
    notification_setting_update(
        user=alpha.admin, room=alpha.room, notification_type="troubles", recipients=["kanri@example.com"]
    )


def test_refresh_sets_network_trouble_for_a_dead_camera_and_clears_it_when_it_answers_mailing_once_each(
    alpha, sim, mails_on
):
    point_at(alpha.camera, sim.url("cam1"))
    sim.kill()
    body = _refresh(alpha.viewer, alpha.camera)
    alpha.camera.refresh_from_db()
    assert alpha.camera.trouble_state == TroubleState.NETWORK and alpha.camera.trouble_since is not None
    assert "The trouble information was refreshed." in body
    assert "The camera cannot be reached over the network." in body
    assert wait_for(lambda: _mails("Trouble:"), timeout=5)
    _refresh(alpha.viewer, alpha.camera)  # still dead: no transition, no second mail
    assert len(_mails("Trouble:")) == 1

    sim.start()  # the camera is back on the same address
    body = _refresh(alpha.viewer, alpha.camera)
    alpha.camera.refresh_from_db()
    assert alpha.camera.trouble_state == "" and alpha.camera.trouble_checked_at is not None
    assert "The camera answered and sends video." in body
    assert wait_for(lambda: _mails("resolved"), timeout=5)
    _refresh(alpha.viewer, alpha.camera)
    assert len(_mails("resolved")) == 1
    assert len([m for m in _mails("Trouble:") if "resolved" not in m.subject]) == 1


def test_a_healthy_probe_does_not_clear_a_storage_error(alpha, sim):
    point_at(alpha.camera, sim.url("cam1"))
    alpha.camera.__class__.objects.filter(pk=alpha.camera.pk).update(trouble_state=TroubleState.STORAGE)
    _refresh(alpha.admin, alpha.camera)
    alpha.camera.refresh_from_db()
    assert alpha.camera.trouble_state == TroubleState.STORAGE  # a fault on our side; the camera cannot undo it


def test_refresh_of_a_camera_without_stream_settings_says_so_and_changes_nothing(alpha):
    body = _refresh(alpha.viewer, alpha.camera)
    alpha.camera.refresh_from_db()
    assert "has no stream settings" in body
    assert alpha.camera.trouble_state == ""
