"""Demo wiring: the demo cameras record from the simulated RTSP camera (demo/sim_camera.py) that
bin/demo starts, one mount per camera, all looping the real footage (people walking). An edge
recorder with two channels is simulated by two more mounts on the same server (nvr-ch1, nvr-ch2), and
one camera is reached over ONVIF (demo/onvif_sim.py answering for its mount)."""

import os

from django.conf import settings

from devices.models import Device, DeviceKind, StreamSource
from recording.models import NotificationSetting, NotificationType

DEMO_MAC_PREFIX = "02:00:5E:"  # the demo cameras of seed_demo
FOOTAGE = "var/media-fixtures/vtest.mp4"
# The same footage as a 1080p30 H.264 camera with a 2 s GOP (bin/setup makes it; bench/recording_bench.py).
FOOTAGE_1080P30 = "var/media-fixtures/vtest-1080p30.mp4"
HD_MOUNT = "hd1080"
# The footage as an H.265 camera sends it (demo/footage.py makes it once, the H.265 tests on first use).
FOOTAGE_H265 = "var/media-fixtures/vtest-hevc.mp4"
H265_MOUNT = "h265"
RECORDER_MAC = "02:00:5E:30:00:01"
RECORDER_CHANNELS = {1: "Lobby NVR channel 1", 2: "Lobby NVR channel 2"}
RECORDER_MOUNT = "nvr-ch{channel}"
# One demo camera is reached over ONVIF (demo/onvif_sim.py in front of its mount), as real ones are.
ONVIF_CAMERA_MAC = "02:00:5E:20:00:01"
ONVIF_USER, ONVIF_PASSWORD = "admin", "demo-onvif"  # noqa: S105  (the simulated camera's, demo only)


def rtsp_port() -> int:
    return int(os.environ.get("DEMO_RTSP_PORT", "8554"))


def onvif_port() -> int:
    return int(os.environ.get("DEMO_ONVIF_PORT", "8580"))


def mount_for(camera: Device) -> str:
    return "cam-" + camera.mac.replace(":", "")[-6:].lower()


def demo_cameras() -> list[Device]:
    return list(Device.objects.filter(kind=DeviceKind.CAMERA, mac__startswith=DEMO_MAC_PREFIX).select_related("room"))


def seed_edge_recorder() -> Device | None:
    """An edge recorder beside the first demo camera, with its channels registered as cameras
    (licensed afterwards by demo.licensing like every demo camera). Idempotent."""
    entrance = Device.objects.filter(mac=DEMO_MAC_PREFIX + "10:00:01").select_related("room").first()
    if entrance is None:
        return None
    recorder, _created = Device.objects.get_or_create(
        mac=RECORDER_MAC,
        defaults={
            "operator_id": entrance.operator_id,
            "room": entrance.room,
            "kind": DeviceKind.RECORDER,
            "name": "Lobby NVR",
        },
    )
    for channel, name in RECORDER_CHANNELS.items():
        Device.objects.get_or_create(
            parent=recorder,
            channel=channel,
            defaults={
                "operator_id": recorder.operator_id,
                "room": recorder.room,
                "kind": DeviceKind.CAMERA,
                "name": name,
            },
        )
    return recorder


def seed_recording() -> int:
    """Point each demo camera without stream settings at its simulated mount, and let the first demo
    room mail recorded video and troubles to its admin (caught by the demo SMTP sink). Idempotent:
    settings somebody changed are left alone. Returns how many cameras were configured."""
    configured = 0
    for camera in demo_cameras():
        if camera.has_stream_settings:
            continue
        if camera.mac == ONVIF_CAMERA_MAC:
            camera.stream_source = StreamSource.ONVIF
            camera.onvif_host, camera.onvif_port = "127.0.0.1", onvif_port()
            camera.onvif_user, camera.onvif_password = ONVIF_USER, ONVIF_PASSWORD
        else:
            camera.stream_source = StreamSource.RTSP
            camera.rtsp_url = f"rtsp://127.0.0.1:{rtsp_port()}/{mount_for(camera)}"
        camera.save(
            update_fields=["stream_source", "rtsp_url", "onvif_host", "onvif_port", "onvif_user", "onvif_password"]
        )
        configured += 1
    recorder = Device.objects.filter(mac=RECORDER_MAC).first()
    if recorder is not None and not recorder.rtsp_url:
        recorder.stream_source = StreamSource.RTSP
        recorder.rtsp_url = f"rtsp://127.0.0.1:{rtsp_port()}/{RECORDER_MOUNT}"
        recorder.save(update_fields=["stream_source", "rtsp_url"])
        configured += len(RECORDER_CHANNELS)
    entrance = next((c for c in demo_cameras() if c.mac.endswith("10:00:01")), None)
    if entrance is not None:
        NotificationSetting.objects.get_or_create(
            room=entrance.room,
            defaults={
                "operator_id": entrance.operator_id,
                "notification_type": NotificationType.VIDEO_TROUBLES,
                "recipients": ["admin@demo.example"],
            },
        )
    return configured


def onvif_sim_args() -> list[str]:
    """Arguments of demo/onvif_sim.py: the ONVIF side of the demo's ONVIF camera."""
    camera = Device.objects.filter(mac=ONVIF_CAMERA_MAC).first()
    if camera is None:
        return []
    return [
        "--port", str(onvif_port()), "--rtsp-port", str(rtsp_port()), "--mount", mount_for(camera),
        "--user", ONVIF_USER, "--password", ONVIF_PASSWORD,
    ]  # fmt: skip


def demo_mount_urls() -> list[str]:
    """Every mount the demo's simulated camera serves, as RTSP URLs."""
    mounts = [mount_for(camera) for camera in demo_cameras()]
    mounts += [RECORDER_MOUNT.format(channel=channel) for channel in RECORDER_CHANNELS]
    return [f"rtsp://127.0.0.1:{rtsp_port()}/{mount}" for mount in mounts]


def sim_camera_args() -> list[str]:
    """Arguments of demo/sim_camera.py serving every demo camera's mount."""
    args = ["--port", str(rtsp_port())]
    for camera in demo_cameras():
        args += ["--mount", f"{mount_for(camera)}={FOOTAGE}"]
    for channel in RECORDER_CHANNELS:
        args += ["--mount", f"{RECORDER_MOUNT.format(channel=channel)}={FOOTAGE}"]
    if (settings.BASE_DIR / FOOTAGE_1080P30).exists():  # a 1080p30 camera to point a device at by hand
        args += ["--mount", f"{HD_MOUNT}={FOOTAGE_1080P30}"]
    if (settings.BASE_DIR / FOOTAGE_H265).exists():  # an H.265 camera to point a device at by hand
        args += ["--mount", f"{H265_MOUNT}={FOOTAGE_H265}"]
    return args
