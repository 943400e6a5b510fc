"""The demo seeding: congestion cameras with a background, a group, an alert, 8 days of history."""

from django.core.management import call_command

from congestion import services
from congestion.models import AlertSetting, CongestionCamera, Group, Prediction


def test_seed_demo_makes_a_congestion_demo_and_is_idempotent(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo")
    cameras = list(CongestionCamera.objects.order_by("id"))
    assert len(cameras) == 2 and all(c.background_day for c in cameras)
    assert Group.objects.get().cameras.count() == 2
    assert AlertSetting.objects.filter(congestion_camera=cameras[0]).exists()
    assert Prediction.objects.filter(congestion_camera=cameras[0]).exists()  # ≥ 7 days of history
    counts = [c.analyses.count() for c in cameras]
    call_command("seed_demo")
    assert [c.analyses.count() for c in cameras] == counts
    assert CongestionCamera.objects.count() == 2 and Group.objects.count() == 1
    # The demo camera's footage answers like a live camera.
    frame = services.grab_frame(cameras[0].camera)
    assert frame.startswith(b"\xff\xd8")
