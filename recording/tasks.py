"""Notification tasks. Each takes ids only, re-reads the device, claims its event once and sends.

Retrying any of them is safe: the claim is made once (a retry finds it made) and delivery sends
only rows still pending, so a transient SMTP failure is retried with backoff and never doubles.
"""

from datetime import UTC, datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import mail
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
    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    mail.trouble_claim(device=device, state=state)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.notify_recovery", **RETRY)
def notify_recovery(device_id: int) -> int:
    """Mail that the device's trouble is resolved (once, and only after a trouble mail)."""
    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    mail.recovery_claim(device=device)
    return mail.deliver_pending(device=device)


@shared_task(name="recording.notify_trouble_state", **RETRY)
def notify_trouble_state(device_id: int) -> int:
    """Mail whatever the device's current trouble state calls for: trouble, recovery or nothing.
    Safe to call after every probe: unchanged states send nothing."""
    device = device_for_notification(device_id=device_id)
    if device is None:
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
    device = device_for_notification(device_id=device_id)
    if device is None:
        return 0
    moment = at if isinstance(at, datetime) else parse_datetime(at)
    if moment is None:
        raise ValueError(f"not an ISO date-time: {at!r}")
    if timezone.is_naive(moment):  # the pipeline's clock is UTC; a bare time is read as such
        moment = moment.replace(tzinfo=UTC)
    mail.motion_claim(device=device, at=moment, clip_path=clip_path)
    return mail.deliver_pending(device=device)
