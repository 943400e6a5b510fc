"""Every route, walked with another operator's ids: the first security rule, enforced by CI.

The walk reads the live URL configuration, so a route added tomorrow is covered without anyone
remembering to write its test. A route whose URL carries an id must answer 404 to a user of
another operator (the strongest one, an admin) for every method, and change nothing. A route
without ids must not show the other operator's data. A new kind of id fails this test until it
is added to ENTITY_IDS below; a route that is public on purpose must be listed in PUBLIC_ROUTES
with the reason.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import Tenant, client_for

# How to find, in the outsider's tenant, an object for each kind of URL id.
ENTITY_IDS: dict[str, Callable[[Tenant], object]] = {
    "building_id": lambda t: t.building.pk,
    "room_id": lambda t: t.room.pk,
    "device_id": lambda t: t.camera.pk,
    "camera_id": lambda t: t.camera.pk,
    "sensor_id": lambda t: t.sensor.pk,
    "user_id": lambda t: t.admin.pk,
    "customer_id": lambda t: t.operator.pk,  # the outsider as another partner's customer
    "license_id": lambda t: _license_of(t),
    "share_id": lambda t: __import__("tests.sharing.factories", fromlist=["share_of"]).share_of(t),
    "link_id": lambda t: __import__("tests.pos_link.factories", fromlist=["link_of"]).link_of(t).pk,
    "transaction_id": lambda t: __import__("tests.pos_link.factories", fromlist=["x"]).transaction_of(t).pk,
    "segment_id": lambda t: __import__("tests.recording.media", fromlist=["x"]).segment_of(t),
    "clip_id": lambda t: __import__("tests.recording.media", fromlist=["x"]).clip_of(t),
    "export_id": lambda t: __import__("tests.recording.media", fromlist=["x"]).export_of(t),
    "congestion_camera_id": lambda t: __import__("tests.congestion.factories", fromlist=["x"]).cc_of(t).pk,
    "group_id": lambda t: __import__("tests.congestion.factories", fromlist=["x"]).group_of(t).pk,
    "hours_rule_id": lambda t: __import__("tests.congestion.factories", fromlist=["x"]).hours_rule_of(t).pk,
}


def _license_of(tenant: Tenant) -> int:
    from tests.licensing.factories import give_camera_licenses  # a license assigned to the outsider

    return give_camera_licenses(tenant.operator)[0].pk


# Routes reachable without an operator, each with the reason it is safe.
PUBLIC_ROUTES = {
    "tenants:invitation_accept": "signed single-use token, carries no operator id",
    "tenants:password_reset_confirm": "Django's signed reset token",
    "tenants:two_factor_verify": "only the pending login's own session",
    "recording:live_media": "signed short-lived camera_access_token, re-checked on every request (tests/recording)",
    **{
        f"embed_public:{name}": "unguessable key (192 bits), 404 without detail"
        for name in ("page", "image", "prediction", "site", "site_image", "site_prediction")
    },
}
SKIPPED_PREFIXES = ("staff/admin/", "i18n/", "api/schema", "api/docs", "static/", "media/")
MARKERS = ("Bravo Tower", "Bravo Entrance", "Bravo Cam", "bravo-admin@example.com", "Bravo admin")


@dataclass
class Route:
    name: str
    route: str
    params: tuple[str, ...]


def _walk(patterns, namespace: tuple[str, ...] = (), prefix: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    for entry in patterns:
        here = prefix + str(entry.pattern)
        names = params + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = namespace + ((entry.namespace,) if entry.namespace else ())
            yield from _walk(entry.url_patterns, ns, here, names)
        elif isinstance(entry, URLPattern):
            yield Route(":".join(namespace + (entry.name or "",)), here, names)


def all_routes() -> list[Route]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.route.startswith(SKIPPED_PREFIXES) or "format" in route.params:
            continue
        routes.append(route)
    return routes


ROUTES = all_routes()
ID_ROUTES = [r for r in ROUTES if r.params and r.name not in PUBLIC_ROUTES]
PLAIN_ROUTES = [r for r in ROUTES if not r.params]


def test_every_route_is_named():
    unnamed = [r.route for r in ROUTES if r.name.endswith(":") or not r.name.split(":")[-1]]
    assert not unnamed, f"name these routes so the isolation walk can reverse them: {unnamed}"


def test_every_url_id_kind_is_known():
    unknown = sorted({p for r in ID_ROUTES for p in r.params if p not in ENTITY_IDS})
    assert not unknown, (
        f"URL ids {unknown} are not in ENTITY_IDS of {__name__}: add how to find an outsider's object "
        "(or list the route in PUBLIC_ROUTES with a reason)"
    )


def test_the_walk_covers_the_known_object_routes():
    # Guards the walker itself: if it found nothing, every other test here would pass vacuously.
    names = {r.name for r in ID_ROUTES}
    assert len(ID_ROUTES) >= 5, names


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda r: r.name)
def test_another_operators_ids_are_404_for_every_method(route, alpha, bravo):
    if any(p not in ENTITY_IDS for p in route.params):
        pytest.skip("unknown id kind: reported by test_every_url_id_kind_is_known")
    kwargs = {p: ENTITY_IDS[p](bravo) for p in route.params}
    url = reverse(route.name, kwargs=kwargs)
    client = client_for(alpha.admin)
    before = _snapshot(bravo)
    answers = {}
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(client, method)(url, data={} if method == "get" else None, content_type="application/json")
        answers[method] = response.status_code
        assert response.status_code in (404, 405), f"{method.upper()} {url} answered {response.status_code}"
        for marker in MARKERS:
            assert marker.encode() not in response.content, f"{method.upper()} {url} leaked {marker!r}"
    assert 404 in answers.values(), f"{url}: no method answered 404 ({answers})"
    assert _snapshot(bravo) == before, f"{url} changed the other operator's data"


@pytest.mark.parametrize("route", PLAIN_ROUTES, ids=lambda r: r.name)
def test_routes_without_ids_never_show_another_operators_data(route, alpha, bravo):
    client = client_for(alpha.admin)
    response = client.get(reverse(route.name), follow=True)
    for marker in MARKERS:
        assert marker.encode() not in response.content, f"GET {route.route} leaked {marker!r}"


def _snapshot(tenant: Tenant) -> tuple:
    tenant.building.refresh_from_db()
    tenant.room.refresh_from_db()
    tenant.camera.refresh_from_db()
    tenant.admin.refresh_from_db()
    return (
        tenant.building.name,
        tenant.room.name,
        tenant.room.contract_number,
        tenant.camera.name,
        tenant.camera.mac,
        tenant.camera.rtsp_url,
        tenant.admin.email,
        tenant.admin.role,
        tenant.admin.password,
    )
