"""Writes of camera sharing (docs/product.md §4) and per-user camera limits.

Flow: the owner's admin requests (one share per camera) → the receiver's admin approves or
declines → the owner may cancel at any time, the receiver may remove an approved camera from its
lists. Every step writes an audit event both sides can read. Bad input raises ValidationError
before anything is written; each service runs in one transaction and locks the share row, so a
double click or two admins at once cannot approve twice or approve a cancelled request.
"""

import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from devices.models import Device
from devices.selectors import SCOPED_ROLES, camera_list
from tenants.access import require_admin
from tenants.models import Operator, User

from .models import CameraShare, ShareAction, ShareAuditEvent, ShareStatus, UserCameraScope
from .selectors import receiver_admin_emails, share_open_exists

log = logging.getLogger(__name__)

_SHARE_ID_NOISE = re.compile(r"[\s\-]")


def normalize_share_id(raw: str) -> str:
    # People read share IDs out to each other: forgive case, spaces and hyphens.
    return _SHARE_ID_NOISE.sub("", raw or "").upper()


def share_receiver_for(*, operator: Operator, share_id: str) -> Operator:
    """The operator with `share_id`; ValidationError keyed "share_id" for an unknown one or oneself."""
    value = normalize_share_id(share_id)
    if not value:
        raise ValidationError({"share_id": _("Enter the share ID of the operator to share with.")})
    receiver = Operator.objects.filter(share_id=value).first()
    if receiver is None:
        raise ValidationError(
            {"share_id": _("No operator has the share ID %(id)s. Check it with the other operator.") % {"id": value}}
        )
    if receiver.pk == operator.pk:
        raise ValidationError(
            {"share_id": _("%(id)s is your own share ID. Enter the share ID of another operator.") % {"id": value}}
        )
    return receiver


def shareable_cameras(*, operator: Operator) -> list[Device]:
    """Cameras `operator` may offer: its own only. A camera shared to it is never one (no re-sharing)."""
    return [c for c in camera_list(operator=operator) if c.shared_by is None]


def share_request_check(*, operator: Operator, camera_ids: Iterable, share_id: str) -> tuple[Operator, list[Device]]:
    """The receiver and cameras of a share request; else ValidationError keyed "share_id" / "cameras"."""
    errors: dict[str, list] = {}
    receiver = None
    try:
        receiver = share_receiver_for(operator=operator, share_id=share_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        ids = sorted({int(i) for i in camera_ids})
    except (TypeError, ValueError):
        ids = []
        errors["cameras"] = [_("Choose cameras from the list.")]
    own = {c.pk: c for c in shareable_cameras(operator=operator)}
    cameras = [own[i] for i in ids if i in own]
    if "cameras" not in errors:
        if not ids:
            errors["cameras"] = [_("Choose at least one camera to share.")]
        elif len(cameras) != len(ids):
            errors["cameras"] = [
                _(
                    "You can share only cameras your operator owns. A camera shared to you cannot be shared "
                    "on: ask its owner to share it."
                )
            ]
    if receiver is not None and "cameras" not in errors:
        taken = [c.name for c in cameras if share_open_exists(camera=c, receiver=receiver)]
        if taken:  # what is stored refuses it, not the request: the API answers 409 (a `_taken` code)
            errors["cameras"] = [
                ValidationError(
                    _("Already shared with or waiting for %(receiver)s: %(cameras)s.")
                    % {"receiver": receiver.name, "cameras": ", ".join(taken)},
                    code="share_taken",
                )
            ]
    if errors:
        raise ValidationError(errors)
    return receiver, cameras


def _audit(share: CameraShare, action: str, user: User | None) -> ShareAuditEvent:
    return ShareAuditEvent.objects.create(
        operator_id=share.operator_id,
        receiver_id=share.receiver_id,
        share=share,
        action=action,
        actor=user,
        actor_name=str(user) if user is not None else "",
        actor_operator_name=user.operator.name if user is not None else "",
        camera_name=share.camera.name,
    )


@transaction.atomic
def share_request(*, operator: Operator, user: User, camera_ids: Iterable, share_id: str) -> list[CameraShare]:
    """Send a share request for each of `camera_ids` (own cameras) to the operator with `share_id`."""
    require_admin(user)
    receiver, cameras = share_request_check(operator=operator, camera_ids=camera_ids, share_id=share_id)
    shares = []
    try:
        with transaction.atomic():
            for camera in cameras:
                share = CameraShare.objects.create(
                    operator=operator, receiver=receiver, camera=camera, requested_by=user
                )
                _audit(share, ShareAction.REQUEST, user)
                shares.append(share)
    except IntegrityError:  # the same request sent at the same moment by another admin
        raise ValidationError(
            {
                "cameras": [
                    ValidationError(
                        _("Already shared with or waiting for %(receiver)s.") % {"receiver": receiver.name},
                        code="share_taken",
                    )
                ]
            }
        ) from None
    share_ids = [share.pk for share in shares]
    transaction.on_commit(lambda: share_request_notify(share_ids=share_ids))
    return shares


def share_request_notify(*, share_ids: list[int]) -> int:
    """Mail the receiving operator's admins that share requests wait for their decision (after the
    request is committed; a mail failure is logged, never undoes the request). Returns mails sent."""
    shares = list(
        CameraShare.objects.filter(pk__in=share_ids, status=ShareStatus.REQUESTED).select_related(
            "operator", "receiver", "camera"
        )
    )
    if not shares:
        return 0
    receiver, owner = shares[0].receiver, shares[0].operator
    to = receiver_admin_emails(receiver=receiver)
    if not to:
        return 0
    context = {
        "owner": owner,
        "receiver": receiver,
        "shares": shares,
        "url": settings.PORTAL_SITE_URL + reverse("sharing:index"),
    }
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        subject = render_to_string("sharing/email/share_request_subject.txt", context).strip()
        body = render_to_string("sharing/email/share_request.txt", context)
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception:
        log.exception("share request mail to operator %s failed", receiver.pk)
        return 0


def _locked(share: CameraShare) -> CameraShare:
    # Re-read under a row lock: the decision is made on the state at this moment, not the page's.
    return CameraShare.objects.select_for_update().select_related("operator", "receiver", "camera").get(pk=share.pk)


def _ended_message(share: CameraShare) -> str:
    return {
        ShareStatus.APPROVED: _("This share was already approved."),
        ShareStatus.DECLINED: _("This request was already declined."),
        ShareStatus.CANCELLED: _("This share was cancelled by its owner; it can no longer be changed."),
        ShareStatus.REMOVED: _("This share was removed by the receiver; it can no longer be changed."),
    }.get(share.status, _("This request is still waiting for approval."))


def _require_side(share: CameraShare, operator: Operator, *, receiver: bool) -> None:
    if receiver and share.receiver_id != operator.pk:
        raise PermissionDenied(_("Only the operator the camera is shared with can do this."))
    if not receiver and share.operator_id != operator.pk:
        raise PermissionDenied(_("Only the operator that owns the camera can do this."))


def _decide(*, operator: Operator, user: User, share: CameraShare, status: str, action: str) -> CameraShare:
    require_admin(user)
    share = _locked(share)
    _require_side(share, operator, receiver=True)
    if share.status != ShareStatus.REQUESTED:
        raise ValidationError(_ended_message(share), code="share_state")
    share.status, share.decided_at, share.decided_by = status, timezone.now(), user
    share.save(update_fields=["status", "decided_at", "decided_by"])
    _audit(share, action, user)
    return share


@transaction.atomic
def share_approve(*, operator: Operator, user: User, share: CameraShare) -> CameraShare:
    """The receiver accepts: from now on its users (by role and limit) see the camera."""
    return _decide(operator=operator, user=user, share=share, status=ShareStatus.APPROVED, action=ShareAction.APPROVE)


@transaction.atomic
def share_decline(*, operator: Operator, user: User, share: CameraShare) -> CameraShare:
    return _decide(operator=operator, user=user, share=share, status=ShareStatus.DECLINED, action=ShareAction.DECLINE)


@transaction.atomic
def share_cancel(*, operator: Operator, user: User, share: CameraShare) -> CameraShare:
    """The owner ends a request or an approved share; the receiver loses access on its next request."""
    require_admin(user)
    share = _locked(share)
    _require_side(share, operator, receiver=False)
    if share.status not in (ShareStatus.REQUESTED, ShareStatus.APPROVED):
        raise ValidationError(_ended_message(share), code="share_state")
    share.status, share.ended_at, share.ended_by = ShareStatus.CANCELLED, timezone.now(), user
    share.save(update_fields=["status", "ended_at", "ended_by"])
    _audit(share, ShareAction.CANCEL, user)
    return share


@transaction.atomic
def share_remove(*, operator: Operator, user: User, share: CameraShare) -> CameraShare:
    """The receiver takes an approved shared camera off its own lists."""
    require_admin(user)
    share = _locked(share)
    _require_side(share, operator, receiver=True)
    if share.status != ShareStatus.APPROVED:
        message = (
            _("This request is waiting for your decision: decline it instead.")
            if share.status == ShareStatus.REQUESTED
            else _ended_message(share)
        )
        raise ValidationError(message, code="share_state")
    share.status, share.ended_at, share.ended_by = ShareStatus.REMOVED, timezone.now(), user
    share.save(update_fields=["status", "ended_at", "ended_by"])
    _audit(share, ShareAction.REMOVE, user)
    return share


# ------------------------------------------------------------------------------------- camera limits


@transaction.atomic
def user_scope_set(
    *, operator: Operator, user: User, target: User, room_ids: Iterable, camera_ids: Iterable
) -> UserCameraScope:
    """Limit `target` (a viewer or device operator of `operator`) to the chosen rooms and cameras.

    Rooms must be the operator's; cameras any it sees (own or shared to it). Nothing chosen is
    allowed and means "no camera". ValidationError keyed "user" / "rooms" / "cameras".
    """
    require_admin(user)
    if target.operator_id != operator.pk:
        raise PermissionDenied
    if target.role not in SCOPED_ROLES:
        raise ValidationError(
            {"user": _("Only viewers and device operators can be limited; administrators see every camera.")}
        )
    from buildings.selectors import room_list

    try:
        room_ids, camera_ids = {int(i) for i in room_ids}, {int(i) for i in camera_ids}
    except (TypeError, ValueError):
        raise ValidationError({"rooms": _("Choose rooms and cameras from the list.")}) from None
    rooms = list(room_list(operator=operator).filter(pk__in=room_ids))
    cameras = list(camera_list(operator=operator).filter(pk__in=camera_ids))
    errors = {}
    if len(rooms) != len(room_ids):
        errors["rooms"] = _("Choose rooms of your operator only.")
    if len(cameras) != len(camera_ids):
        errors["cameras"] = _("Choose cameras from the list only.")
    if errors:
        raise ValidationError(errors)
    scope, _created = UserCameraScope.objects.get_or_create(operator=operator, user=target)
    scope.rooms.set(rooms)
    scope.cameras.set(cameras)
    scope.updated_at, scope.updated_by = timezone.now(), user
    scope.save(update_fields=["updated_at", "updated_by"])
    return scope


@transaction.atomic
def user_scope_clear(*, operator: Operator, user: User, target: User) -> bool:
    """Lift the limit: `target` sees every camera of the operator again. True when there was one."""
    require_admin(user)
    if target.operator_id != operator.pk:
        raise PermissionDenied
    deleted, _rows = UserCameraScope.objects.for_operator(operator).filter(user=target).delete()
    return bool(deleted)
