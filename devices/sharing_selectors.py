"""Reads of camera shares, their audit log, per-user camera limits, and media access tokens.

A share is visible to exactly two operators: its owner (`operator`) and its receiver. Every lookup
here filters on one of them, so a third operator gets the same 404 as for a missing id.
"""

from dataclasses import dataclass

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import Http404

from tenants.access import require_admin
from tenants.models import Operator, User

from .models import Device
from .models_sharing import OPEN_STATUSES, CameraShare, ShareAuditEvent, ShareStatus, UserCameraScope
from .selectors import SCOPED_ROLES, device_list

# --------------------------------------------------------------------------------------------- shares


def _shares() -> QuerySet[CameraShare]:
    return CameraShare.objects.select_related(
        "operator", "receiver", "camera", "requested_by", "decided_by", "ended_by"
    )


def share_list(*, operator: Operator) -> QuerySet[CameraShare]:
    """Every share `operator` takes part in, as owner or as receiver, newest first."""
    return _shares().filter(Q(operator=operator) | Q(receiver=operator))


def share_outgoing_list(*, operator: Operator) -> QuerySet[CameraShare]:
    """Requests `operator` sent that wait for the other side."""
    return _shares().filter(operator=operator, status=ShareStatus.REQUESTED)


def share_incoming_list(*, operator: Operator) -> QuerySet[CameraShare]:
    """Requests sent to `operator` that wait for its decision."""
    return _shares().filter(receiver=operator, status=ShareStatus.REQUESTED)


def share_active_list(*, operator: Operator) -> QuerySet[CameraShare]:
    """Approved shares, given or received."""
    return share_list(operator=operator).filter(status=ShareStatus.APPROVED)


def share_open_exists(*, camera: Device, receiver: Operator) -> bool:
    return CameraShare.objects.filter(camera=camera, receiver=receiver, status__in=OPEN_STATUSES).exists()


def access_share(*, operator: Operator, user: User, pk, write: bool = False) -> CameraShare:
    """A share `operator` takes part in (owner or receiver).

    Security guarantee: 404 for a share between two other operators or a missing one
    (indistinguishable); 403 when `write` and the user is not an admin. Which side may do what
    (approve / decline: receiver; cancel: owner; remove: receiver) is checked by the services.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    share = share_list(operator=operator).filter(pk=pk).first()
    if share is None:
        raise Http404
    if write:
        require_admin(user)
    return share


def share_audit_list(*, operator: Operator, share: CameraShare | None = None) -> QuerySet[ShareAuditEvent]:
    """Share events both sides can read: those of shares `operator` owns or receives."""
    events = ShareAuditEvent.objects.filter(Q(operator=operator) | Q(receiver=operator)).select_related(
        "operator", "receiver", "share"
    )
    if share is not None:
        events = events.filter(share=share)
    return events


# ------------------------------------------------------------------------------------- camera limits


def user_scope_for(*, operator: Operator, user: User) -> UserCameraScope | None:
    """The camera limit of `user` (a member of `operator`), or None when it has none."""
    return UserCameraScope.objects.for_operator(operator).filter(user=user).prefetch_related("rooms", "cameras").first()


def scopable_user_list(*, operator: Operator) -> QuerySet[User]:
    """Users an admin can limit: viewers and device operators, with their limit (if any)."""
    return (
        User.objects.for_operator(operator)
        .filter(role__in=SCOPED_ROLES, is_active=True)
        .select_related("camera_scope")
        .order_by("email")
    )


# ------------------------------------------------------------------------------------- media tokens

ACCESS_TOKEN_SALT = "devices.camera-access"  # noqa: S105 - a signing namespace, not a secret
ACCESS_TOKEN_MAX_AGE = 300  # seconds: a handed-out media URL dies within minutes of losing access


@dataclass(frozen=True)
class CameraAccess:
    camera: Device
    operator: Operator
    user: User | None


def camera_access_token(camera: Device, operator: Operator, *, user: User | None = None) -> str:
    """A signed, short-lived token for media URLs (clips, segments, live playlists) of `camera`,
    seen by `operator` (and by `user`, whose camera limit then applies too).

    It carries ids only. `camera_access_valid` re-checks access every time it is presented, so a
    cancelled or removed share, a deleted camera or a narrowed user limit refuses it at once; the
    expiry bounds how long a leaked token could be replayed even while access lasts.
    """
    payload = {"c": camera.pk, "o": operator.pk, "u": user.pk if user is not None else None}
    return signing.dumps(payload, salt=ACCESS_TOKEN_SALT, compress=True)


def camera_access_valid(token: str, *, max_age: int = ACCESS_TOKEN_MAX_AGE) -> CameraAccess | None:
    """The camera a token from `camera_access_token` opens, if it is genuine, not expired, and its
    operator (and user) may still see the camera right now; else None."""
    try:
        payload = signing.loads(token, salt=ACCESS_TOKEN_SALT, max_age=max_age)
        camera_id, operator_id, user_id = int(payload["c"]), int(payload["o"]), payload.get("u")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    operator = Operator.objects.filter(pk=operator_id).first()
    if operator is None:
        return None
    user = None
    if user_id is not None:
        user = User.objects.filter(pk=user_id, operator=operator, is_active=True).first()
        if user is None:
            return None
    camera = device_list(operator=operator, user=user, kind="camera").filter(pk=camera_id).first()
    if camera is None:
        return None
    return CameraAccess(camera=camera, operator=operator, user=user)
