"""Expiry reminders: partner 90/60/30/14 days and 24 h, customer 14 and 1 day; each exactly once."""

from datetime import timedelta

from django.core import mail

from licensing import services
from licensing.models import ReminderSent
from licensing.tasks import send_expiry_reminders
from tests.licensing.factories import give_camera_licenses


def _mails_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to]


def test_the_90_day_reminder_goes_to_the_partner_once_when_the_task_runs_twice(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at - timedelta(days=90) + timedelta(minutes=5))
    assert send_expiry_reminders() == 1
    assert send_expiry_reminders() == 0
    assert len(_mails_to(partner.admin.email)) == 1
    assert _mails_to(alpha.admin.email) == []
    assert "90 days" in mail.outbox[0].subject


def test_a_late_run_still_sends_the_reminder_once(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at - timedelta(days=13))  # the 14-day moment passed a day ago
    services.reminders_send()
    services.reminders_send()
    assert ReminderSent.objects.filter(license=lic, step="customer_14d", skipped=False).count() == 1
    assert len(_mails_to(alpha.admin.email)) == 1
    assert len(_mails_to(partner.admin.email)) == 1  # only the latest partner step is mailed
    assert set(ReminderSent.objects.filter(license=lic, skipped=True).values_list("step", flat=True)) == {
        "partner_90d", "partner_60d", "partner_30d",
    }  # fmt: skip


def test_every_step_arrives_exactly_once_over_the_whole_term_end(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    now = lic.expires_at - timedelta(days=95)
    while now < lic.expires_at + timedelta(hours=6):
        set_now(now)
        services.reminders_send()
        now += timedelta(hours=6)
    assert len(_mails_to(partner.admin.email)) == 5
    assert len(_mails_to(alpha.admin.email)) == 2


def test_a_failed_mail_is_retried_on_the_next_run(partner, alpha, set_now, monkeypatch):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at - timedelta(days=90) + timedelta(minutes=5))

    def broken(**kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(services, "_send", broken)
    try:
        services.reminders_send()
    except OSError:
        pass
    assert not ReminderSent.objects.filter(license=lic).exists()
    monkeypatch.undo()
    assert services.reminders_send() == 1
