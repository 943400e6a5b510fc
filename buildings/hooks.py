"""What devices adds to the reads of buildings, so that buildings imports nothing above it.

buildings sits under devices in the layering (docs/development.md). A viewer / device operator
limited to chosen rooms or cameras sees only the buildings and rooms that hold a device visible to
them, and counts of those devices only. Which devices a user sees is decided by
`devices.selectors.device_list`; devices hands that rule over from its AppConfig.ready()
(`set_visible_devices`), which Django runs before any request, task or command. Buildings alone is
consistent: no rule, every user sees all of the operator's buildings and rooms.
"""

from collections.abc import Callable

_visible_devices: list[Callable] = []


def set_visible_devices(rule: Callable) -> None:
    """`rule(operator=…, user=…)` returns the ids of the devices `user` may see (a subquery), or None
    when the user sees all of the operator's."""
    _visible_devices[:] = [rule]


def visible_devices(*, operator, user):
    return _visible_devices[0](operator=operator, user=user) if _visible_devices else None


# What a deletion takes with it besides registrations: recording fills this in (docs/product.md §2.3), so the
# confirmation of deleting a building, room or device can say which recorded media go.
_media_summary: list[Callable] = []


def set_media_summary(rule: Callable) -> None:
    """`rule(building=… | room=… | device=…)` returns a dict of the recorded media stored under it:
    recordings, clips, exports (counts), bytes and gb (all three together) and oldest (a datetime or None)."""
    _media_summary[:] = [rule]


def media_summary(**scope) -> dict | None:
    """The media that go with deleting the building, room or device in `scope`; None when no app records."""
    return _media_summary[0](**scope) if _media_summary else None
