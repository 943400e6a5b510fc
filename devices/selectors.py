"""Reads of devices: the ONE place that decides which devices an operator's user can see.

Visible to a user of `operator`:
- the operator's own devices, and
- cameras another operator shared to it (a `sharing.CameraShare`, approved) — cameras only, never
  their sensors, rooms or anything else of the owner; such a camera carries `shared_by` (the
  owner's name; None on own devices),
- narrowed, for a viewer / device operator with a camera limit (`sharing.UserCameraScope`), to the
  chosen rooms and cameras (an admin always sees everything of the operator).

The shares and the limits are the sharing app's; it hands them to this module through
`devices.visibility`, so devices does not import a feature app above it.

The answer is computed per call from the database, so cancelling a share or changing a scope takes
effect on the next request of every page, API call and media token.
"""

from collections.abc import Callable
from functools import cached_property

from django.db.models import Case, CharField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404

from tenants.access import get_visible_or_404, require_admin
from tenants.models import Operator, Role, User

from . import camera_order, visibility
from .models import Device, DeviceExchange, DeviceKind
from .visibility import CameraLimit

SCOPED_ROLES = (Role.VIEWER, Role.DEVICE_OPERATOR)


def user_scope(user: User | None) -> CameraLimit | None:
    """The camera limit in force for `user`, or None when the user sees everything of its operator."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in SCOPED_ROLES:
        return None
    return visibility.rules().user_limit(user)


def _scope_q(scope: CameraLimit) -> Q:
    # A sensor goes with its camera; every device of a chosen room is in.
    return Q(room_id__in=scope.room_ids) | Q(pk__in=scope.camera_ids) | Q(parent_id__in=scope.camera_ids)


def _shared_by(operator: Operator) -> Case:
    # A subquery, not a join to the operators: a list's count and its sort over every visible camera
    # carried that join for a name that only a shared camera's row shows (at 5,000 cameras it was a
    # fifth of both); the subquery runs for the shared cameras of the rows fetched.
    owner_name = Operator.objects.filter(pk=OuterRef("operator_id")).values("name")[:1]
    return Case(When(~Q(operator=operator), then=Subquery(owner_name)), default=Value(None), output_field=CharField())


_ASK = object()


def device_list(
    *, operator: Operator, user: User | None = None, room=None, kind: str | None = None, scope=_ASK
) -> QuerySet[Device]:
    """Devices `user` of `operator` may see (see the module docstring); `user=None` is the operator's
    whole view, for background work acting for no user. `scope` is `user_scope(user)` where the caller
    has asked already."""
    visible = Q(operator=operator)
    shared = visibility.rules().shared_camera_ids(operator=operator)
    if shared is not None and kind in (None, "", DeviceKind.CAMERA):
        visible |= Q(kind=DeviceKind.CAMERA, pk__in=shared)
    devices = (
        Device.objects.filter(visible)
        .select_related("room", "room__building", "parent")
        # NULL on own devices; the owner's name on a camera shared to `operator`.
        .annotate(shared_by=_shared_by(operator))
    )
    if scope is _ASK:
        scope = user_scope(user)
    if scope is not None:
        devices = devices.filter(_scope_q(scope))
    if room is not None:
        devices = devices.filter(room=room)
    if kind:
        devices = devices.filter(kind=kind)
    return devices


def camera_list(
    *, operator: Operator, user: User | None = None, room=None, building=None, search: str = "", scope=_ASK
) -> QuerySet[Device]:
    """Cameras `user` may see: own (minus a per-user limit) and approved shared ones, marked `shared_by`;
    optionally only those of one of the operator's buildings (which leaves out shared cameras: their
    building is the owner's) and those whose name contains `search`."""
    cameras = device_list(operator=operator, user=user, room=room, kind=DeviceKind.CAMERA, scope=scope)
    if building is not None:
        cameras = cameras.filter(room__building=building, operator=operator)
    if search:
        cameras = cameras.filter(name__icontains=search)
    return cameras


class CameraListPage:
    """A camera list's every id in its order, and the queryset the ids came from: fetch a page's rows by
    id from `cameras`, which is built only when asked for (a kept order and a kept rows query need it
    on a miss alone)."""

    def __init__(self, ids: tuple[int, ...], key: tuple, build: Callable[[], QuerySet[Device]]) -> None:
        self.ids = ids  # every id in the list's order
        self.key = key  # what names this list besides the ids: the operator, the user's limit, the filters
        self._build = build

    @cached_property
    def cameras(self) -> QuerySet[Device]:
        return self._build()


def camera_list_page(
    *, operator: Operator, user: User | None, building=None, search: str = "", scope=_ASK
) -> CameraListPage:
    """`camera_list` and its every id in its order, that order kept between requests
    (devices/camera_order.py): the caller fetches a page's rows by id from the queryset, which applies
    the user's visibility again, so a kept id the user may no longer see shows nothing. `key` names the
    list (two users with different limits get different keys), for a caller that keeps its rows' query."""
    if scope is _ASK:  # a caller that already asked `user_scope(user)` passes it
        scope = user_scope(user)

    def build() -> QuerySet[Device]:
        return camera_list(operator=operator, user=user, building=building, search=search, scope=scope)

    building_id = getattr(building, "pk", None)
    page = CameraListPage((), (operator.pk, scope, building_id, search), build)
    page.ids = camera_order.ordered_ids(
        lambda: page.cameras, operator_id=operator.pk, scope=scope, building_id=building_id, search=search
    )
    return page


def with_sensor(devices: QuerySet[Device]) -> QuerySet[Device]:
    """`devices` with `sensor_pk`: a camera's built-in motion sensor (None for other kinds and a camera
    without one), in the list's own query."""
    sensor = Device.objects.filter(parent=OuterRef("pk"), kind=DeviceKind.SENSOR).order_by("pk").values("pk")
    return devices.annotate(
        sensor_pk=Case(
            When(kind=DeviceKind.CAMERA, then=Subquery(sensor[:1])), default=Value(None), output_field=IntegerField()
        )
    )


def access_device(*, operator: Operator, user: User, pk, write: bool = False) -> Device:
    """A device `user` of `operator` may see.

    Security guarantee: 404 for a device of another operator unless it is a camera shared to
    `operator` and approved; 404 for a device outside the user's camera limit; 404 for ANY write
    (rename, delete, exchange, stream settings, license, re-share, retention …) on a shared camera,
    because it is not the receiver's; 403 when `write` and the user is not an admin.
    """
    device = get_visible_or_404(device_list(operator=operator, user=user), pk)
    if write:
        if device.shared_by is not None:
            raise Http404
        require_admin(user)
    return device


def device_is_owned(device: Device, *, operator: Operator) -> bool:
    return device.operator_id == operator.pk


def device_exchange_list(*, operator: Operator, device: Device) -> QuerySet[DeviceExchange]:
    return DeviceExchange.objects.for_operator(operator).filter(device=device)


def visible_device_ids(*, operator: Operator, user: User | None):
    """The ids of the devices `user` may see (a subquery), or None when the user sees all of the
    operator's: the rule buildings applies to its lists and pages (`buildings.hooks`)."""
    if user_scope(user) is None:
        return None
    return device_list(operator=operator, user=user).filter(operator=operator).values("pk")
