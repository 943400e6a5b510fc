"""The camera list's rows query is compiled once per shape (portal/query_shapes.py): a kept shape saves the
compilation only. Every run filters by the user's visibility and the licensing day as the ORM would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device
from devices.selectors import camera_list, camera_list_page
from licensing.models import License
from portal import query_shapes
from portal.camera_cards import page_rows
from recording.media_selectors import camera_list_with_media_state
from sharing.models import UserCameraScope
from sharing.services import share_cancel
from tests.factories import BuildingFactory, CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses
from tests.sharing.factories import make_share


@pytest.fixture
def compiled(monkeypatch):
    """How many times a shape was compiled, from an empty store."""
    query_shapes.forget()
    count = {"n": 0}
    real = query_shapes._compile

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(query_shapes, "_compile", counting)
    yield count
    query_shapes.forget()


def _orm_rows(operator, user, at, **filters):
    rows = camera_list_with_media_state(camera_list(operator=operator, user=user, **filters), at=at)
    return [(r.pk, r.name, r.shared_by, r.thumbnail_at, r.media_blocked) for r in rows]


def _page(operator, user, at, ids=None, **filters):
    listing = camera_list_page(operator=operator, user=user, **filters)
    rows = page_rows(listing, list(listing.ids if ids is None else ids), at=at)
    return [(r.pk, r.name, r.shared_by, r.thumbnail_at, r.media_blocked) for r in rows]


def test_the_rows_are_the_orms_for_every_user_filter_and_page_size(alpha, bravo, compiled):
    now = timezone.now()
    annex = BuildingFactory(operator=alpha.operator, name="Annex")
    annex_room = RoomFactory(building=annex, name="Hall")
    for i in range(4):
        CameraFactory(room=annex_room, name=f"Annex {i}")
    make_share(bravo, alpha.operator, alpha.admin)
    scope = UserCameraScope.objects.create(operator=alpha.operator, user=alpha.viewer)
    scope.rooms.add(annex_room)
    for user in (alpha.admin, alpha.viewer):
        for filters in ({}, {"building": annex}, {"search": "annex 1"}):
            assert _page(alpha.operator, user, now, **filters) == _orm_rows(alpha.operator, user, now, **filters)
    everyone = _page(alpha.operator, alpha.admin, now)
    assert len(everyone) == 6 and {r[2] for r in everyone} == {None, bravo.operator.name}
    assert [r[1] for r in _page(alpha.operator, alpha.viewer, now)] == [f"Annex {i}" for i in range(4)]
    # A shorter page is a shape of its own, with the ids it asks for and in the list's order.
    ids = [everyone[4][0], everyone[1][0]]
    assert [r[0] for r in _page(alpha.operator, alpha.admin, now, ids=ids)] == [everyone[1][0], everyone[4][0]]
    made = compiled["n"]
    assert made >= 7  # two users' lists and their filters, then a page of two
    for user in (alpha.admin, alpha.viewer):
        _page(alpha.operator, user, now)
    assert compiled["n"] == made  # kept: the same lists compile nothing again


def test_a_kept_shape_still_drops_a_camera_the_user_may_no_longer_see(alpha, bravo, compiled):
    now = timezone.now()
    share = make_share(bravo, alpha.operator, alpha.admin)
    listing = camera_list_page(operator=alpha.operator, user=alpha.admin)
    ids = list(listing.ids)
    assert {r.pk for r in page_rows(listing, ids, at=now)} == {alpha.camera.pk, bravo.camera.pk}
    share_cancel(operator=bravo.operator, user=bravo.admin, share=share)
    # The same ids, through the same kept shape (a kept order can lag a write that sends no signal):
    again = camera_list_page(operator=alpha.operator, user=alpha.admin)
    assert [r.pk for r in page_rows(again, ids, at=now)] == [alpha.camera.pk]
    assert compiled["n"] == 1
    # Another operator's camera ids never come back for alpha, kept shape or not.
    other = CameraFactory(room=bravo.room, name="Bravo two")
    assert page_rows(again, [other.pk, bravo.camera.pk], at=now) == []


def test_the_licensing_day_is_part_of_the_shape(alpha, compiled):
    now = timezone.now()
    (lic,) = give_camera_licenses(alpha.operator, count=1)
    License.objects.filter(pk=lic.pk).update(device=alpha.camera, ends_on=timezone.localdate() + timedelta(days=1))
    listing = camera_list_page(operator=alpha.operator, user=alpha.admin)
    assert [r.media_blocked for r in page_rows(listing, list(listing.ids), at=now)] == [""]
    later = now + timedelta(days=3)
    assert [r.media_blocked for r in page_rows(listing, list(listing.ids), at=later)] == ["license_expired"]
    assert _page(alpha.operator, alpha.admin, later) == _orm_rows(alpha.operator, alpha.admin, later)


def test_a_query_that_does_not_filter_by_the_ids_given_is_refused(alpha, compiled):
    with pytest.raises(ValueError, match="pk__in"):
        query_shapes.rows(Device, "all", [alpha.camera.pk], lambda ids: Device.objects.all())
    with pytest.raises(ValueError, match="pk__in"):  # the ids twice: one place could not be filled
        query_shapes.rows(
            Device, "twice", [alpha.camera.pk], lambda ids: Device.objects.filter(pk__in=ids, parent_id__in=ids)
        )
    assert query_shapes.rows(Device, "none", [], lambda ids: Device.objects.filter(pk__in=ids)) == []


def _executed(operator, user, now) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _page(operator, user, now)
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.needs_postgres("PostgreSQL's prepared statements")
def test_on_postgresql_a_shape_is_prepared_once_per_connection_and_again_on_a_new_one(alpha, compiled, settings):
    from django.db import connections

    connection = connections["default"]  # the wrapper itself, not django.db.connection's proxy of it

    def new_server_session():  # what a new connection starts with (connection_created): nothing prepared
        connection.__dict__["portal_prepared"] = set()
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")

    new_server_session()  # earlier tests on this connection may have prepared the same shape
    now = timezone.now()
    first, second = _executed(alpha.operator, alpha.admin, now), _executed(alpha.operator, alpha.admin, now)
    prepares = [s for s in first if s.startswith("PREPARE portal_shape_")]
    assert len(prepares) == 1 and not [s for s in second if s.startswith("PREPARE")]
    name = prepares[0].split()[1]
    assert any(s.startswith(f"EXECUTE {name}(") for s in second)
    assert _page(alpha.operator, alpha.admin, now) == _orm_rows(alpha.operator, alpha.admin, now)

    new_server_session()
    assert [s for s in _executed(alpha.operator, alpha.admin, now) if s.startswith("PREPARE")] == prepares
    assert _page(alpha.operator, alpha.admin, now) == _orm_rows(alpha.operator, alpha.admin, now)

    settings.PORTAL_PREPARED_STATEMENTS = False  # behind a transaction pooler: plain SQL each time
    assert not [s for s in _executed(alpha.operator, alpha.admin, now) if s.startswith(("PREPARE", "EXECUTE"))]


def test_a_shape_builds_its_instances_as_the_orm_does_related_objects_and_deferred_fields_too(alpha, compiled):
    from django.db.models import F

    def build(ids):
        return (
            Device.objects.filter(pk__in=ids)
            .select_related("room__building")
            .only("name", "room__name", "room__building__name")
            .annotate(building_id_seen=F("room__building_id"))
        )

    ids = [alpha.camera.pk, alpha.sensor.pk]
    kept = query_shapes.rows(Device, "related", ids, build)
    orm = list(build(ids))
    assert len(kept) == 2 and {d.pk for d in kept} == set(ids)
    by_pk = {d.pk: d for d in orm}
    for device in kept:
        assert not device._state.adding and device._state.db == "default"
        assert device.get_deferred_fields() == by_pk[device.pk].get_deferred_fields() != set()
        assert device.building_id_seen == alpha.building.pk
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        names = [(d.name, d.room.name, d.room.building.name) for d in kept]
    assert captured.captured_queries == []  # the related objects came in the one query
    assert sorted(names) == sorted((d.name, d.room.name, d.room.building.name) for d in orm)


def test_a_queryset_of_another_model_is_refused(alpha, compiled):
    from buildings.models import Room

    with pytest.raises(ValueError, match="not Device"):
        query_shapes.rows(Device, "rooms", [alpha.room.pk], lambda ids: Room.objects.filter(pk__in=ids))


def test_the_session_user_comes_with_its_operator_from_a_kept_shape(alpha, bravo, compiled):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.auth_backend import EmailBackend

    backend = EmailBackend()
    with CaptureQueriesContext(connection) as captured:
        user = backend.get_user(alpha.admin.pk)
        assert (user.pk, user.email, user.operator.name) == (alpha.admin.pk, alpha.admin.email, "Alpha")
    # One query (on PostgreSQL also its PREPARE, in a savepoint, the first time on this connection):
    bookkeeping = ("PREPARE ", "SAVEPOINT ", "RELEASE SAVEPOINT ")
    assert len([q for q in captured.captured_queries if not q["sql"].startswith(bookkeeping)]) == 1
    other = backend.get_user(bravo.viewer.pk)  # the same shape: another id, another operator
    assert (other.email, other.operator.name) == (bravo.viewer.email, "Bravo")
    assert other.password == type(bravo.viewer).objects.get(pk=bravo.viewer.pk).password
    assert compiled["n"] == 1
    type(alpha.viewer).objects.filter(pk=alpha.viewer.pk).update(is_active=False)
    assert backend.get_user(alpha.viewer.pk) is None  # a deactivated user is logged out on the next request
    assert backend.get_user(10**12) is None
