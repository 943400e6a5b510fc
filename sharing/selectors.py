"""Reads of camera shares, their audit log and per-user camera limits.

A share is visible to exactly two operators: its owner (`operator`) and its receiver. Every lookup
here filters on one of them, so a third operator gets the same 404 as for a missing id.
`shared_camera_ids` and `user_camera_limit` are the two rules `devices.selectors.device_list`
applies for every read (handed over in `sharing.apps`, see `devices.visibility`).
"""

from django.db.models import Q, QuerySet

from devices.models import Device
from devices.selectors import SCOPED_ROLES
from devices.visibility import CameraLimit
from tenants.access import get_visible_or_404, require_admin
from tenants.models import Operator, Role, User

from .models import OPEN_STATUSES, CameraShare, ShareAuditEvent, ShareStatus, UserCameraScope

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


def share_pending_count(*, operator: Operator) -> int:
    """How many requests wait for `operator`'s decision (the menu's badge)."""
    return CameraShare.objects.filter(receiver=operator, status=ShareStatus.REQUESTED).count()


def receiver_admin_emails(*, receiver: Operator) -> list[str]:
    """Where a new share request is mailed: the receiving operator's active admins."""
    return list(
        User.objects.filter(operator=receiver, role=Role.ADMIN, is_active=True)
        .order_by("id")
        .values_list("email", flat=True)
    )


def share_active_list(*, operator: Operator) -> QuerySet[CameraShare]:
    """Approved shares, given or received."""
    return share_list(operator=operator).filter(status=ShareStatus.APPROVED)


def shared_camera_ids(*, operator: Operator) -> QuerySet:
    """Ids of the cameras other operators shared to `operator` and it approved (a subquery)."""
    return CameraShare.objects.filter(receiver=operator, status=ShareStatus.APPROVED).values("camera_id")


def share_open_exists(*, camera: Device, receiver: Operator) -> bool:
    return CameraShare.objects.filter(camera=camera, receiver=receiver, status__in=OPEN_STATUSES).exists()


def access_share(*, operator: Operator, user: User, pk, write: bool = False) -> CameraShare:
    """A share `operator` takes part in (owner or receiver).

    Security guarantee: 404 for a share between two other operators or a missing one
    (indistinguishable); 403 when `write` and the user is not an admin. Which side may do what
    (approve / decline: receiver; cancel: owner; remove: receiver) is checked by the services.
    """
    share = get_visible_or_404(share_list(operator=operator), pk)
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


def user_camera_limit(user: User) -> CameraLimit | None:
    """The rooms and cameras `user` is limited to, or None when it has no limit (devices asks only for
    viewers and device operators)."""
    scope = UserCameraScope.objects.filter(user=user).first()
    if scope is None:
        return None
    return CameraLimit(
        room_ids=frozenset(scope.rooms.values_list("pk", flat=True)),
        camera_ids=frozenset(scope.cameras.values_list("pk", flat=True)),
    )


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
