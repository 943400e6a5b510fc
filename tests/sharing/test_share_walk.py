"""The cross-operator route walk (tests/test_tenant_isolation.py), extended to shares.

With alpha's camera shared to bravo, bravo's admin walks every route with alpha's ids: the shared
camera's routes may be read but never written (404/405, nothing changed); every other object of
alpha stays a 404 for every method. After alpha cancels, the shared camera's routes are 404 too.
"""

import pytest
from django.urls import reverse

from sharing.services import share_cancel
from tests.conftest import Tenant, client_for
from tests.test_tenant_isolation import ENTITY_IDS, ID_ROUTES, _snapshot

CAMERA_IDS = ("device_id", "camera_id")
WRITES = ("post", "put", "patch", "delete")


def _url(route, owner: Tenant) -> str:
    return reverse(route.name, kwargs={p: ENTITY_IDS[p](owner) for p in route.params})


def _call(client, method: str, url: str):
    return getattr(client, method)(url, data={} if method == "get" else None, content_type="application/json")


# POST routes that only read, open to every role that may see the camera.
READ_ONLY_POSTS: dict[str, str] = {}  # none: even "refresh trouble info" probes and may mail the owner

CAMERA_ROUTES = [r for r in ID_ROUTES if set(r.params) <= set(CAMERA_IDS)]
OTHER_ROUTES = [r for r in ID_ROUTES if r not in CAMERA_ROUTES and all(p in ENTITY_IDS for p in r.params)]


def test_the_walk_has_camera_routes_and_others():
    assert len(CAMERA_ROUTES) >= 5 and len(OTHER_ROUTES) >= 5


@pytest.mark.parametrize("route", CAMERA_ROUTES, ids=lambda r: r.name)
def test_the_receiver_never_writes_through_a_shared_camera_route(route, alpha, bravo, shared):
    if route.name in READ_ONLY_POSTS:
        pytest.skip(READ_ONLY_POSTS[route.name])
    url = _url(route, alpha)
    client = client_for(bravo.admin)
    before = _snapshot(alpha)
    for method in WRITES:
        status = _call(client, method, url).status_code
        assert status in (404, 405), f"{method.upper()} {url} answered {status} to the receiver"
    assert _snapshot(alpha) == before


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.name)
def test_everything_else_of_the_owner_stays_404_for_the_receiver(route, alpha, bravo, shared):
    url = _url(route, alpha)
    if "share_id" in route.params:
        pytest.skip("alpha's share to a third operator: covered by the isolation walk")
    client = client_for(bravo.admin)
    before = _snapshot(alpha)
    answers = {m: _call(client, m, url).status_code for m in ("get", *WRITES)}
    assert set(answers.values()) <= {404, 405}, f"{url}: {answers}"
    assert 404 in answers.values()
    assert _snapshot(alpha) == before


@pytest.mark.parametrize("route", CAMERA_ROUTES, ids=lambda r: r.name)
def test_after_cancel_every_shared_camera_route_is_404(route, alpha, bravo, shared):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=shared)
    url = _url(route, alpha)
    client = client_for(bravo.admin)
    answers = {m: _call(client, m, url).status_code for m in ("get", *WRITES)}
    assert set(answers.values()) <= {404, 405}, f"{url}: {answers}"
    assert 404 in answers.values()


def test_the_receiver_cannot_delete_the_owners_recording_conditions(alpha, bravo, shared):
    from recording.models import RecordingCondition
    from recording.services import condition_add
    from tests.factories import SensorFactory
    from tests.sharing.conftest import second_room

    _room, other_camera = second_room(alpha)
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=SensorFactory(parent=other_camera))
    client_for(bravo.admin).post(reverse("recording:conditions_delete_all", kwargs={"camera_id": alpha.camera.pk}))
    assert RecordingCondition.objects.filter(camera=alpha.camera).count() == 1
