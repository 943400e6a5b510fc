"""Camera groups (≤50 cameras each, ≤100 per operator, a required default camera)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenants.access import require_admin
from tenants.models import Operator, User

from ..models import (
    MAX_GROUP_CAMERAS,
    MAX_GROUPS,
    AlertSetting,
    CongestionCamera,
    Group,
)
from .images import (
    _delete_later,
)

# ----------------------------------------------------------------------------- groups


def _check_group(operator: Operator, name: str, cameras: list[CongestionCamera], default: CongestionCamera | None):
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 64:
        errors["name"] = [_("Enter a group name of 1 to 64 characters.")]
    if not cameras:
        errors["cameras"] = [_("Choose at least one camera.")]
    elif len(cameras) > MAX_GROUP_CAMERAS:
        errors["cameras"] = [_("A group holds at most %(max)d cameras.") % {"max": MAX_GROUP_CAMERAS}]
    if any(c.operator_id != operator.pk for c in cameras):
        errors["cameras"] = [_("Choose cameras of this account.")]
    if default is None or default not in cameras:
        errors["default_camera"] = [_("Choose the default camera among the group's cameras.")]
    if errors:
        raise ValidationError(errors)
    return name


@transaction.atomic
def group_create(
    *, user: User, operator: Operator, name: str, cameras: list[CongestionCamera], default_camera: CongestionCamera
) -> Group:
    require_admin(user)
    name = _check_group(operator, name, cameras, default_camera)
    # Lock the operator's groups so two admins cannot both create the 101st.
    existing = list(Group.objects.for_operator(operator).select_for_update().values_list("pk", flat=True))
    if len(existing) >= MAX_GROUPS:
        raise ValidationError(
            _("An account can have at most %(max)d groups.") % {"max": MAX_GROUPS}, code="groups_full"
        )
    group = Group.objects.create(operator=operator, name=name, default_camera=default_camera)
    group.cameras.set(cameras)
    return group


@transaction.atomic
def group_update(
    *, user: User, group: Group, name: str, cameras: list[CongestionCamera], default_camera: CongestionCamera
) -> Group:
    require_admin(user)
    group.name = _check_group(group.operator, name, cameras, default_camera)
    group.default_camera = default_camera
    group.save()
    group.cameras.set(cameras)
    return group


@transaction.atomic
def group_delete(*, user: User, group: Group) -> None:
    require_admin(user)
    alert = AlertSetting.objects.filter(group=group).first()
    for name in alert.images if alert else []:
        _delete_later(name)
    group.delete()
