"""The camera list keeps its order between requests (devices/camera_order.py): every change a camera's
place or presence depends on shows on the next request, and a kept order never shows what the user
may no longer see."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from devices import camera_order
from devices.models import Device
from sharing.models import UserCameraScope
from sharing.services import share_cancel
from tests.conftest import client_for
from tests.factories import BuildingFactory, CameraFactory, RoomFactory
from tests.sharing.factories import make_share


def _names(user, query: str = "") -> list[str]:
    response = client_for(user).get(reverse("home") + query)
    assert response.status_code == 200
    return re.findall(r'<strong><a href="/devices/\d+/">([^<]+)</a></strong>', response.content.decode())


def _queries(user) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client_for(user).get(reverse("home")).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def _sorts_every_camera(sql: list[str]) -> bool:
    # The kept order's miss: the ids alone of every visible camera (the page's rows come with their fields).
    return any(s.startswith('SELECT "devices_device"."id" AS "pk" FROM "devices_device"') for s in sql)


def test_the_order_is_kept_until_a_camera_changes_and_a_workers_save_keeps_it(alpha):
    camera_order.camera_list_changed()
    assert _sorts_every_camera(_queries(alpha.admin))
    assert not _sorts_every_camera(_queries(alpha.admin))  # kept
    alpha.camera.trouble_state = "storage"
    alpha.camera.save(update_fields=["trouble_state"])  # a worker's save: no place in the list changes
    assert not _sorts_every_camera(_queries(alpha.admin))
    alpha.camera.name = "Alpha Cam renamed"
    alpha.camera.save(update_fields=["name"])
    assert _sorts_every_camera(_queries(alpha.admin))


def test_a_new_camera_a_rename_a_move_and_a_deletion_show_on_the_next_request(alpha):
    annex = RoomFactory(building=BuildingFactory(operator=alpha.operator, name="Annex"), name="Lobby")
    door = CameraFactory(room=annex, name="Annex Door")
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Door"]
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Door"]  # kept

    CameraFactory(room=annex, name="Annex Back")
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Back", "Annex Door"]

    door.name = "Annex Atrium"
    door.save()
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Atrium", "Annex Back"]

    annex.building.name = "A first building"  # sorts before "Alpha Tower" now
    annex.building.save()
    assert _names(alpha.admin) == ["Annex Atrium", "Annex Back", "Alpha Cam"]

    alpha.room.name = "Alpha Zeta"
    alpha.room.save()
    door.room = alpha.room
    door.save()
    assert _names(alpha.admin) == ["Annex Back", "Alpha Cam", "Annex Atrium"]

    door.delete()
    assert _names(alpha.admin) == ["Annex Back", "Alpha Cam"]
    assert _names(alpha.admin, f"?building={annex.building_id}") == ["Annex Back"]


def test_a_share_shows_once_approved_and_goes_once_cancelled(alpha, bravo):
    assert _names(alpha.admin) == ["Alpha Cam"]
    share = make_share(bravo, alpha.operator, alpha.admin)
    assert _names(alpha.admin) == ["Alpha Cam", "Bravo Cam"]
    share_cancel(operator=bravo.operator, user=bravo.admin, share=share)
    assert _names(alpha.admin) == ["Alpha Cam"]


def test_a_kept_order_never_shows_a_camera_the_user_may_no_longer_see(alpha, bravo, monkeypatch):
    """A change that sends no signal (a bulk write) leaves the old order kept: its ids still pass the
    user's visibility again, so a cancelled share's camera shows nothing."""
    share = make_share(bravo, alpha.operator, alpha.admin)
    assert _names(alpha.admin) == ["Alpha Cam", "Bravo Cam"]
    monkeypatch.setattr(camera_order, "camera_list_changed", lambda: None)
    share_cancel(operator=bravo.operator, user=bravo.admin, share=share)
    Device.objects.filter(pk=alpha.camera.pk).update(name="Alpha Cam renamed in bulk")
    body = client_for(alpha.admin).get(reverse("home")).content.decode()
    assert "Bravo Cam" not in body
    assert "Alpha Cam renamed in bulk" in body  # the rows themselves are always fresh


def test_two_users_with_different_limits_never_share_a_kept_order(alpha):
    annex_room = RoomFactory(building=alpha.building, name="Annex room")
    CameraFactory(room=annex_room, name="Annex Cam")
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Cam"]
    assert _names(alpha.viewer) == ["Alpha Cam", "Annex Cam"]  # no limit: the operator's whole list
    scope = UserCameraScope.objects.create(operator=alpha.operator, user=alpha.viewer)
    scope.rooms.add(annex_room)
    assert _names(alpha.viewer) == ["Annex Cam"]
    assert _names(alpha.admin) == ["Alpha Cam", "Annex Cam"]
    scope.rooms.set([alpha.room])  # a limit's change is in the key itself: no signal needed
    assert _names(alpha.viewer) == ["Alpha Cam"]


def test_a_new_operator_never_reads_a_deleted_ones_kept_order(alpha):
    operator_id = alpha.operator.pk
    assert _names(alpha.admin) == ["Alpha Cam"]
    key_before = cache.get(camera_order.GENERATION_KEY)
    from tests.factories import OperatorFactory

    OperatorFactory(name="Newcomer")
    assert cache.get(camera_order.GENERATION_KEY) != key_before
    assert alpha.operator.pk == operator_id


def test_the_list_answers_when_the_cache_does_not(alpha, monkeypatch):
    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

        set = get

    monkeypatch.setattr(camera_order, "cache", Down())
    assert _names(alpha.admin) == ["Alpha Cam"]
    CameraFactory(room=alpha.room, name="Alpha Second")
    assert _names(alpha.admin) == ["Alpha Cam", "Alpha Second"]


@pytest.mark.parametrize("fields", [None, ["name"], ["room"], ["kind"], ["operator"], ["parent"]])
def test_a_save_that_can_move_a_camera_forgets_the_orders(alpha, fields):
    before = camera_order._new_generation()
    alpha.camera.save(update_fields=fields)
    assert cache.get(camera_order.GENERATION_KEY) != before


def test_a_change_in_another_process_reaches_this_ones_own_kept_lists(alpha):
    """Each process keeps the lists it read last; another process's change is its new generation token in
    the shared cache, which this process asks for on every request."""
    CameraFactory(room=alpha.room, name="Beta Cam")
    home = reverse("home")
    assert "2 cameras" in client_for(alpha.admin).get(home).content.decode()
    Device.objects.filter(name="Beta Cam").update(kind="sensor")  # no signal: the kept list still counts it
    body = client_for(alpha.admin).get(home).content.decode()
    assert ">2 cameras</p>" in body and "Beta Cam" not in body  # its row is not fetched again
    cache.set(camera_order.GENERATION_KEY, "from-another-process", None)  # as its camera_list_changed() does
    assert ">1 camera</p>" in client_for(alpha.admin).get(home).content.decode()


def test_a_transaction_of_many_changes_forgets_the_orders_once_more_on_commit(alpha):
    from django.db import transaction

    for i in range(5):
        CameraFactory(room=alpha.room, name=f"Many {i}")
    alpha.building.delete()  # its room, its cameras and their sensors, each with its signal
    queued = transaction.get_connection().run_on_commit
    assert sum(1 for _sids, func, _robust in queued if func is camera_order._new_generation) == 1


def _options(user) -> list[str]:
    body = client_for(user).get(reverse("home")).content.decode()
    select = body.split('<select name="building"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)


def _badge(user) -> str | None:
    found = re.search(
        r'class="badge trouble share-pending"[^>]*>(\d+)<', client_for(user).get(reverse("home")).content.decode()
    )
    return found and found.group(1)


def test_the_building_choices_and_the_share_badge_are_kept_until_what_they_show_changes(alpha, bravo):
    camera_order.camera_list_changed()
    first, second = _queries(alpha.admin), _queries(alpha.admin)
    asks = ('SELECT "buildings_building"."id" AS "pk"', 'SELECT COUNT(*) AS "__count" FROM "devices_camerashare"')
    assert len([s for s in first if s.startswith(asks)]) == 2
    assert not [s for s in second if s.startswith(asks)]  # both kept: two queries fewer a page
    assert _sorts_every_camera(first) and len(second) == len(first) - 3  # the order, the choices, the badge

    assert _options(alpha.admin) == ["Alpha Tower"]
    annex = BuildingFactory(operator=alpha.operator, name="Annex")
    CameraFactory(room=RoomFactory(building=annex, name="Lobby"), name="Annex Door")
    assert _options(alpha.admin) == ["Alpha Tower", "Annex"]
    assert _badge(alpha.admin) is None
    share = make_share(bravo, alpha.operator, alpha.admin, approve=False)  # a request waits for alpha's admin
    assert _badge(alpha.admin) == "1"
    share_cancel(operator=bravo.operator, user=bravo.admin, share=share)
    assert _badge(alpha.admin) is None
    annex.name = "Annex West"
    annex.save()
    assert _options(alpha.admin) == ["Alpha Tower", "Annex West"]


def test_a_kept_value_is_computed_once_per_generation_and_each_time_when_the_cache_is_down(monkeypatch):
    calls = []

    def compute():
        calls.append(1)
        return (len(calls),)

    camera_order.camera_list_changed()
    assert camera_order.kept("t", compute, operator_id=1, scope=None) == (1,)
    assert camera_order.kept("t", compute, operator_id=1, scope=None) == (1,)
    assert camera_order.kept("t", compute, operator_id=2, scope=None) == (2,)  # another operator's own
    camera_order.camera_list_changed()
    assert camera_order.kept("t", compute, operator_id=1, scope=None) == (3,)

    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

    monkeypatch.setattr(camera_order, "cache", Down())
    camera_order.kept("t", compute, operator_id=1, scope=None)
    camera_order.kept("t", compute, operator_id=1, scope=None)
    assert len(calls) == 5


class _CountedGets:
    """The cache, counting its reads of the generation token."""

    def __init__(self):
        self.generation_reads = 0

    def get(self, key, *args, **kwargs):
        self.generation_reads += key == camera_order.GENERATION_KEY
        return cache.get(key, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(cache, name)


def test_a_request_reads_the_generation_token_once_and_what_it_draws_replaces_it(alpha, monkeypatch):
    counted = _CountedGets()
    monkeypatch.setattr(camera_order, "cache", counted)
    assert _names(alpha.admin) == ["Alpha Cam"]  # the building choices, the order and the menu's badge ask
    assert counted.generation_reads == 1
    CameraFactory(room=alpha.room, name="Alpha Second")  # outside a request: asked of the cache each time
    assert _names(alpha.admin) == ["Alpha Cam", "Alpha Second"]
    assert counted.generation_reads == 2

    seen = []

    def view(request):
        seen.append(camera_order._generation())
        camera_order.camera_list_changed()  # this request's own change: its new token, not the one it read
        seen.append(camera_order._generation())
        return "response"

    assert camera_order.RequestGenerationMiddleware(view)(object()) == "response"
    assert seen[0] != seen[1] == cache.get(camera_order.GENERATION_KEY)
    assert counted.generation_reads == 3
    assert camera_order._read_this_request.get() is None  # nothing carried over past the request
