"""The demo's cameras and its edge recorder record from mounts of the one simulated RTSP server."""

from io import StringIO

from django.core.management import call_command

from devices.models import Device, DeviceKind
from licensing.selectors import camera_license_state
from recording.demo import RECORDER_MAC, sim_camera_args
from recording.media_selectors import camera_stream_url, recordable_cameras


def test_the_demo_recorders_channels_are_licensed_and_served_by_the_simulated_camera(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: still one recorder, two channels
    recorder = Device.objects.get(mac=RECORDER_MAC)
    channels = list(Device.objects.filter(parent=recorder).order_by("channel"))
    assert recorder.kind == DeviceKind.RECORDER and [c.channel for c in channels] == [1, 2]
    args = " ".join(sim_camera_args())
    for channel in channels:
        assert camera_license_state(channel) == "active"
        url = camera_stream_url(channel)
        assert url.endswith(f"/nvr-ch{channel.channel}")
        assert f"--mount nvr-ch{channel.channel}=" in args
    recordable = {camera.pk: reason for camera, reason in recordable_cameras()}
    assert all(recordable[channel.pk] == "" for channel in channels)
