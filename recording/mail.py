"""Notification mails: trouble / recovery once per transition, motion and recorded video.

The flow is claim → deliver. A claim writes a NotificationLog row (with the recipients the
room's setting allows for that event) only if nobody has claimed the same event yet:
transitions by a conditional UPDATE of the device's DeviceNotificationState, motion events by
a unique key. Delivery claims each pending row `pending → sending` with another conditional
UPDATE, so concurrent workers and retried tasks mail each event at most once; a failed send
puts the row back to pending and the task's retry sends it.

Recipients are plain addresses with no known language, so every mail carries Japanese then
English (the same templates rendered under each language).
"""

import logging
import posixpath
import uuid
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from devices.models import Device, TroubleState

from .models import DeviceNotificationState, NotificationEvent, NotificationLog
from .rules import type_receives
from .selectors import notification_setting_for, pending_notifications

logger = logging.getLogger(__name__)

MAIL_LANGUAGES = ("ja", "en")
CLIP_LINK_SALT = "recording.clip-link"


def attachment_max_bytes() -> int:
    return getattr(settings, "RECORDING_MAIL_ATTACHMENT_MAX_BYTES", 8 * 1024 * 1024)


def clip_link_max_age() -> int:
    return getattr(settings, "RECORDING_MAIL_LINK_MAX_AGE_SECONDS", 7 * 24 * 3600)


# ----------------------------------------------------------------------------- claims


def recipients_for(*, device: Device, event: str) -> list[str]:
    """The addresses of the device's room whose notification type receives `event`."""
    setting = notification_setting_for(room=device.room)
    return list(setting.recipients) if type_receives(setting.notification_type, event) else []


def _log(*, device: Device, event: str, dedupe_key: str, **fields) -> NotificationLog:
    recipients = recipients_for(device=device, event=event)
    return NotificationLog.objects.create(
        operator_id=device.operator_id,
        device=device,
        event=event,
        dedupe_key=dedupe_key,
        recipients=recipients,
        status=NotificationLog.Status.PENDING if recipients else NotificationLog.Status.SKIPPED,
        **fields,
    )


@transaction.atomic
def _claim_transition(*, device: Device, state: str) -> NotificationLog | None:
    row, _created = DeviceNotificationState.objects.get_or_create(
        device=device, defaults={"operator_id": device.operator_id}
    )
    # The one statement that decides who mails this transition: only a row still in another
    # state is updated, so a second worker (or a retry) updates nothing and sends nothing.
    claimed = (
        DeviceNotificationState.objects.filter(pk=row.pk)
        .exclude(notified_state=state)
        .update(notified_state=state, changed_at=timezone.now())
    )
    if not claimed:
        return None
    event = NotificationEvent.TROUBLE if state else NotificationEvent.RECOVERY
    return _log(device=device, event=event, dedupe_key=f"{event}:{device.pk}:{uuid.uuid4().hex}", trouble_state=state)


def trouble_claim(*, device: Device, state: str) -> NotificationLog | None:
    """Claim the mail for `device` entering trouble `state`; None when already mailed."""
    if state not in TroubleState.values or not state:
        raise ValueError(f"not a trouble state: {state!r}")
    return _claim_transition(device=device, state=state)


def recovery_claim(*, device: Device) -> NotificationLog | None:
    """Claim the recovery mail; None when no trouble was mailed (nothing to recover from) or
    the recovery was mailed already."""
    if not DeviceNotificationState.objects.filter(device=device).exclude(notified_state="").exists():
        return None
    return _claim_transition(device=device, state="")


@transaction.atomic
def motion_claim(*, device: Device, at: datetime, clip_path: str | None = None) -> NotificationLog | None:
    """Claim the mail for one motion event (with its recorded clip, when given)."""
    event = NotificationEvent.VIDEO if clip_path else NotificationEvent.MOTION
    key = f"{event}:{device.pk}:{at.isoformat()}"
    if NotificationLog.objects.filter(dedupe_key=key).exists():
        return None
    recipients = recipients_for(device=device, event=event)
    if event == NotificationEvent.VIDEO:
        # "All" receives recorded video too; a motion mail with the clip covers both for them.
        recipients += [r for r in recipients_for(device=device, event=NotificationEvent.MOTION) if r not in recipients]
    log, created = NotificationLog.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "operator_id": device.operator_id,
            "device": device,
            "event": event,
            "at": at,
            "clip_path": clip_path or "",
            "recipients": recipients,
            "status": NotificationLog.Status.PENDING if recipients else NotificationLog.Status.SKIPPED,
        },
    )
    return log if created else None


# ----------------------------------------------------------------------------- delivery


def deliver_pending(*, device: Device) -> int:
    """Send every pending mail of `device`, oldest first. Returns how many were sent."""
    return sum(notification_deliver(log=log) for log in pending_notifications(device=device))


def notification_deliver(*, log: NotificationLog) -> bool:
    """Send one mail if this caller wins the `pending → sending` claim. A failure returns the row
    to pending and re-raises so the task retries. A worker killed mid-send leaves it `sending`:
    at most once, never twice."""
    claimed = NotificationLog.objects.filter(pk=log.pk, status=NotificationLog.Status.PENDING).update(
        status=NotificationLog.Status.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    try:
        build_message(log=log).send()
    except Exception as exc:
        NotificationLog.objects.filter(pk=log.pk).update(
            status=NotificationLog.Status.PENDING, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    NotificationLog.objects.filter(pk=log.pk).update(status=NotificationLog.Status.SENT, sent_at=timezone.now())
    logger.info("notification %s sent: %s to %d recipients", log.pk, log.event, len(log.recipients))
    return True


def clip_link(*, operator_id: int, clip_path: str) -> str:
    token = signing.dumps({"o": operator_id, "p": clip_path}, salt=CLIP_LINK_SALT)
    return settings.PORTAL_SITE_URL + reverse("recording:clip_download") + "?" + urlencode({"t": token})


def clip_from_link(token: str) -> tuple[int, str] | None:
    """(operator id, storage name) of a link made by `clip_link`; None when forged or expired."""
    try:
        data = signing.loads(token, salt=CLIP_LINK_SALT, max_age=clip_link_max_age())
    except signing.BadSignature:
        return None
    return int(data["o"]), str(data["p"])


def _clip_size(clip_path: str) -> int | None:
    try:
        return default_storage.size(clip_path)
    except (OSError, NotImplementedError):
        return None  # not written yet or gone: mail a link, which answers 404 when it stays missing


def build_message(*, log: NotificationLog) -> EmailMessage:
    device = log.device
    context = {
        "event": log.event,
        "device": device,
        "room": device.room,
        "building": device.room.building,
        "trouble_label": TroubleState(log.trouble_state).label if log.trouble_state in TroubleState.values else "",
        "at": log.at,
        "device_url": settings.PORTAL_SITE_URL + reverse("devices:detail", kwargs={"device_id": device.pk}),
        "clip_attached": False,
        "clip_url": "",
    }
    attachment = None
    if log.clip_path:
        size = _clip_size(log.clip_path)
        if size is not None and size <= attachment_max_bytes():
            with default_storage.open(log.clip_path, "rb") as handle:
                attachment = (posixpath.basename(log.clip_path), handle.read(), "video/mp4")
            context["clip_attached"] = True
        else:
            context["clip_url"] = clip_link(operator_id=log.operator_id, clip_path=log.clip_path)
            context["link_days"] = max(1, clip_link_max_age() // 86400)
    subjects, bodies = [], []
    for language in MAIL_LANGUAGES:
        with translation.override(language):
            subjects.append(render_to_string(f"recording/email/{log.event}_subject.txt", context).strip())
            bodies.append(render_to_string(f"recording/email/{log.event}.txt", context).strip())
    message = EmailMessage(
        subject=" / ".join(subjects),
        body="\n\n----------------------------------------\n\n".join(bodies) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=log.recipients,
    )
    if attachment:
        message.attach(*attachment)
    return message
