"""Notification mails: once per transition, filtered by type, clips attached or linked, bilingual."""

import email
import email.policy
import threading
from datetime import UTC, datetime

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client

from demo.mail_sink import MailSink
from devices.models import TroubleState
from recording import mail as mail_service
from recording import tasks
from recording.models import NotificationLog
from recording.services import notification_setting_update
from recording.sunk_mails import list_mails

pytestmark = pytest.mark.django_db


def configure(tenant, notification_type: str, recipients: list[str], room=None) -> None:
    notification_setting_update(
        user=tenant.admin, room=room or tenant.room, notification_type=notification_type, recipients=recipients
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_trouble_mail_is_sent_once_per_transition_even_when_the_task_runs_twice(alpha):
    configure(alpha, "troubles", ["kanri@example.com"])
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    tasks.notify_trouble(alpha.camera.pk, TroubleState.NETWORK)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kanri@example.com"]
    assert "Trouble: Alpha Cam" in message.subject
    assert "Network disconnected" in message.body

    tasks.notify_recovery.delay(alpha.camera.pk)
    tasks.notify_recovery.delay(alpha.camera.pk)
    assert len(mail.outbox) == 2
    assert "Trouble resolved: Alpha Cam" in mail.outbox[1].subject

    # A new fault after the recovery is a new transition: one more mail.
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    assert len(mail.outbox) == 3


def test_recovery_without_a_trouble_mail_sends_nothing(alpha):
    configure(alpha, "troubles", ["kanri@example.com"])
    tasks.notify_recovery.delay(alpha.camera.pk)
    assert mail.outbox == []


def test_the_state_task_mails_the_devices_current_state_once(alpha):
    configure(alpha, "troubles", ["kanri@example.com"])
    alpha.camera.trouble_state = TroubleState.STORAGE
    alpha.camera.save()
    for _ in range(3):  # e.g. a probe every minute while the fault lasts
        tasks.notify_trouble_state.delay(alpha.camera.pk)
    alpha.camera.trouble_state = TroubleState.NONE
    alpha.camera.save()
    for _ in range(3):
        tasks.notify_trouble_state.delay(alpha.camera.pk)
    assert len(mail.outbox) == 2
    assert "Trouble: Alpha Cam" in mail.outbox[0].subject
    assert "Storage (SD card) error" in mail.outbox[0].body
    assert "Trouble resolved" in mail.outbox[1].subject


def test_two_claims_of_the_same_transition_produce_one_mail_row(alpha):
    configure(alpha, "troubles", ["kanri@example.com"])
    first = mail_service.trouble_claim(device=alpha.camera, state=TroubleState.NETWORK)
    second = mail_service.trouble_claim(device=alpha.camera, state=TroubleState.NETWORK)
    assert first is not None and second is None
    assert mail_service.deliver_pending(device=alpha.camera) == 1
    assert mail_service.notification_deliver(log=first) is False  # already sent: the claim fails
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_mail_a_transition_once(alpha):
    """Two threads (two database connections, like two workers) run the task at the same moment."""
    configure(alpha, "troubles", ["kanri@example.com"])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            tasks.notify_trouble(alpha.camera.pk, TroubleState.NETWORK)
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
    assert len(mail.outbox) == 1
    assert NotificationLog.objects.filter(event="trouble").count() == 1


def test_a_failed_send_is_retried_and_still_sent_once(alpha, monkeypatch):
    configure(alpha, "troubles", ["kanri@example.com"])
    calls = {"n": 0}
    real_send = mail_service.EmailMessage.send

    def flaky_send(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("smtp down")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail_service.EmailMessage, "send", flaky_send)
    with pytest.raises((Retry, ConnectionRefusedError)):  # the task asks Celery for a retry
        tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    assert NotificationLog.objects.get(event="trouble").status == "pending"
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)  # the retry
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)  # and a duplicate delivery of it
    assert calls["n"] == 2
    assert len(mail.outbox) == 1
    log = NotificationLog.objects.get(event="trouble")
    assert (log.status, log.attempts) == ("sent", 2)


@pytest.mark.parametrize(
    ("notification_type", "mailed"),
    [("none", False), ("all", True), ("troubles", True), ("video", False), ("video_troubles", True)],
)
def test_trouble_mails_honour_the_notification_type(alpha, notification_type, mailed):
    configure(alpha, notification_type, ["r@example.com"])
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.UNKNOWN)
    assert len(mail.outbox) == (1 if mailed else 0)


def test_only_the_devices_own_room_is_mailed(alpha, site):
    configure(alpha, "troubles", ["entrance@example.com"])
    configure(alpha, "troubles", ["parking@example.com"], room=site.room2)
    tasks.notify_trouble.delay(site.camera2.pk, TroubleState.NETWORK)
    assert [m.to for m in mail.outbox] == [["parking@example.com"]]


def test_motion_is_mailed_to_type_all_only(alpha):
    configure(alpha, "video", ["video@example.com"])
    at = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
    tasks.notify_motion.delay(alpha.camera.pk, at.isoformat())
    assert mail.outbox == []
    configure(alpha, "all", ["all@example.com"])
    tasks.notify_motion.delay(alpha.camera.pk, at.replace(minute=1).isoformat())
    tasks.notify_motion.delay(alpha.camera.pk, at.replace(minute=1).isoformat())  # the same event again
    assert [m.to for m in mail.outbox] == [["all@example.com"]]
    assert "Motion detected: Alpha Cam" in mail.outbox[0].subject


def test_a_small_clip_is_attached_for_video_recipients(alpha, media):
    configure(alpha, "video", ["video@example.com"])
    name = default_storage.save("clips/alpha/clip-0001.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 1000))
    tasks.notify_motion.delay(alpha.camera.pk, "2025-05-01T12:00:00+09:00", name)
    assert len(mail.outbox) == 1
    attachments = mail.outbox[0].attachments
    assert [(a[0], a[2]) for a in attachments] == [("clip-0001.mp4", "video/mp4")]
    assert "The video is attached" in mail.outbox[0].body


def test_a_large_clip_is_linked_and_the_link_downloads_it(alpha, media, settings):
    settings.RECORDING_MAIL_ATTACHMENT_MAX_BYTES = 100
    configure(alpha, "all", ["all@example.com"])
    content = b"x" * 500
    name = default_storage.save("clips/alpha/big.mp4", ContentFile(content))
    tasks.notify_motion.delay(alpha.camera.pk, "2025-05-01T12:00:00+09:00", name)
    message = mail.outbox[0]
    assert message.attachments == []
    link = next(line for line in message.body.splitlines() if "/recording/clips/download/?t=" in line)
    path = link.split(settings.PORTAL_SITE_URL, 1)[1]
    response = Client().get(path)  # no login: the signed token is the authorization
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert Client().get(path[:-3] + "abc").status_code == 404  # tampered token


def test_mails_carry_japanese_and_english(alpha):
    configure(alpha, "troubles", ["kanri@example.com"])
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    message = mail.outbox[0]
    assert "トラブル" in message.subject and "Trouble" in message.subject
    assert "ネットワーク" in message.body and "Network disconnected" in message.body


def test_a_device_of_no_room_setting_and_no_recipients_sends_nothing_but_claims(alpha):
    tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    assert mail.outbox == []
    assert NotificationLog.objects.get().status == "skipped"


def test_mail_goes_through_real_smtp_to_the_aiosmtpd_sink(alpha, settings, tmp_path):
    configure(alpha, "troubles", ["kanri@example.com", "guard@example.com"])
    with MailSink(tmp_path / "sink") as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        tasks.notify_trouble.delay(alpha.camera.pk, TroubleState.NETWORK)
    received = list_mails(tmp_path / "sink")
    assert len(received) == 1
    assert "Trouble: Alpha Cam" in received[0].subject
    assert "kanri@example.com" in received[0].to and "guard@example.com" in received[0].to
    raw = next((tmp_path / "sink").glob("*.eml")).read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Network disconnected" in parsed.get_body(preferencelist=("plain",)).get_content()
