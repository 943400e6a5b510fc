from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from tenants.models import LoginHistory
from tenants.tasks import purge_login_history


def test_purge_deletes_login_records_older_than_90_days_only(alpha, bravo):
    now = timezone.now()
    for user, days in ((alpha.viewer, 91), (alpha.viewer, 89), (bravo.admin, 120), (bravo.admin, 1)):
        LoginHistory.objects.create(operator=user.operator, user=user, at=now - timedelta(days=days))
    assert purge_login_history.delay().get() == 2
    assert sorted((now - at).days for at in LoginHistory.objects.values_list("at", flat=True)) == [1, 89]
    assert purge_login_history.delay().get() == 0  # idempotent


def test_purge_runs_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "tenants.purge_login_history" in tasks
