"""Congestion alerts: settings, step crossings, and the alert mail sent once after commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.access import require_admin
from tenants.models import User

from .. import rules, selectors, tasks
from ..models import (
    MAX_ALERT_RECIPIENTS,
    AlertMail,
    AlertSetting,
    AlertState,
    CongestionCamera,
    Group,
    MailSetting,
)
from .images import (
    TEMPLATE,
    _delete_later,
    _store,
    log,
    validate_jpeg,
)

# ----------------------------------------------------------------------------- alerts


def clean_recipients(raw: list[str]) -> list[str]:
    seen: list[str] = []
    for address in (a.strip().lower() for a in raw):
        if address and address not in seen:
            seen.append(address)
    bad = []
    for address in seen:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(_("Not a valid mail address: %(list)s") % {"list": ", ".join(bad)})
    if len(seen) > MAX_ALERT_RECIPIENTS:
        raise ValidationError(_("Alert mail goes to at most %(max)d addresses.") % {"max": MAX_ALERT_RECIPIENTS})
    return seen


@transaction.atomic
def alert_update(
    *,
    user: User,
    congestion_camera: CongestionCamera | None = None,
    group: Group | None = None,
    steps: int,
    thresholds: list[int | None],
    image_enabled: bool,
    images: list[str | bytes | None],
    mail_enabled: bool,
    recipients: list[str],
) -> AlertSetting:
    """Save a camera's or group's alert. `images[i]` for step i+1: None keeps the current one, "" removes
    it, "template" uses the built-in image, bytes upload a new JPEG (≤1920×1280, ≤1 MB)."""
    require_admin(user)
    owner = congestion_camera or group
    assert owner is not None and (congestion_camera is None) != (group is None)
    errors: dict[str, list[str]] = {}
    threshold_errors = rules.threshold_errors(steps, thresholds[: max(steps - 1, 0)])
    if threshold_errors:
        errors["thresholds"] = threshold_errors
    try:
        recipients = clean_recipients(recipients)
    except ValidationError as exc:
        errors["recipients"] = exc.messages
    if mail_enabled and not recipients and "recipients" not in errors:
        errors["recipients"] = [_("Enter at least one mail address, or turn alert mail off.")]
    uploads: dict[int, bytes] = {}
    for index, image in enumerate(images[:steps]):
        if isinstance(image, bytes):
            try:
                validate_jpeg(image)
            except ValidationError as exc:
                errors.setdefault("images", []).extend(
                    [_("Step %(n)d image: %(error)s") % {"n": index + 1, "error": m} for m in exc.messages]
                )
            uploads[index] = image
    if errors:
        raise ValidationError(errors)

    setting = selectors.alert_setting_for(congestion_camera=congestion_camera, group=group)
    if setting is None:
        setting = AlertSetting(operator_id=owner.operator_id, congestion_camera=congestion_camera, group=group)
    current = list(setting.images) + [""] * 3
    new_images = []
    for index in range(3):
        image = images[index] if index < len(images) else None
        if index >= steps:
            image = ""
        if image is None:
            new_images.append(current[index])
            continue
        if current[index] and current[index] != TEMPLATE:
            _delete_later(current[index])
        if isinstance(image, bytes):
            new_images.append(_store(f"{owner.operator_id}/alert-{type(owner).__name__.lower()}-{owner.pk}", image))
        else:
            new_images.append(TEMPLATE if image == TEMPLATE else "")
    setting.steps = steps
    setting.thresholds = [int(t) for t in thresholds[: steps - 1]]  # type: ignore[arg-type]
    setting.image_enabled = image_enabled
    setting.images = new_images[:steps]
    setting.mail_enabled = mail_enabled
    setting.recipients = recipients
    setting.updated_at = timezone.now()
    setting.save()
    return setting


def _alert_evaluate(*, operator_id: int, setting: AlertSetting | None, name: str, count: int, **owner) -> bool:
    """Move the camera's / group's step; on an upward crossing queue ONE mail. True when one was queued.

    The mail is a row written in the same transaction as the step change and handed to the
    `congestion.send_alert_mail` task only after commit, so a rolled-back analysis mails nobody and a
    slow or failing SMTP server never holds up the analysis (the task retries with backoff)."""
    if setting is None:
        return False
    state, _created = AlertState.objects.get_or_create(operator_id=operator_id, **owner)
    result = rules.crossing(state.step, count, setting.thresholds)
    if result.new_step == state.step:
        return False
    with transaction.atomic():
        # The conditional update is the claim: of two workers seeing the same crossing, one mails.
        claimed = AlertState.objects.filter(pk=state.pk, step=state.step).update(
            step=result.new_step, changed_at=timezone.now()
        )
        if not (claimed and result.mail and setting.mail_enabled and setting.recipients):
            return False
        subject, body = rules.alert_mail(name, result.threshold or 0)
        mail = AlertMail.objects.create(
            operator_id=operator_id, subject=subject, body=body, recipients=list(setting.recipients), **owner
        )
        transaction.on_commit(lambda: _queue_alert_mail(mail.pk))
    return True


def _queue_alert_mail(alert_mail_id: int) -> None:
    try:
        tasks.send_alert_mail.delay(alert_mail_id)
    except Exception:  # the broker is down: the row stays pending and `resend_pending_alert_mails` picks it up
        log.exception("could not queue congestion alert mail %s", alert_mail_id)


ALERT_MAIL_CLAIM_TIMEOUT = timedelta(minutes=10)  # a worker that died while sending gives its claim back


def alert_mail_send(*, alert_mail_id: int, now: datetime | None = None) -> bool:
    """Send one queued alert mail if this call claims it; True when it was sent by this call.

    The claim (pending → sending, or a sending claim older than ALERT_MAIL_CLAIM_TIMEOUT) is a
    conditional update, so two deliveries of the task never both send. A failed send gives the
    claim back (pending) and re-raises, for the task to retry."""
    now = now or timezone.now()
    claimable = AlertMail.objects.filter(pk=alert_mail_id).filter(
        models.Q(status=AlertMail.Status.PENDING)
        | models.Q(status=AlertMail.Status.SENDING, claimed_at__lt=now - ALERT_MAIL_CLAIM_TIMEOUT)
    )
    if not claimable.update(status=AlertMail.Status.SENDING, claimed_at=now, attempts=models.F("attempts") + 1):
        return False
    mail = AlertMail.objects.get(pk=alert_mail_id)
    try:
        send_mail(mail.subject, mail.body, selectors.alert_from_email(operator_id=mail.operator_id), mail.recipients)
    except OSError:
        AlertMail.objects.filter(pk=alert_mail_id).update(status=AlertMail.Status.PENDING, claimed_at=None)
        raise
    AlertMail.objects.filter(pk=alert_mail_id).update(status=AlertMail.Status.SENT, sent_at=timezone.now())
    return True


@transaction.atomic
def alert_sender_set(*, user: User, operator, from_email: str) -> str:
    """Set (or, blank, clear) the operator's own sender address of alert mails; admins only. Blank
    means DEFAULT_FROM_EMAIL. The address must be one the portal's SMTP server may send as."""
    require_admin(user)
    from_email = (from_email or "").strip()
    if from_email:
        if len(from_email) > 254:
            raise ValidationError({"from_email": [_("Enter a valid sender address.")]})
        try:
            validate_email(from_email)
        except ValidationError:
            raise ValidationError({"from_email": [_("Enter a valid sender address.")]}) from None
    MailSetting.objects.update_or_create(
        operator=operator, defaults={"from_email": from_email, "updated_at": timezone.now()}
    )
    return from_email


def pending_alert_mail_ids() -> list[int]:
    """Mails left pending (broker down at commit, retries exhausted): for the periodic resend."""
    return list(AlertMail.objects.filter(status=AlertMail.Status.PENDING).values_list("pk", flat=True))


def alerts_after_analysis(*, congestion_camera: CongestionCamera, count: int, at: datetime | None = None) -> int:
    """Evaluate the camera's alert and those of its groups; returns how many mails were queued.

    A group's count leaves out stale counts (selectors.group_count): cameras outside their business
    hours or not answering for longer than CONGESTION_STALE_MINUTES at `at`."""
    mails = int(
        _alert_evaluate(
            operator_id=congestion_camera.operator_id,
            setting=selectors.alert_setting_for(congestion_camera=congestion_camera),
            name=congestion_camera.display_name,
            count=count,
            congestion_camera=congestion_camera,
        )
    )
    for group in selectors.groups_of_camera(congestion_camera=congestion_camera):
        mails += _alert_evaluate(
            operator_id=group.operator_id,
            setting=selectors.alert_setting_for(group=group),
            name=group.name,
            count=selectors.group_count(group=group, at=at),
            group=group,
        )
    return mails
