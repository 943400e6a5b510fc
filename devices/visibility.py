"""The two rules of `devices.selectors.device_list` that belong to the sharing app.

`device_list` is the one selector that decides which devices an operator's user sees. Two of its
rules are kept by `sharing`, a feature app above devices in the layering (tenants → buildings →
devices → licensing → feature apps): cameras another operator shared and this one approved (they
widen the view) and a per-user camera limit (it narrows the view). So that devices imports no
feature app, sharing hands both rules over from its AppConfig.ready() (`sharing/apps.py`), which
Django runs before any request, task or command. Devices alone is consistent: no shared camera,
and no user limited, because without sharing there is no table a share or a limit could be in.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class CameraLimit:
    """The rooms and cameras a limited user may see (both may be empty: the user sees no camera)."""

    room_ids: frozenset[int]
    camera_ids: frozenset[int]


@dataclass(frozen=True)
class Rules:
    # (operator) -> ids of the cameras other operators shared to it and it approved (a subquery)
    shared_camera_ids: Callable[..., QuerySet | None]
    # (user) -> the limit on the user's camera view, or None when it sees all of its operator's
    user_limit: Callable[..., CameraLimit | None]


def _no_shares(*, operator) -> None:
    return None


def _no_limit(user) -> None:
    return None


_rules = Rules(shared_camera_ids=_no_shares, user_limit=_no_limit)


def install(rules: Rules) -> None:
    global _rules
    _rules = rules


def rules() -> Rules:
    return _rules
