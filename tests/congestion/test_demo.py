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


def test_the_demo_shows_silhouettes_and_counts_at_night(db, settings, tmp_path, monkeypatch):
    """05:30 in Tokyo, a new user's first minutes: the entrance is analysed (silhouettes, a count, on the
    console and the public embed); the bicycle parking keeps its hours and shows the off-hours image."""
    from datetime import datetime, time

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from congestion import tasks
    from congestion.models import PublicImage
    from congestion.views.common import _static_jpeg, camera_display_jpeg

    settings.MEDIA_ROOT = str(tmp_path)
    night = timezone.make_aware(datetime.combine(timezone.localdate(), time(5, 30)))
    monkeypatch.setattr(timezone, "now", lambda: night)
    call_command("seed_demo")
    entrance, parking = CongestionCamera.objects.order_by("id")
    assert (entrance.display_name, parking.display_name) == ("Sakura entrance", "Sakura bicycle parking")
    queued = []
    assert tasks.schedule(now=night, send=lambda args, **_: queued.append(args[0])) == 1
    assert queued == [entrance.pk]  # the next beat analyses the entrance: within two minutes of the start
    assert services.analysis_run(congestion_camera_id=entrance.pk, minute=night, now=lambda: night) == "done"
    public = PublicImage.objects.get(congestion_camera=entrance)
    assert public.count > 0  # vtest.mp4's walkers
    shown = camera_display_jpeg(entrance)
    assert shown not in (_static_jpeg("offhours.jpg"), _static_jpeg("waiting.jpg"))
    assert camera_display_jpeg(parking) == _static_jpeg("offhours.jpg")
    embed = Client().get(reverse("embed_public:image", kwargs={"embed_key": entrance.embed_key}))
    assert embed["X-Embed-State"] == "ok" and embed["X-Embed-Count"] == str(public.count)
    assert Client().get(reverse("embed_public:image", kwargs={"embed_key": parking.embed_key}))["X-Embed-State"] == (
        "closed"
    )
