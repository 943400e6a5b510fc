"""Congestion tasks: the per-minute schedule, one analysis, prediction, purges.

`schedule_minute` runs every minute (beat) and queues each enabled camera at its own second of
the minute (a stable hash), so a thousand cameras never burst at :00. Two beats, a repeated beat or
several workers are harmless: `analyse_camera` claims its (camera, minute) row by a unique insert,
and only the task that inserts it works. Workers scale out by simply consuming the same queue.

Services import this module at their top and queue a job on commit; a job imports `services`
inside its body, so the two never import each other at load time.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import rules, selectors


def schedule(now: datetime | None = None, send=None) -> int:
    """Queue every enabled camera for the minute of `now`; returns how many were queued.

    Blocked operators (more cameras than congestion licenses) and cameras outside business hours
    are not queued; the analysis re-checks both when it runs.
    """
    now = now or timezone.now()
    minute = rules.minute_of(now)
    send = send or analyse_camera.apply_async
    queued = 0
    blocked: dict[int, bool] = {}
    for cc in selectors.enabled_cameras_for_schedule():
        if cc.operator_id not in blocked:
            blocked[cc.operator_id] = selectors.license_block(operator=cc.operator) is not None
        if blocked[cc.operator_id] or not selectors.is_open_now(congestion_camera=cc, at=minute):
            continue
        countdown = max(0.0, rules.offset_seconds(cc.pk) - (now - minute).total_seconds())
        send(args=[cc.pk, minute.isoformat()], countdown=countdown, expires=minute.timestamp() + 120)
        queued += 1
    return queued


@shared_task(name="congestion.schedule_minute", ignore_result=True)
def schedule_minute() -> int:
    return schedule()


@shared_task(name="congestion.analyse_camera", ignore_result=True, acks_late=True)
def analyse_camera(congestion_camera_id: int, minute: str) -> str:
    from . import services

    moment = parse_datetime(minute)
    if moment is None:
        raise ValueError(f"not an ISO date-time: {minute!r}")
    return services.analysis_run(congestion_camera_id=congestion_camera_id, minute=moment)


@shared_task(name="congestion.recompute_predictions", ignore_result=True)
def recompute_predictions() -> int:
    from . import services

    done = 0
    for cc in selectors.enabled_cameras_for_schedule():
        services.prediction_recompute(congestion_camera=cc)
        done += 1
    return done


@shared_task(name="congestion.recompute_prediction", ignore_result=True)
def recompute_prediction(congestion_camera_id: int) -> bool:
    from . import services

    cc = selectors.congestion_camera_for_task(congestion_camera_id=congestion_camera_id)
    if cc is None:
        return False
    return services.prediction_recompute(congestion_camera=cc).enough_data


@shared_task(
    name="congestion.send_alert_mail",
    ignore_result=True,
    # SMTPException is an OSError; so are connection refused and DNS failures.
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def send_alert_mail(alert_mail_id: int) -> bool:
    """Send one alert mail queued after commit; a retry or a second delivery never sends it twice
    (services.alert_mail_send claims the row)."""
    from . import services

    return services.alert_mail_send(alert_mail_id=alert_mail_id)


@shared_task(name="congestion.purge", ignore_result=True)
def purge() -> dict:
    from . import services

    # Hourly: also re-queue alert mails left pending (broker down at commit, or retries exhausted).
    resent = services.pending_alert_mail_ids()
    for alert_mail_id in resent:
        send_alert_mail.delay(alert_mail_id)
    return {"monitoring": services.purge_monitoring(), "analyses": services.purge_analyses(), "mails": len(resent)}
