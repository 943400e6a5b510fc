"""Every list page and API list runs the same number of queries for 5 rows as for 50 (issue #14 §2).

Each case makes 5 rows of its list in alpha, counts the queries of one request, makes 45 more and
counts again: a query per row (an N+1) makes the second count larger. One warm-up request first, so
what a process does once (content types, the session) is not counted against the first figure.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Tenant, client_for
from tests.factories import BuildingFactory, CameraFactory, OperatorFactory, RoomFactory, SensorFactory, UserFactory


@dataclass
class World:
    alpha: Tenant
    bravo: Tenant
    partner: object = None
    partner_admin: object = None


def _new_cameras(world: World, count: int, *, room=None) -> list:
    """`count` cameras with their sensors in `room` (alpha's first room by default)."""
    room = room or world.alpha.room
    cameras = [CameraFactory(room=room) for _ in range(count)]
    for camera in cameras:
        SensorFactory(parent=camera)
    return cameras


def _licensed_cameras(world: World, count: int) -> None:
    """Cameras whose license state differs: active, expired and none, in turn."""
    from licensing.models import License
    from tests.licensing.factories import give_camera_licenses

    cameras = _new_cameras(world, count)
    licenses = give_camera_licenses(world.alpha.operator, count=count)
    today = timezone.localdate()
    for i, (camera, lic) in enumerate(zip(cameras, licenses, strict=True)):
        if i % 3 == 2:
            continue  # unlicensed: the license stays free
        ends = today + timedelta(days=30) if i % 3 == 0 else today - timedelta(days=1)
        License.objects.filter(pk=lic.pk).update(device=camera, starts_on=today - timedelta(days=60), ends_on=ends)


def _buildings(world: World, count: int) -> None:
    for _ in range(count):
        room = RoomFactory(building=BuildingFactory(operator=world.alpha.operator))
        _new_cameras(world, 1, room=room)


def _rooms(world: World, count: int) -> None:
    for _ in range(count):
        _new_cameras(world, 1, room=RoomFactory(building=world.alpha.building))


def _segments(world: World, count: int) -> None:
    from recording.models import RecordingSegment

    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=1)
    existing = RecordingSegment.objects.filter(camera=world.alpha.camera).count()
    RecordingSegment.objects.bulk_create(
        RecordingSegment(
            operator=world.alpha.operator,
            camera=world.alpha.camera,
            start=start + timedelta(minutes=existing + i),
            duration=60,
            size=1000,
            storage_name=f"recordings/q/{existing + i}.mp4",
        )
        for i in range(count)
    )


def _clips(world: World, count: int) -> None:
    from recording.models import EventClip

    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=1)
    existing = EventClip.objects.filter(camera=world.alpha.camera).count()
    for i in range(existing, existing + count):
        at = start + timedelta(minutes=i)
        EventClip.objects.create(
            operator=world.alpha.operator,
            camera=world.alpha.camera,
            motion_at=at,
            start=at,
            duration=10,
            size=1000,
            storage_name=f"recordings/q/clip-{i}.mp4",
        )


def _exports(world: World, count: int) -> None:
    from recording.models import Export

    now = timezone.now()
    for camera in _new_cameras(world, count):
        Export.objects.create(
            operator=world.alpha.operator,
            camera=camera,
            user=world.alpha.admin,
            start=now - timedelta(minutes=1),
            end=now,
            status=Export.Status.DONE,
            expires_at=now + timedelta(days=7),
        )


def _shares(world: World, count: int) -> None:
    from tests.sharing.factories import make_share

    for camera in _new_cameras(world, count):
        make_share(world.alpha, world.bravo.operator, world.bravo.admin, camera=camera)


def _customers(world: World, count: int) -> None:
    from tenants.models import Operator
    from tests.licensing.factories import give_camera_licenses

    for _ in range(count):
        customer = OperatorFactory(kind=Operator.Kind.CUSTOMER, partner=world.partner)
        UserFactory(operator=customer)
        give_camera_licenses(customer, count=1)


def _partner_licenses(world: World, count: int) -> None:
    from tenants.models import Operator
    from tests.licensing.factories import give_camera_licenses

    for _ in range(count):
        customer = OperatorFactory(kind=Operator.Kind.CUSTOMER, partner=world.partner)
        give_camera_licenses(customer, count=1)


def _transactions(world: World, count: int) -> None:
    from pos_link.models import PosTransaction
    from tests.pos_link.factories import transaction_of

    existing = PosTransaction.objects.filter(operator=world.alpha.operator).count()
    for i in range(existing, existing + count):
        transaction_of(world.alpha, provider_id=f"q{i}", occurred_at=timezone.now() - timedelta(minutes=i + 1))


def _links(world: World, count: int) -> None:
    from pos_link.models import PosLink
    from tests.pos_link.factories import link_of

    link_of(world.alpha)
    connection_ = PosLink.objects.filter(operator=world.alpha.operator).first().connection
    existing = PosLink.objects.filter(operator=world.alpha.operator).count()
    for i, camera in enumerate(_new_cameras(world, count), start=existing):
        PosLink.objects.create(
            operator=world.alpha.operator, connection=connection_, terminal_id=f"t{i}", camera=camera
        )


def _congestion_cameras(world: World, count: int) -> None:
    from congestion.models import CongestionCamera
    from licensing.models import LicenseKind
    from tests.licensing.factories import give_camera_licenses

    give_camera_licenses(world.alpha.operator, count=count, kind=LicenseKind.CONGESTION_OPTION)
    for camera in _new_cameras(world, count):
        CongestionCamera.objects.create(operator=world.alpha.operator, camera=camera, display_name=camera.name)


def _groups(world: World, count: int) -> None:
    from congestion.models import CongestionCamera, Group

    _congestion_cameras(world, count)
    ccs = list(CongestionCamera.objects.filter(operator=world.alpha.operator).order_by("-id")[:count])
    for cc in ccs:
        group = Group.objects.create(operator=world.alpha.operator, name=f"Group {cc.pk}", default_camera=cc)
        group.cameras.add(cc)


def _pos_world(world: World) -> None:
    from tests.pos_link.factories import give_pos_options

    give_pos_options(world.alpha.operator, count=60)


def _partner_world(world: World) -> None:
    from tests.licensing.factories import make_partner

    world.partner, world.partner_admin = make_partner()


@dataclass
class ListCase:
    name: str
    url: Callable[[World], str]
    add: Callable[[World, int], None]
    user: Callable[[World], object] = lambda w: w.alpha.admin
    setup: Callable[[World], None] | None = None


def _camera(world: World) -> int:
    return world.alpha.camera.pk


CASES = [
    ListCase("camera list page", lambda w: reverse("home"), _licensed_cameras),
    ListCase("camera list page, viewer", lambda w: reverse("home"), _licensed_cameras, lambda w: w.alpha.viewer),
    ListCase(
        "camera list page, one building",
        lambda w: reverse("home") + f"?building={w.alpha.building.pk}&q=Cam",
        _licensed_cameras,
    ),
    ListCase("buildings page", lambda w: reverse("buildings:list"), _buildings),
    ListCase("buildings API", lambda w: "/api/v1/buildings/", _buildings),
    ListCase(
        "building page (its rooms)",
        lambda w: reverse("buildings:detail", kwargs={"building_id": w.alpha.building.pk}),
        _rooms,
    ),
    ListCase("rooms API", lambda w: "/api/v1/rooms/", _rooms),
    ListCase(
        "room page (its devices)",
        lambda w: reverse("buildings:room_detail", kwargs={"room_id": w.alpha.room.pk}),
        _new_cameras,
    ),
    ListCase("devices API", lambda w: "/api/v1/devices/", _new_cameras),
    ListCase("devices API, viewer", lambda w: "/api/v1/devices/", _new_cameras, lambda w: w.alpha.viewer),
    ListCase(
        "recordings (player, continuous)",
        lambda w: reverse("recording:player", kwargs={"camera_id": _camera(w)}),
        _segments,
    ),
    ListCase(
        "clips (player, events)",
        lambda w: reverse("recording:player", kwargs={"camera_id": _camera(w)}) + "?view=event",
        _clips,
    ),
    ListCase("recording settings page (cameras)", lambda w: reverse("recording:index"), _new_cameras),
    ListCase("exports page", lambda w: reverse("recording:exports"), _exports),
    ListCase("shares page (owner)", lambda w: reverse("sharing:index"), _shares),
    ListCase("shares page (receiver)", lambda w: reverse("sharing:index"), _shares, lambda w: w.bravo.admin),
    ListCase("shares API (owner)", lambda w: "/api/v1/shares/", _shares),
    ListCase("shares API (receiver)", lambda w: "/api/v1/shares/", _shares, lambda w: w.bravo.admin),
    ListCase("licenses page (customer)", lambda w: reverse("licensing:licenses"), _licensed_cameras),
    ListCase("licenses API (customer)", lambda w: "/api/v1/licenses/", _licensed_cameras),
    ListCase(
        "customers page (partner)",
        lambda w: reverse("licensing:customers"),
        _customers,
        lambda w: w.partner_admin,
        _partner_world,
    ),
    ListCase(
        "customers API (partner)",
        lambda w: "/api/v1/partner/customers/",
        _customers,
        lambda w: w.partner_admin,
        _partner_world,
    ),
    ListCase(
        "licenses API (partner)",
        lambda w: "/api/v1/partner/licenses/",
        _partner_licenses,
        lambda w: w.partner_admin,
        _partner_world,
    ),
    ListCase(
        "partner dashboard",
        lambda w: reverse("licensing:partner"),
        _customers,
        lambda w: w.partner_admin,
        _partner_world,
    ),
    ListCase(
        "POS transactions page",
        lambda w: reverse("pos_link:camera_dashboard", kwargs={"camera_id": _camera(w)}),
        _transactions,
        setup=_pos_world,
    ),
    ListCase("POS transactions API", lambda w: "/api/v1/pos/transactions/", _transactions, setup=_pos_world),
    ListCase("POS links page", lambda w: reverse("pos_link:links"), _links, setup=_pos_world),
    ListCase("POS links API", lambda w: "/api/v1/pos/links/", _links, setup=_pos_world),
    ListCase("POS dashboard (linked cameras)", lambda w: reverse("pos_link:dashboard"), _links, setup=_pos_world),
    ListCase("congestion cameras page", lambda w: reverse("congestion:index"), _congestion_cameras),
    ListCase("congestion cameras API", lambda w: "/api/v1/congestion/cameras/", _congestion_cameras),
    ListCase("groups page", lambda w: reverse("congestion:group_list"), _groups),
    ListCase("groups API", lambda w: "/api/v1/congestion/groups/", _groups),
]


def _count(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_list_costs_the_same_queries_for_5_rows_as_for_50(case: ListCase, alpha, bravo, media_in_tmp):
    world = World(alpha, bravo)
    if case.setup:
        case.setup(world)
    client = client_for(case.user(world))
    case.add(world, 5)
    url = case.url(world)
    client.get(url)  # warm-up
    few, _ = _count(client, url)
    case.add(world, 45)
    client.get(url)  # warm again: the camera list keeps its order until a camera changes (devices/camera_order.py)
    many, sql = _count(client, url)
    assert many == few, f"{case.name}: {few} queries with 5 rows, {many} with 50:\n" + "\n".join(sql)


def test_a_page_of_pos_thumbnails_says_what_each_row_alone_says(alpha):
    """The list's batch (`thumbnails_for`) gives each row the image or placeholder `thumbnail_for` gives it."""
    from licensing.models import License
    from pos_link.models import ThumbnailState
    from pos_link.thumbnails import thumbnail_for, thumbnails_for
    from recording.models import RecordingSegment
    from tests.licensing.factories import give_camera_licenses
    from tests.pos_link.factories import give_pos_options, transaction_of

    give_pos_options(alpha.operator)
    (lic,) = give_camera_licenses(alpha.operator)  # a camera without a license shows no picture either
    License.objects.filter(pk=lic.pk).update(device=alpha.camera)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    RecordingSegment.objects.create(operator=alpha.operator, camera=alpha.camera, start=start, duration=60, size=1,
                                    storage_name="recordings/q/covering.mp4")  # fmt: skip
    rows = [
        transaction_of(alpha, provider_id="covered", occurred_at=start + timedelta(seconds=30)),
        transaction_of(alpha, provider_id="after", occurred_at=start + timedelta(seconds=61)),
        transaction_of(alpha, provider_id="ready", occurred_at=start, thumbnail_state=ThumbnailState.READY),
        transaction_of(alpha, provider_id="none", occurred_at=start, thumbnail_state=ThumbnailState.NONE),
    ]
    alone = {tx.pk: thumbnail_for(tx) for tx in rows}
    assert [alone[tx.pk] is not None for tx in rows] == [True, False, True, False]
    assert thumbnails_for(rows) == alone
    assert thumbnails_for(rows, blocked=True) == dict.fromkeys(alone)
