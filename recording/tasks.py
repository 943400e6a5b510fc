"""Notification tasks. Each takes ids only, re-reads the device, claims its event once and sends.

Retrying any of them is safe: the claim is made once (a retry finds it made) and delivery sends
only rows still pending, so a transient SMTP failure is retried with backoff and never doubles.

Services import this module at their top and queue a job on commit; a job imports the services it
calls (`mail`, `media_services`) inside its body, so the two never import each other at load time.
"""

from datetime import UTC, datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .media_selectors import media_blocked_reason
from .selectors import device_for_notification

RETRY = {
    # SMTPException is an OSError too; listed for the reader. Connection refused / DNS are OSError.
    "autoretry_for": (OSError, SMTPException),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="recording.notify_trouble", **RETRY)
def notify_trouble(device_id: int, state: str) -> int:
    """Mail the room's recipients that the device entered trouble `state` (once per transition)."""
    from . import mail

    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    mail.trouble_claim(device=device, state=state)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.notify_recovery", **RETRY)
def notify_recovery(device_id: int) -> int:
    """Mail that the device's trouble is resolved (once, and only after a trouble mail)."""
    from . import mail

    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    mail.recovery_claim(device=device)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.notify_trouble_state", **RETRY)
def notify_trouble_state(device_id: int) -> int:
    """Mail whatever the device's current trouble state calls for: trouble, recovery or nothing.
    Safe to call after every probe: unchanged states send nothing."""
    from . import mail

    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    blocked = media_blocked_reason(device)
    if blocked and device.trouble_state != blocked:  # a stopped camera mails only why it stopped
        return 0
    if device.trouble_state:
        mail.trouble_claim(device=device, state=device.trouble_state)
    else:
        mail.recovery_claim(device=device)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.notify_motion", **RETRY)
def notify_motion(device_id: int, at: str | datetime, clip_path: str | None = None) -> int:
    """Mail a motion detection (type "all"), or a recorded clip when `clip_path` (a storage name)
    is given (types "all", "video", "video + troubles"): attached when small, else a signed link."""
    from . import mail

    device = device_for_notification(device_id=device_id)
    if device is None or media_blocked_reason(device):
        return 0
    moment = at if isinstance(at, datetime) else parse_datetime(at)
    if moment is None:
        raise ValueError(f"not an ISO date-time: {at!r}")
    if timezone.is_naive(moment):  # the pipeline's clock is UTC; a bare time is read as such
        moment = moment.replace(tzinfo=UTC)
    mail.motion_claim(device=device, at=moment, clip_path=clip_path)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.close_mail_cooldowns")
def close_mail_cooldowns() -> int:
    """Beat, every 30 s: each room's ended cooldown sends its one follow-up mail (docs/product.md §5.3).
    Safe with several workers and after a restart: the windows and held mails are rows, closed once."""
    from . import mail

    return mail.cooldowns_close()


# ----------------------------------------------------------------------------- recording pipeline


@shared_task(name="recording.supervise_ingest")
def supervise_ingest() -> dict:
    """Beat, every 30 s: one lease per camera with a stream, enabled only while it may record (the
    `run_ingest` workers claim and run them), and any event clip still waiting for its recording."""
    from . import media_services
    from .ingest import ingest_sync

    counts = ingest_sync()
    counts["clips"] = media_services.clips_due()
    return counts


@shared_task(name="recording.make_event_clip", autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def make_event_clip(motion_id: int) -> bool:
    """Cut one motion event's clip (a no-op when already made or claimed by another worker)."""
    from . import media_services

    return media_services.clip_make(motion_id=motion_id) is not None


@shared_task(name="recording.export_run", acks_late=True)
def export_run(export_id: int) -> str:
    """Convert one export to an MP4; progress is written to the row as it goes."""
    from . import media_services

    export = media_services.export_run(export_id=export_id)
    return export.status if export is not None else "skipped"


@shared_task(name="recording.expire_media")
def expire_media() -> dict:
    """Beat, hourly: event clips past the plan's days and exports past 7 days go (files first)."""
    from . import media_services

    return media_services.media_expire()


@shared_task(name="recording.purge_camera_media", autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def purge_camera_media(operator_id: int, camera_id: int) -> int:
    """The files of a camera whose registration was deleted (queued by recording.signals)."""
    from . import media_services

    return media_services.camera_media_purge(operator_id=operator_id, camera_id=camera_id)


@shared_task(name="recording.trouble_refresh_building")
def trouble_refresh_building(refresh_id: int, camera_ids: list[int]) -> int:
    """ "Refresh trouble info" of a whole building: each camera probed in turn (recording/trouble.py)."""
    from . import trouble

    run = trouble.building_trouble_refresh_run(refresh_id=refresh_id, camera_ids=camera_ids)
    return run.done if run else 0
