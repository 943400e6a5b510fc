"""Signed, short-lived tokens for the media URLs of a camera (clips, segments, live playlists).

A media request (an <video> or HLS player) carries no session the portal can check cheaply, so the
page hands out a token instead; presenting it re-runs the visibility rule of `devices.selectors`.
"""

from dataclasses import dataclass

from django.core import signing

from tenants.models import Operator, User

from .models import Device
from .selectors import device_list

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
    # Presented on every media request and live re-check: the user with its operator in one query, and
    # the camera with its owner (the license rule reads it).
    user = None
    if user_id is not None:
        users = User.objects.select_related("operator")
        user = users.filter(pk=user_id, operator_id=operator_id, is_active=True).first()
        if user is None:
            return None
        operator = user.operator
    else:
        operator = Operator.objects.filter(pk=operator_id).first()
        if operator is None:
            return None
    camera = (
        device_list(operator=operator, user=user, kind="camera").select_related("operator").filter(pk=camera_id).first()
    )
    if camera is None:
        return None
    return CameraAccess(camera=camera, operator=operator, user=user)
