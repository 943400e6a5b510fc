"""A room's mail cooldown (docs/product.md §5.3): the first motion / video mail goes at once, the room's
next ones wait for one follow-up mail at the end of the window; trouble and recovery mails never wait.

Time is moved by patching `timezone.now` (the `clock` fixture), never by sleeping.
"""

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from demo.mail_sink import MailSink
from devices.models import TroubleState
from recording import mail as mail_service
from recording import tasks
from recording.models import NotificationLog, NotificationSetting, NotificationWindow
from recording.services import notification_setting_update
from recording.sunk_mails import list_mails
from tests.conftest import client_for
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 5, 5, tzinfo=UTC)  # 14:05 in Tokyo


@dataclass
class Clock:
    now: datetime

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock(START)
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return settings.MEDIA_ROOT


def configure(tenant, notification_type: str = "all", recipients=("kanri@example.com",), cooldown=None) -> None:
    notification_setting_update(
        user=tenant.admin,
        room=tenant.room,
        notification_type=notification_type,
        recipients=list(recipients),
        cooldown_minutes=cooldown,
    )


def detect(camera, clock: Clock, clip_path: str | None = None) -> None:
    """One detection now, as the pipeline queues it (motion; or its recorded clip)."""
    tasks.notify_motion.delay(camera.pk, clock.now.isoformat(), clip_path)


def beat() -> int:
    return tasks.close_mail_cooldowns.delay().get()


def room_url(room) -> str:
    return reverse("recording:notification_room", kwargs={"room_id": room.pk})


def api_url(room) -> str:
    return reverse("room-notification-setting", kwargs={"room_id": room.pk})


# ----------------------------------------------------------------------------- the window


def test_the_first_detection_mails_at_once_and_five_more_go_in_one_follow_up_with_links(alpha, clock, media, settings):
    configure(alpha)  # "all", default cooldown of 10 minutes
    second = CameraFactory(room=alpha.room, name="Alpha Back Cam")
    detect(alpha.camera, clock)
    assert len(mail.outbox) == 1
    assert "Motion detected: Alpha Cam" in mail.outbox[0].subject
    assert "within the next 10 minutes are not mailed one by one" in mail.outbox[0].body

    clips = []
    for minute, camera in enumerate([alpha.camera, second, alpha.camera, second, alpha.camera], start=1):
        clock.now = START + timedelta(minutes=minute, seconds=30)
        clip = None
        if minute % 2:  # three recorded videos, two detections without a clip
            clip = default_storage.save(f"clips/alpha/clip-{minute}.mp4", ContentFile(b"video %d" % minute))
            clips.append((clip, b"video %d" % minute))
        detect(camera, clock, clip)
        assert beat() == 0
    assert len(mail.outbox) == 1, "held during the window"
    assert NotificationLog.objects.filter(status="held").count() == 5

    clock.now = START + timedelta(minutes=9, seconds=59)
    assert beat() == 0
    assert len(mail.outbox) == 1
    clock.now = START + timedelta(minutes=10)
    assert beat() == 1
    assert beat() == 0  # the next beat finds nothing more
    assert len(mail.outbox) == 2
    follow_up = mail.outbox[1]
    assert follow_up.to == ["kanri@example.com"]
    assert "5 more detections: Alpha Entrance (Alpha Tower)" in follow_up.subject
    body = follow_up.body
    english = body.split("----------------------------------------")[1]
    listed = re.findall(r"^\d+\. (\S+ \S+)  (.+?)  (.+)$", english, flags=re.M)
    assert listed == [
        ("2026-03-02 14:06:30", "Alpha Cam", "Recorded video"),
        ("2026-03-02 14:07:30", "Alpha Back Cam", "Motion detected"),
        ("2026-03-02 14:08:30", "Alpha Cam", "Recorded video"),
        ("2026-03-02 14:09:30", "Alpha Back Cam", "Motion detected"),
        ("2026-03-02 14:10:30", "Alpha Cam", "Recorded video"),
    ]
    japanese = body.split("----------------------------------------")[0]
    assert "さらに5件の検知" in japanese and "動体検知" in japanese and "撮影映像" in japanese
    assert "追加の検知 5件" in follow_up.subject
    player_links = re.findall(r"Player: (\S+)", english)
    assert len(player_links) == 5
    assert player_links[1] == (
        f"{settings.PORTAL_SITE_URL}/recording/cameras/{second.pk}/player/?day=2026-03-02&view=continuous"
    )
    admin = client_for(alpha.admin)
    for link in player_links:
        assert admin.get(link.removeprefix(settings.PORTAL_SITE_URL)).status_code == 200
    video_links = re.findall(r"Video: (\S+)", english)
    assert len(video_links) == 3
    for link, (_name, content) in zip(video_links, clips, strict=True):
        response = Client().get(link.removeprefix(settings.PORTAL_SITE_URL))  # the signed link, as in the mails
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
    assert set(NotificationLog.objects.filter(event__in=["motion", "video"]).values_list("status", flat=True)) == {
        "sent",
        "bundled",
    }


def test_the_follow_up_goes_through_real_smtp_to_the_sink(alpha, clock, settings, tmp_path):
    configure(alpha, recipients=["kanri@example.com", "guard@example.com"])
    with MailSink(tmp_path / "sink") as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        detect(alpha.camera, clock)
        for _ in range(2):
            clock.advance(minutes=2)
            detect(alpha.camera, clock)
        clock.advance(minutes=10)
        assert beat() == 1
    received = list_mails(tmp_path / "sink")
    assert len(received) == 2
    (follow_up,) = [m for m in received if "2 more detections: Alpha Entrance" in m.subject]
    assert "kanri@example.com" in follow_up.to and "guard@example.com" in follow_up.to
    text = follow_up.message.get_body(preferencelist=("plain",)).get_content()
    assert text.count("/player/?day=2026-03-02&view=continuous") == 4  # two items, Japanese and English


def test_a_detection_after_the_window_mails_at_once_and_opens_the_next(alpha, clock):
    configure(alpha, cooldown=5)
    detect(alpha.camera, clock)
    clock.advance(minutes=5)
    detect(alpha.camera, clock)
    assert len(mail.outbox) == 2
    clock.advance(minutes=2)
    detect(alpha.camera, clock)
    assert len(mail.outbox) == 2
    clock.advance(minutes=3)
    beat()
    assert len(mail.outbox) == 3
    assert "1 more detection:" in mail.outbox[2].subject


def test_a_window_with_nothing_held_sends_no_follow_up(alpha, clock):
    configure(alpha)
    detect(alpha.camera, clock)
    clock.advance(minutes=11)
    assert beat() == 0
    assert len(mail.outbox) == 1
    assert NotificationWindow.objects.get().state == "closed"


def test_the_cooldown_is_per_room(alpha, site, clock):
    configure(alpha)
    notification_setting_update(
        user=alpha.admin, room=site.room2, notification_type="all", recipients=["parking@example.com"]
    )
    detect(alpha.camera, clock)
    detect(site.camera2, clock)
    clock.advance(minutes=1)
    detect(site.camera2, clock)
    assert [m.to for m in mail.outbox] == [["kanri@example.com"], ["parking@example.com"]]


def test_detections_nobody_receives_open_no_window(alpha, clock):
    configure(alpha, notification_type="troubles")
    detect(alpha.camera, clock)
    assert NotificationWindow.objects.count() == 0
    configure(alpha, notification_type="all")
    clock.advance(seconds=1)
    detect(alpha.camera, clock)
    assert len(mail.outbox) == 1  # the first one anybody receives goes at once


def test_trouble_and_recovery_mails_during_a_window_go_at_once(alpha, clock):
    configure(alpha)
    detect(alpha.camera, clock)
    clock.advance(minutes=1)
    detect(alpha.camera, clock)  # held
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    assert len(mail.outbox) == 2
    assert "Trouble: Alpha Cam" in mail.outbox[1].subject
    clock.advance(minutes=1)
    tasks.notify_recovery.delay(alpha.camera.pk)
    assert len(mail.outbox) == 3
    assert "Trouble resolved: Alpha Cam" in mail.outbox[2].subject
    clock.advance(minutes=9)
    beat()
    assert len(mail.outbox) == 4
    assert "1 more detection:" in mail.outbox[3].subject


def test_the_follow_up_follows_the_rooms_setting_as_it_is_when_the_window_ends(alpha, clock):
    configure(alpha)
    detect(alpha.camera, clock)
    clock.advance(minutes=1)
    detect(alpha.camera, clock)
    configure(alpha, recipients=["night-guard@example.com"])
    clock.advance(minutes=10)
    beat()
    assert [m.to for m in mail.outbox] == [["kanri@example.com"], ["night-guard@example.com"]]

    detect(alpha.camera, clock)
    clock.advance(minutes=1)
    detect(alpha.camera, clock)
    configure(alpha, notification_type="troubles", recipients=["night-guard@example.com"])
    clock.advance(minutes=10)
    assert beat() == 0
    assert len(mail.outbox) == 3, "set to troubles only during the window: the held detection is dropped"
    assert NotificationLog.objects.filter(status="held").count() == 0


def test_the_rooms_cooldown_sets_the_windows_length(alpha, clock):
    configure(alpha, cooldown=1)
    detect(alpha.camera, clock)
    clock.advance(seconds=30)
    detect(alpha.camera, clock)
    clock.advance(seconds=29)
    beat()
    assert len(mail.outbox) == 1
    clock.advance(seconds=1)
    beat()
    assert len(mail.outbox) == 2
    assert "mail cooldown (1 min)" in mail.outbox[1].body


def test_a_failed_follow_up_stays_and_the_next_beat_sends_it_once(alpha, clock, monkeypatch):
    configure(alpha)
    detect(alpha.camera, clock)
    clock.advance(minutes=1)
    detect(alpha.camera, clock)
    clock.advance(minutes=10)
    real_send = mail_service.EmailMessage.send

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(mail_service.EmailMessage, "send", smtp_down)
    assert beat() == 0
    digest = NotificationLog.objects.get(event="digest")
    assert digest.status == "pending" and "smtp down" in digest.last_error
    monkeypatch.setattr(mail_service.EmailMessage, "send", real_send)
    assert beat() == 1
    assert beat() == 0
    assert len(mail.outbox) == 2


def test_the_window_lives_in_the_database_so_a_restarted_worker_sends_the_follow_up(alpha, clock):
    """What a worker needs to finish a window is in rows: a fresh process (nothing in memory) only
    runs the beat task. The held mail is also never sent by the device's other mail deliveries."""
    configure(alpha)
    detect(alpha.camera, clock)
    clock.advance(minutes=2)
    detect(alpha.camera, clock)
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)  # delivers the device's pending rows
    assert [m.subject.count("Motion detected") > 0 for m in mail.outbox] == [True, False]
    window = NotificationWindow.objects.get()
    assert (window.state, window.ends_at) == ("open", START + timedelta(minutes=10))
    assert NotificationLog.objects.get(status="held").window == window
    clock.advance(minutes=30)  # the worker was down for the window's end
    assert beat() == 1
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_window_send_one_follow_up(alpha, clock):
    configure(alpha)
    detect(alpha.camera, clock)
    for _ in range(3):
        clock.advance(minutes=1)
        detect(alpha.camera, clock)
    clock.advance(minutes=10)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            mail_service.cooldowns_close()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(mail.outbox) == 2
    assert NotificationLog.objects.filter(event="digest").count() == 1
    assert "3 more detections" in mail.outbox[1].subject


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_detections_at_once_mail_one_and_hold_the_other(alpha, clock):
    configure(alpha)
    second = CameraFactory(room=alpha.room, name="Alpha Back Cam")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(camera) -> None:
        try:
            barrier.wait()
            detect(camera, clock)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(camera,)) for camera in (alpha.camera, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(mail.outbox) == 1
    assert NotificationWindow.objects.count() == 1
    assert sorted(NotificationLog.objects.values_list("status", flat=True)) == ["held", "sent"]


# ----------------------------------------------------------------------------- the setting: page and API


def test_the_page_shows_and_changes_the_cooldown(alpha):
    configure(alpha)
    client = client_for(alpha.admin)
    page = client.get(room_url(alpha.room))
    assert b'name="cooldown_minutes"' in page.content and b'value="10"' in page.content
    response = client.post(
        room_url(alpha.room),
        {"recipients": "kanri@example.com", "notification_type": "all", "cooldown_minutes": "30"},
    )
    assert response.status_code == 302
    assert NotificationSetting.objects.get(room=alpha.room).cooldown_minutes == 30
    building = client.get(reverse("recording:notification_building", kwargs={"building_id": alpha.building.pk}))
    assert b"30 minutes" in building.content


@pytest.mark.parametrize(
    ("minutes", "message"), [("0", "below 1 minute"), ("-5", "below 1 minute"), ("1441", "above 24 hours")]
)
def test_the_page_refuses_a_cooldown_out_of_range_and_changes_nothing(alpha, minutes, message):
    configure(alpha, cooldown=15)
    response = client_for(alpha.admin).post(
        room_url(alpha.room),
        {"recipients": "other@example.com", "notification_type": "troubles", "cooldown_minutes": minutes},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["cooldown_minutes"]
    setting = NotificationSetting.objects.get(room=alpha.room)
    assert (setting.cooldown_minutes, setting.recipients, setting.notification_type) == (
        15,
        ["kanri@example.com"],
        "all",
    )


def test_the_api_reads_and_changes_the_cooldown(alpha):
    client = client_for(alpha.admin)
    assert client.get(api_url(alpha.room)).json()["cooldown_minutes"] == 10  # the default, unsaved
    response = client.put(
        api_url(alpha.room),
        {"notification_type": "all", "recipients": ["kanri@example.com"], "cooldown_minutes": 45},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["cooldown_minutes"] == 45
    response = client.patch(api_url(alpha.room), {"cooldown_minutes": 5}, content_type="application/json")
    assert response.json() == {**response.json(), "cooldown_minutes": 5, "notification_type": "all"}
    response = client.patch(api_url(alpha.room), {"notification_type": "video"}, content_type="application/json")
    assert response.json()["cooldown_minutes"] == 5  # absent keeps it
    assert NotificationSetting.objects.get(room=alpha.room).cooldown_minutes == 5


@pytest.mark.parametrize("minutes", [0, -1, 1441])
def test_the_api_refuses_a_cooldown_out_of_range_and_changes_nothing(alpha, minutes):
    configure(alpha, cooldown=15)
    client = client_for(alpha.admin)
    for method in (client.put, client.patch):
        response = method(
            api_url(alpha.room),
            {"notification_type": "none", "recipients": [], "cooldown_minutes": minutes},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "Choose 1 to 1440 minutes (24 hours)." in response.json()["cooldown_minutes"][0]
    setting = NotificationSetting.objects.get(room=alpha.room)
    assert (setting.cooldown_minutes, setting.recipients, setting.notification_type) == (
        15,
        ["kanri@example.com"],
        "all",
    )


def test_another_operators_room_is_a_404_and_keeps_its_cooldown(alpha, bravo):
    configure(bravo, cooldown=20)
    client = client_for(alpha.admin)
    url = api_url(bravo.room)
    assert client.get(url).status_code == 404
    body = {"notification_type": "all", "recipients": [], "cooldown_minutes": 60}
    assert client.put(url, body, content_type="application/json").status_code == 404
    assert client.patch(url, {"cooldown_minutes": 60}, content_type="application/json").status_code == 404
    assert client.post(room_url(bravo.room), {**body, "recipients": ""}).status_code == 404
    assert NotificationSetting.objects.get(room=bravo.room).cooldown_minutes == 20


def test_a_viewer_cannot_change_the_cooldown(alpha):
    configure(alpha, cooldown=15)
    response = client_for(alpha.viewer).patch(
        api_url(alpha.room), {"cooldown_minutes": 60}, content_type="application/json"
    )
    assert response.status_code == 403
    assert NotificationSetting.objects.get(room=alpha.room).cooldown_minutes == 15
