"""The demo's cameras, its edge recorder and its ONVIF camera record from mounts of the one simulated
RTSP server."""

from io import StringIO

from django.core.management import call_command

from demo.onvif_sim import device_from_args
from demo.recording import ONVIF_CAMERA_MAC, RECORDER_MAC, mount_for, onvif_sim_args, rtsp_port, sim_camera_args
from demo.rtsp_sim import free_tcp_port
from devices.models import Device, DeviceKind, StreamSource
from licensing.selectors import camera_license_state
from recording.media_selectors import camera_stream_url, recordable_cameras
from recording.streams import ingest_url


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


def test_the_demos_onvif_camera_is_resolved_through_the_simulated_onvif_service(db):
    """The ONVIF side bin/demo starts, built from the arguments the demo prints, names the camera's mount."""
    call_command("seed_demo", stdout=StringIO())
    camera = Device.objects.get(mac=ONVIF_CAMERA_MAC)
    assert camera.stream_source == StreamSource.ONVIF and camera.rtsp_url == ""
    args = onvif_sim_args()
    port = free_tcp_port()  # not the demo's port, which a running demo may hold
    args[args.index("--port") + 1] = str(port)
    Device.objects.filter(pk=camera.pk).update(onvif_port=port)
    device = device_from_args(args).start()
    try:
        url = ingest_url(Device.objects.get(pk=camera.pk), refresh=True)
    finally:
        device.stop()
    assert url == f"rtsp://admin:demo-onvif@127.0.0.1:{rtsp_port()}/{mount_for(camera)}"
