"""The menu's badge of share requests waiting for this operator's decision (its admins decide them)."""

from django import template

from devices import camera_order
from tenants.models import Role

from ..selectors import share_pending_count

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_share_requests(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    operator = getattr(request, "operator", None)
    if operator is None or user is None or getattr(user, "role", None) != Role.ADMIN:
        return 0
    # On every page: kept in the process until a share changes (a share's save or deletion draws the camera
    # list's new generation token, devices/camera_order.py), one query fewer a page.
    return camera_order.kept(
        "share-requests", lambda: share_pending_count(operator=operator), operator_id=operator.pk, scope=None
    )
