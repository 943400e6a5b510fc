"""Alert mail goes out after commit through a retrying task, exactly once; group counts skip stale cameras."""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail

from congestion import selectors, services, tasks
from congestion.models import AlertMail, HoursRule, PublicImage
from congestion.services import alerts
from workers.people.detector import FakeDetector, Person

from .conftest import jpeg, register

MINUTE = datetime.fromisoformat("2024-06-03T10:00:00+09:00")  # a Monday


def fake(n: int) -> FakeDetector:
    return FakeDetector([Person(5 + 10 * i, 5, 12 + 10 * i, 40, 0.9) for i in range(n)])


def run(cc, n: int, minute=MINUTE):
    return services.analysis_run(
        congestion_camera_id=cc.pk,
        minute=minute,
        grab=lambda camera: jpeg(),
        detector=fake(n),
        now=lambda: minute + timedelta(seconds=3),
    )


def alert(alpha, **owner):
    services.alert_update(
        user=alpha.admin, steps=2, thresholds=[3], image_enabled=False, images=[], mail_enabled=True,
        recipients=["guard@example.com"], **owner,
    )  # fmt: skip


def test_mail_is_sent_only_after_commit(cc, alpha, django_capture_on_commit_callbacks):
    alert(alpha, congestion_camera=cc)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert run(cc, 5) == "done"
    assert mail.outbox == [] and len(callbacks) == 1  # nothing sent inside the transaction
    assert AlertMail.objects.get().status == AlertMail.Status.PENDING
    callbacks[0]()
    assert len(mail.outbox) == 1 and AlertMail.objects.get().status == AlertMail.Status.SENT


def test_a_second_delivery_of_the_task_does_not_mail_again(cc, alpha, django_capture_on_commit_callbacks):
    alert(alpha, congestion_camera=cc)
    with django_capture_on_commit_callbacks(execute=True):
        run(cc, 5)
    row = AlertMail.objects.get()
    assert tasks.send_alert_mail.apply(args=[row.pk]).get() is False  # redelivered / retried: claimed already
    assert services.alert_mail_send(alert_mail_id=row.pk) is False
    assert len(mail.outbox) == 1


def test_a_failing_smtp_server_gives_the_claim_back_then_the_retry_sends_once(cc, alpha, monkeypatch):
    alert(alpha, congestion_camera=cc)
    row = AlertMail.objects.create(
        operator_id=cc.operator_id, congestion_camera=cc, subject="s", body="b", recipients=["guard@example.com"]
    )
    real = alerts.send_mail
    monkeypatch.setattr(alerts, "send_mail", lambda *a, **k: (_ for _ in ()).throw(ConnectionRefusedError()))
    with pytest.raises(ConnectionRefusedError):
        services.alert_mail_send(alert_mail_id=row.pk)
    row.refresh_from_db()
    assert row.status == AlertMail.Status.PENDING and row.attempts == 1 and mail.outbox == []
    monkeypatch.setattr(alerts, "send_mail", real)
    assert services.alert_mail_send(alert_mail_id=row.pk) is True
    assert services.alert_mail_send(alert_mail_id=row.pk) is False
    row.refresh_from_db()
    assert row.status == AlertMail.Status.SENT and row.attempts == 2 and len(mail.outbox) == 1


def test_the_task_retries_on_smtp_errors_with_an_explicit_name():
    task = tasks.send_alert_mail
    assert task.name == "congestion.send_alert_mail"
    assert OSError in task.autoretry_for and task.max_retries >= 3


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(cc, alpha):
    row = AlertMail.objects.create(
        operator_id=cc.operator_id, congestion_camera=cc, subject="s", body="b", recipients=["a@example.com"],
        status=AlertMail.Status.SENDING, claimed_at=MINUTE,
    )  # fmt: skip
    assert services.alert_mail_send(alert_mail_id=row.pk, now=MINUTE + timedelta(minutes=1)) is False
    assert services.alert_mail_send(alert_mail_id=row.pk, now=MINUTE + timedelta(minutes=11)) is True
    assert len(mail.outbox) == 1


def test_group_count_ignores_cameras_not_answering_or_outside_hours(cc, alpha, second_camera):
    other = register(second_camera)
    group = services.group_create(
        user=alpha.admin, operator=alpha.operator, name="Floor", cameras=[cc, other], default_camera=cc
    )
    run(cc, 3)
    run(other, 4)
    assert selectors.group_count(group=group, at=MINUTE + timedelta(minutes=1)) == 7
    # `other` stops answering: 6 minutes later only cc's fresh count remains.
    run(cc, 2, minute=MINUTE + timedelta(minutes=6))
    assert selectors.group_count(group=group, at=MINUTE + timedelta(minutes=6, seconds=10)) == 2
    # cc closes at 10:00-10:05 only on Mondays: at 10:06 it is outside its hours and drops out.
    services.hours_rule_add(
        user=alpha.admin, congestion_camera=cc, kind=HoursRule.Kind.BASE, weekdays=[0], start=time(10), end=time(10, 5)
    )
    services.hours_enabled_set(user=alpha.admin, congestion_camera=cc, enabled=True)
    assert PublicImage.objects.filter(congestion_camera=cc).exists()
    assert selectors.group_count(group=group, at=MINUTE + timedelta(minutes=6, seconds=10)) == 0


def test_group_alert_does_not_fire_from_a_stale_camera(cc, alpha, second_camera, django_capture_on_commit_callbacks):
    other = register(second_camera)
    group = services.group_create(
        user=alpha.admin, operator=alpha.operator, name="Floor", cameras=[cc, other], default_camera=cc
    )
    services.alert_update(
        user=alpha.admin, group=group, steps=2, thresholds=[5], image_enabled=False, images=[], mail_enabled=True,
        recipients=["floor@example.com"],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        run(other, 4)  # then `other` goes silent
        run(cc, 3, minute=MINUTE + timedelta(minutes=10))  # 3 + a 10-minute-old 4 would be over 5
    assert mail.outbox == []
