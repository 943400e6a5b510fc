"""Demo wiring: the demo cameras record from the simulated RTSP camera (workers/sim_camera.py) that
bin/demo starts, one mount per camera, all looping the real footage (people walking)."""

import os

from devices.models import Device, DeviceKind, StreamSource

from .models import NotificationSetting, NotificationType

DEMO_MAC_PREFIX = "02:00:5E:"  # the demo cameras of seed_demo
FOOTAGE = "var/media-fixtures/vtest.mp4"


def rtsp_port() -> int:
    return int(os.environ.get("DEMO_RTSP_PORT", "8554"))


def mount_for(camera: Device) -> str:
    return "cam-" + camera.mac.replace(":", "")[-6:].lower()


def demo_cameras() -> list[Device]:
    return list(Device.objects.filter(kind=DeviceKind.CAMERA, mac__startswith=DEMO_MAC_PREFIX).select_related("room"))


def seed_recording() -> int:
    """Point each demo camera without stream settings at its simulated mount, and let the first demo
    room mail recorded video and troubles to its admin (caught by the demo SMTP sink). Idempotent:
    settings somebody changed are left alone. Returns how many cameras were configured."""
    configured = 0
    for camera in demo_cameras():
        if not camera.rtsp_url:
            camera.stream_source = StreamSource.RTSP
            camera.rtsp_url = f"rtsp://127.0.0.1:{rtsp_port()}/{mount_for(camera)}"
            camera.save(update_fields=["stream_source", "rtsp_url"])
            configured += 1
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


def sim_camera_args() -> list[str]:
    """Arguments of workers/sim_camera.py serving every demo camera's mount."""
    args = ["--port", str(rtsp_port())]
    for camera in demo_cameras():
        args += ["--mount", f"{mount_for(camera)}={FOOTAGE}"]
    return args
