"""Notification mails: trouble / recovery once per transition, motion and recorded video.

The flow is claim → deliver. A claim writes a NotificationLog row (with the recipients the
room's setting allows for that event) only if nobody has claimed the same event yet:
transitions by a conditional UPDATE of the device's DeviceNotificationState, motion events by
a unique key. Delivery claims each pending row `pending → sending` with another conditional
UPDATE, so concurrent workers and retried tasks mail each event at most once; a failed send
puts the row back to pending and the task's retry sends it.

Motion and recorded-video mails pass a room's cooldown (docs/product.md §5.3): the first opens a
NotificationWindow and goes at once; the room's next ones until the window ends are held on it, and
`cooldowns_close` (a beat task) turns them into one follow-up mail. Trouble and recovery mails never wait.

Recipients are plain addresses with no known language, so every mail carries Japanese then
English (the same templates rendered under each language).
"""

import logging
import posixpath
import uuid
from datetime import datetime, timedelta
from smtplib import SMTPException

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

from .models import (
    DEFAULT_COOLDOWN_MINUTES,
    DeviceNotificationState,
    NotificationEvent,
    NotificationLog,
    NotificationSetting,
    NotificationWindow,
)
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


def _lock_room(room_id: int) -> NotificationSetting | None:
    """Row-lock the room's setting: a claim and the closing of the room's window take turns, so no mail
    is held on a window that is being closed (on SQLite, writes are serialized anyway)."""
    return NotificationSetting.objects.select_for_update().filter(room_id=room_id).first()


def _cooldown_gate(*, device: Device, setting: NotificationSetting | None, now: datetime):
    """(window, status) of a motion / video mail to send now: held on the room's open window, or pending
    (mailed at once) on a new window that holds what follows. Called with the room locked."""
    window = (
        NotificationWindow.objects.for_operator(device.operator_id)
        .filter(room_id=device.room_id, state=NotificationWindow.State.OPEN, ends_at__gt=now)
        .order_by("-ends_at")
        .first()
    )
    if window is not None:
        return window, NotificationLog.Status.HELD
    minutes = setting.cooldown_minutes if setting is not None else DEFAULT_COOLDOWN_MINUTES
    window = NotificationWindow.objects.create(
        operator_id=device.operator_id, room_id=device.room_id, opened_at=now, ends_at=now + timedelta(minutes=minutes)
    )
    return window, NotificationLog.Status.PENDING


def _motion_recipients(*, device: Device, event: str) -> list[str]:
    recipients = recipients_for(device=device, event=event)
    if event == NotificationEvent.VIDEO:
        # "All" receives recorded video too; a motion mail with the clip covers both for them.
        recipients += [r for r in recipients_for(device=device, event=NotificationEvent.MOTION) if r not in recipients]
    return recipients


@transaction.atomic
def motion_claim(
    *, device: Device, at: datetime, clip_path: str | None = None, now: datetime | None = None
) -> NotificationLog | None:
    """Claim the mail for one motion event (with its recorded clip, when given). The room's cooldown
    decides whether it goes now (pending) or waits for the follow-up (held)."""
    now = now or timezone.now()
    event = NotificationEvent.VIDEO if clip_path else NotificationEvent.MOTION
    key = f"{event}:{device.pk}:{at.isoformat()}"
    setting = _lock_room(device.room_id)
    if NotificationLog.objects.filter(dedupe_key=key).exists():
        return None
    recipients = _motion_recipients(device=device, event=event)
    window, status = None, NotificationLog.Status.SKIPPED
    if recipients:  # a mail nobody gets opens no window
        window, status = _cooldown_gate(device=device, setting=setting, now=now)
    log, created = NotificationLog.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "operator_id": device.operator_id,
            "device": device,
            "event": event,
            "at": at,
            "clip_path": clip_path or "",
            "recipients": recipients,
            "status": status,
            "window": window,
        },
    )
    return log if created else None


# ----------------------------------------------------------------------------- cooldown follow-ups


@transaction.atomic
def window_close(*, window_id: int, now: datetime | None = None) -> NotificationLog | None:
    """Close one ended window: its held mails become one follow-up (pending; delivered by the caller).
    Exactly once: only the caller whose UPDATE moves the window `open → closed` makes the follow-up.
    Returns it, or None when another worker closed the window or nothing was held."""
    now = now or timezone.now()
    window = NotificationWindow.objects.filter(pk=window_id).first()
    if window is None:
        return None
    _lock_room(window.room_id)
    closed = NotificationWindow.objects.filter(
        pk=window_id, state=NotificationWindow.State.OPEN, ends_at__lte=now
    ).update(state=NotificationWindow.State.CLOSED)
    if not closed:
        return None
    held = list(
        NotificationLog.objects.for_operator(window.operator_id)
        .filter(window=window, status=NotificationLog.Status.HELD)
        .select_related("device", "device__room")
        .order_by("at", "id")
    )
    # The room's setting as it is now decides: a type or recipients changed during the window apply to
    # the follow-up (set to "troubles only", the held mails are dropped).
    allowed = {event: _motion_recipients(device=held[0].device, event=event) for event in {h.event for h in held}}
    dropped = [log.pk for log in held if not allowed[log.event]]
    NotificationLog.objects.filter(pk__in=dropped).update(status=NotificationLog.Status.SKIPPED)
    held = [log for log in held if allowed[log.event]]
    if not held:
        return None
    recipients: list[str] = []
    for log in held:
        recipients += [r for r in allowed[log.event] if r not in recipients]
    digest = NotificationLog.objects.create(
        operator_id=window.operator_id,
        device_id=held[0].device_id,
        event=NotificationEvent.DIGEST,
        at=window.opened_at,
        dedupe_key=f"digest:{window.pk}",
        recipients=recipients,
        status=NotificationLog.Status.PENDING,
        window=window,
    )
    NotificationLog.objects.filter(pk__in=[log.pk for log in held]).update(status=NotificationLog.Status.BUNDLED)
    return digest


def cooldowns_close(*, now: datetime | None = None) -> int:
    """Beat: close every ended window and send the follow-ups still pending (also those a failed send or a
    worker restart left behind). Returns how many follow-ups were sent."""
    now = now or timezone.now()
    due = NotificationWindow.objects.filter(state=NotificationWindow.State.OPEN, ends_at__lte=now)
    for window_id in due.order_by("ends_at").values_list("pk", flat=True):
        window_close(window_id=window_id, now=now)
    sent = 0
    pending = NotificationLog.objects.filter(event=NotificationEvent.DIGEST, status=NotificationLog.Status.PENDING)
    for log in pending.select_related("device", "device__room", "device__room__building"):
        try:
            sent += notification_deliver(log=log)
        except (OSError, SMTPException) as exc:  # back to pending: the next beat retries it
            logger.warning("follow-up mail %s not sent: %s", log.pk, type(exc).__name__)
    return sent


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


def player_link(*, camera_id: int, at: datetime, view: str = "continuous") -> str:
    """The player on the event's day (the portal's own time zone), absolute for a mail."""
    query = urlencode({"day": timezone.localdate(at).isoformat(), "view": view})
    return settings.PORTAL_SITE_URL + reverse("recording:player", kwargs={"camera_id": camera_id}) + "?" + query


def _window_minutes(window: NotificationWindow) -> int:
    return max(1, round((window.ends_at - window.opened_at).total_seconds() / 60))


def _digest_items(log: NotificationLog) -> list[dict]:
    """The held mails a follow-up lists: time, camera, kind and links (player; the clip when recorded)."""
    held = (
        NotificationLog.objects.for_operator(log.operator_id)
        .filter(window_id=log.window_id, status=NotificationLog.Status.BUNDLED)
        .select_related("device")
        .order_by("at", "id")
    )
    return [
        {
            "at": item.at,
            "camera": item.device.name,
            "kind": NotificationEvent(item.event).label,  # lazy: rendered in each mail language
            "player_url": player_link(
                camera_id=item.device_id, at=item.at, view="event" if item.clip_path else "continuous"
            ),
            "clip_url": clip_link(operator_id=item.operator_id, clip_path=item.clip_path) if item.clip_path else "",
        }
        for item in held
    ]


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
        "link_days": max(1, clip_link_max_age() // 86400),
        "cooldown_minutes": _window_minutes(log.window) if log.window_id else 0,
    }
    if log.event == NotificationEvent.DIGEST:
        context["items"] = _digest_items(log)
        context["count"] = len(context["items"])
        context["has_clips"] = any(item["clip_url"] for item in context["items"])
        context["window_end"] = log.window.ends_at
    attachment = None
    if log.clip_path:
        size = _clip_size(log.clip_path)
        if size is not None and size <= attachment_max_bytes():
            with default_storage.open(log.clip_path, "rb") as handle:
                attachment = (posixpath.basename(log.clip_path), handle.read(), "video/mp4")
            context["clip_attached"] = True
        else:
            context["clip_url"] = clip_link(operator_id=log.operator_id, clip_path=log.clip_path)
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
