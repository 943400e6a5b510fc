"""A hostile ONVIF device: whatever it answers goes through the outbound-connection policy (issue 13).
A stream URI that is a file path or on another host, or a service address (XAddr) inside the portal's
network, is refused, and the camera goes into a trouble state that names the reason."""

from __future__ import annotations

import pytest

from demo.onvif_sim import OnvifDevice
from demo.rtsp_sim import SimCamera
from devices.models import Device, StreamSource, TroubleState
from recording.models import CameraRecording, MotionSource
from recording.onvif import OnvifError, resolve
from recording.trouble import camera_trouble_refresh
from tests.recording.media import VTEST
from workers.probe_camera import Problem

PATIENT = 60.0  # seconds: on a loaded machine a slow answer must not read as an unreachable camera (NETWORK)


@pytest.fixture(autouse=True)
def patient_checks(settings):
    """The trouble check waits as long as `PATIENT` for each answer, so what it reports is the refusal."""
    settings.RECORDING_PROBE_TIMEOUT = PATIENT


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def device(sim):
    onvif = OnvifDevice(sim, username="admin", password="s3cret").start()
    yield onvif
    onvif.stop()


def _answers(device: OnvifDevice):
    """The simulator's SOAP side (ipycam's ONVIFService), to make it answer what an attacker would."""
    return device._server.RequestHandlerClass.camera.onvif


def _stream_uri_answer(monkeypatch, device: OnvifDevice, uri: str) -> None:
    service = _answers(device)
    monkeypatch.setattr(
        service,
        "get_stream_uri",
        lambda body: service._wrap_envelope(service._render("get_stream_uri", stream_uri=uri)),
    )


def _media_xaddr_answer(monkeypatch, device: OnvifDevice, media_url: str) -> None:
    service = _answers(device)
    own = f"http://127.0.0.1:{device.port}/onvif"

    def render(name: str) -> str:
        body = service._render(name, device_url=f"{own}/device_service", media_url=media_url, ptz_url=f"{own}/ptz")
        return service._wrap_envelope(body)

    monkeypatch.setattr(service, "get_services", lambda: render("get_services"))
    monkeypatch.setattr(service, "get_capabilities", lambda: render("get_capabilities"))


HOSTILE = {
    "file path": ("stream", "/data/media/recordings/2/7/thumbnail.jpg", "must start with rtsp://"),
    "file url": ("stream", "file:///data/media/recordings/2/7/thumbnail.jpg", "must start with rtsp://"),
    "another host": ("stream", "rtsp://8.8.8.8:554/other-operators-camera", "another host (8.8.8.8)"),
    "smuggled line": ("stream", "rtsp://127.0.0.1:6379/x&#13;&#10;SET a b", "contains"),
    "internal xaddr": ("xaddr", "http://169.254.169.254/onvif/media_service", "link-local"),
    "xaddr on another host": ("xaddr", "http://8.8.8.8/onvif/media_service", "another host (8.8.8.8)"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_answer_is_refused(monkeypatch, device, case):
    kind, answer, reason = HOSTILE[case]
    (_stream_uri_answer if kind == "stream" else _media_xaddr_answer)(monkeypatch, device, answer)
    with pytest.raises(OnvifError) as caught:
        resolve(host="127.0.0.1", port=device.port, user="admin", password="s3cret", timeout=PATIENT)
    assert caught.value.problem == Problem.REFUSED
    assert reason in caught.value.message
    assert "s3cret" not in caught.value.message


def test_an_onvif_host_on_a_refused_address_is_not_contacted(settings, device):
    settings.CAMERA_ALLOWED_NETWORKS = []  # production: public only
    with pytest.raises(OnvifError) as caught:
        resolve(host="127.0.0.1", port=device.port, user="admin", password="s3cret", timeout=PATIENT)
    assert caught.value.problem == Problem.REFUSED and "loopback" in caught.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["file path", "internal xaddr"])
def test_the_camera_goes_into_a_trouble_state_naming_the_reason(alpha, monkeypatch, device, case):
    kind, answer, reason = HOSTILE[case]
    (_stream_uri_answer if kind == "stream" else _media_xaddr_answer)(monkeypatch, device, answer)
    camera = alpha.camera
    camera.stream_source = StreamSource.ONVIF
    camera.onvif_host, camera.onvif_port, camera.onvif_user, camera.onvif_password = (
        "127.0.0.1",
        device.port,
        "admin",
        "s3cret",
    )
    camera.save()
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": MotionSource.SENSOR}
    )
    check = camera_trouble_refresh(camera=camera)
    assert check.problem == Problem.REFUSED and reason in check.message
    assert Device.objects.get(pk=camera.pk).trouble_state == TroubleState.UNKNOWN
    assert CameraRecording.objects.get(camera=camera).onvif_stream_uri == ""  # nothing hostile is cached


def test_the_honest_simulator_still_resolves(device, sim):
    found = resolve(host="127.0.0.1", port=device.port, user="admin", password="s3cret", timeout=PATIENT)
    assert found.stream_uri == f"rtsp://admin:s3cret@127.0.0.1:{sim.port}/cam1"


def test_an_oversized_answer_is_refused_before_it_is_parsed(monkeypatch, device):
    from recording.onvif import MAX_ANSWER_BYTES

    service = _answers(device)
    padding = "<!-- " + "x" * (MAX_ANSWER_BYTES + 10) + " -->"
    monkeypatch.setattr(service, "get_profiles", lambda: service._wrap_envelope(padding))
    with pytest.raises(OnvifError) as caught:
        resolve(host="127.0.0.1", port=device.port, user="admin", password="s3cret", timeout=PATIENT)
    assert caught.value.problem == Problem.GARBAGE and "larger than" in caught.value.message
