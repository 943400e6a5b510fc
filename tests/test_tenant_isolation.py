"""Every route, walked with another operator's ids: the first security rule, enforced by CI.

The walk reads the live URL configuration, so a route added tomorrow is covered without anyone
remembering to write its test. A route whose URL carries an id must answer 404 to a user of
another operator (the strongest one, an admin) for every method, and change nothing. A route
without ids must not show the other operator's data. A new kind of id fails this test until it
is added to ENTITY_IDS below; a route that is public on purpose must be listed in PUBLIC_ROUTES
with the reason.
"""

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import Tenant, build_tenant, client_for

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
    "token_id": lambda t: _api_token_of(t),
}


def _api_token_of(tenant: Tenant) -> int:
    from tenants.services import api_token_create

    api_token_create(user=tenant.admin, name=f"{tenant.operator.name} token")
    return tenant.admin.api_tokens.order_by("-pk").first().pk


def _license_of(tenant: Tenant) -> int:
    from tests.licensing.factories import give_camera_licenses  # a license assigned to the outsider

    return give_camera_licenses(tenant.operator)[0].pk


# Routes reachable without an operator, each with the reason it is safe.
PUBLIC_ROUTES = {
    "tenants:invitation_accept": "signed single-use token, carries no operator id",
    "tenants:password_reset_confirm": "Django's signed reset token",
    "tenants:two_factor_verify": "only the pending login's own session",
    "recording:live_media": "signed short-lived camera_access_token, re-checked on every request by the view and "
    "every LIVE_RECHECK_SECONDS under portal.asgi (tests/recording/test_live_hls_http.py)",
    "pos_link:webhook": "Smaregi's push: the contract's own 256-bit secret in the URL, compared in constant time; "
    "a wrong one is a bare 404 (tests/pos_link/test_ingestion.py)",
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


# The socket walk: every WebSocket route of portal/asgi.py, opened as the other operator's admin (with its
# session) naming this operator's ids, must be refused with 4404 and send nothing: with no token, with
# the admin's genuine token for its own camera, and with a signed token that names the other object.


def socket_routes() -> list[Route]:
    from portal.asgi import websocket_urlpatterns

    return [Route(p.name, str(p.pattern), tuple(p.pattern.regex.groupindex)) for p in websocket_urlpatterns]


SOCKET_ROUTES = socket_routes()


def test_only_the_live_files_are_served_outside_django():
    """portal.asgi sends one URL past Django's middleware and views (recording/live_http.py): a route
    that matched there as well would skip the checks every other route has."""
    import re

    from recording.live_http import live_file_route

    for route in ROUTES:
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "1", route.route)
        routed = live_file_route(path) is not None
        assert routed == (route.name == "recording:live_media"), route.name


def test_the_socket_walk_covers_the_live_view():
    assert {r.name for r in SOCKET_ROUTES} >= {"live_socket"}
    assert all(r.params for r in SOCKET_ROUTES), "a socket without ids needs its own isolation test"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", SOCKET_ROUTES, ids=lambda r: r.name)
def test_another_operators_ids_are_refused_on_every_socket(route, alpha, bravo):
    import re

    from devices.media_tokens import camera_access_token
    from devices.models import Device
    from tests.recording.live_socket import open_socket, receive_until, run

    unknown = [p for p in route.params if p not in ENTITY_IDS]
    assert not unknown, f"socket ids {unknown}: add them to ENTITY_IDS"
    kwargs = {p: ENTITY_IDS[p](bravo) for p in route.params}
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.route)
    cookie = f"sessionid={client_for(alpha.admin).cookies['sessionid'].value}"
    tokens = [None, camera_access_token(alpha.camera, alpha.operator, user=alpha.admin)]
    for value in kwargs.values():
        device = Device.objects.filter(pk=value).first()
        if device is not None:  # genuinely signed, naming the other operator's device for our operator
            tokens.append(camera_access_token(device, alpha.operator, user=alpha.admin))
    before = _snapshot(bravo)
    for token in tokens:
        url = path + (f"?token={token}" if token else "")

        async def body(url=url):
            return await receive_until(open_socket(url, cookie=cookie), lambda got: False, accepted=False)

        got = run(body)
        assert got.close_code == 4404, f"{url}: closed with {got.close_code}"
        assert got.texts == [] and got.binaries == [], f"{url} sent {got.texts} and {len(got.binaries)} binaries"
    assert _snapshot(bravo) == before


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


# ---------------------------------------------------------------------------------------------------
# The body walk: every write route again, now with the other operator's ids in the body and the
# query string, and every write route as a view-only user of the same operator.
#
# It is generic, like the walk above: API bodies come from the OpenAPI schema (drf_spectacular,
# generated in-process), page bodies from the forms the pages themselves render (crawled once as
# alpha's admin), query strings from the schema, the pages' GET forms and the keys the view
# modules read. Each id-like field is filled with one of bravo's objects, one field at a time,
# the rest with alpha's own valid values; then, as a control, the same body with alpha's ids must
# be accepted, so a refusal is the id's doing and not a bad body's. A new id-like field fails
# test_every_id_field_is_known until it is named below.
# ---------------------------------------------------------------------------------------------------

import ast  # noqa: E402
import inspect  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from datetime import timedelta  # noqa: E402
from functools import cache  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from django.apps import apps  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from tenants.models import Operator, User  # noqa: E402

# Body ids beyond the URL kinds above.
BODY_IDS: dict[str, Callable[[Tenant], object]] = {
    **ENTITY_IDS,
    "connection_id": lambda t: __import__("tests.pos_link.factories", fromlist=["x"]).link_of(t).connection_id,
    "other_sensor_id": lambda t: _sensor_in_another_room(t),
}


def _sensor_in_another_room(tenant: Tenant) -> int:
    """A sensor that may trigger the tenant's camera by a recording condition (docs/product.md §3.6: another room)."""
    from tests.factories import CameraFactory, RoomFactory, SensorFactory

    room = RoomFactory(building=tenant.building, name=f"{tenant.operator.name} Garbage area")
    camera = CameraFactory(room=room, name=f"{tenant.operator.name} Garbage cam")
    return SensorFactory(parent=camera, name=f"{tenant.operator.name} Garbage sensor").pk


def _equip(tenant: Tenant) -> None:
    """What a working operator holds beyond its objects, so writes can succeed: spare camera and
    POS option licenses, and stock at its partner to assign."""
    from licensing.models import LicenseKind
    from licensing.services import stock_add
    from tests.licensing.factories import give_camera_licenses
    from tests.pos_link.factories import give_pos_options

    give_camera_licenses(tenant.operator, count=2)
    give_pos_options(tenant.operator, count=3)
    tenant.operator.refresh_from_db()
    stock_add(partner=tenant.operator.partner, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)


# Which kind of object a body or query field names, by the field's name. A route whose field means
# something else (a congestion group's "cameras" are congestion cameras) says so in FIELD_KINDS_BY_ROUTE.
FIELD_KINDS: dict[str, str] = {
    "building": "building_id",
    "room": "room_id",
    "rooms": "room_id",
    "camera": "camera_id",
    "cameras": "camera_id",
    "device": "device_id",
    "sensor": "sensor_id",
    "user": "user_id",
    "users": "user_id",
    "customer": "customer_id",
    "customer_id": "customer_id",
    "license": "license_id",
    "licenses": "license_id",
    "renews": "license_id",
    "renews_id": "license_id",
    "link": "link_id",
    "links": "link_id",
    "connection": "connection_id",
    "group": "group_id",
    "congestion_camera": "congestion_camera_id",
    "default_camera": "congestion_camera_id",
}
FIELD_KINDS_BY_ROUTE: dict[str, dict[str, str]] = {
    # congestion groups are made of congestion cameras (congestion/forms.py GroupForm)
    "congestion:group_add": {"cameras": "congestion_camera_id", "default_camera": "congestion_camera_id"},
    "congestion:group_edit": {"cameras": "congestion_camera_id", "default_camera": "congestion_camera_id"},
    "congestion-groups": {"cameras": "congestion_camera_id", "default_camera": "congestion_camera_id"},
    "congestion-group": {"cameras": "congestion_camera_id", "default_camera": "congestion_camera_id"},
    # a recording condition joins a camera to a sensor in another room (docs/product.md §3.6)
    "camera-recording-conditions": {"sensor": "other_sensor_id"},
    "recording:condition_add": {"sensor": "other_sensor_id"},
}
# Numeric or id-looking fields that name no object, each with what it is.
NOT_ID_FIELDS = {
    "page": "pagination",
    "export_max_minutes": "an export-length limit in minutes",
    "cooldown_minutes": "a room's mail cooldown in minutes",
    "level": "detection sensitivity 1-5",
    "onvif_port": "a TCP port",
    "channel": "a recorder channel number",
    "steps": "alert steps 2-3",
    "step": "one alert step 1-3 (its image)",
    "blur_level": "background blur strength 1-5",
    "thresholds": "people counts",
    "threshold_1": "people count",
    "threshold_2": "people count",
    "weekdays": "0-6",
    "weekday": "0-6",
    "nth": "nth weekday of a month",
    "term_months": "license term",
    "months": "license term",
    "count": "license count",
    "days": "history span",
    "share_id": "the receiving operator's share code (another operator by design, docs/product.md §4.1)",
    "receiver_share_id": "the receiving operator's share code (another operator by design, docs/product.md §4.1)",
    "csrfmiddlewaretoken": "CSRF",
    "contract_id": "a POS provider's contract code",
    "terminal_id": "a POS terminal code",
    "client_id": "a Smaregi app's OAuth2 client code",
    "provider_transaction_id": "a POS provider's code",
    "order_id": "a partner's order code",
}

# Values that make a body valid, by field name (the rest come from the schema or the page).
_seq = itertools.count(1)


def _fresh_mac() -> str:
    n = next(_seq)
    return f"02:AB:{(n >> 16) & 255:02X}:{(n >> 8) & 255:02X}:{n & 255:02X}:7E"


def _segment_local(world: "World"):
    from recording.models import RecordingSegment

    return timezone.localtime(RecordingSegment.objects.get(pk=world.alpha.ids["segment_id"]).start)


def _segment_end(world: "World"):
    start = _segment_local(world)
    return min(start + timedelta(minutes=2), start.replace(hour=23, minute=59))


# Page values these replace too (the page proposes today; the walk needs the recorded span).
PAGE_VALUES_REPLACED = {"day", "start_time", "end_time"}

VALUES: dict[str, Callable[["World"], object]] = {
    "mac": lambda w: _fresh_mac(),
    "new_mac": lambda w: _fresh_mac(),
    "contract_number": lambda w: f"W{next(_seq):08d}",
    "email": lambda w: f"walk{next(_seq)}@example.com",
    "recipients": lambda w: ["walk-notice@example.com"],
    "password": lambda w: "Walk-Passw0rd!23",
    "temporary_password": lambda w: "Walk-Passw0rd!23",
    "new_password1": lambda w: "Walk-Passw0rd!23",
    "new_password2": lambda w: "Walk-Passw0rd!23",
    "rtsp_url": lambda w: "rtsp://127.0.0.1:8554/walk",
    "onvif_host": lambda w: "127.0.0.1",
    "link_url": lambda w: "https://example.com/walk",
    "start": lambda w: "09:00",
    # an export span around alpha's recorded segment
    "day": lambda w: _segment_local(w).date().isoformat(),
    "start_time": lambda w: f"{_segment_local(w):%H:%M}",
    "end_time": lambda w: f"{_segment_end(w):%H:%M}",
    "end": lambda w: "17:00",
    "terminal_id": lambda w: f"walk-{next(_seq)}",
    "contract_id": lambda w: f"walk-ct-{next(_seq)}",
    "access_token": lambda w: "walk-access-token",
    "provider": lambda w: "smaregi",
    "term_months": lambda w: 12,
    "months": lambda w: 12,
    "expires_in_days": lambda w: 30,
    # a share request goes to another operator by design (docs/product.md §4.1): bravo, whose ids are the test
    "share_id": lambda w: w.bravo.tenant.operator.share_id,
    "receiver_share_id": lambda w: w.bravo.tenant.operator.share_id,
}

# Routes whose control cannot succeed here, each with why its refusals above still mean something.
CONTROL_REFUSED = {
    "pos-link-list": "the POS provider is called (closed port here); camera and connection are checked before it",
    "pos-link-detail": "the POS provider is called (closed port here); the camera is checked before it",
    "congestion-cameras": "alpha's one camera is a congestion camera already here, so adding it again is refused",
}

CROSS_OPERATOR_BY_DESIGN = {
    ("sharing.CameraShare", "receiver"): "a share request names its receiving operator (docs/product.md §4.1)",
    ("sharing.ShareAuditEvent", "receiver"): "the audit of a share names its receiver (docs/product.md §4.1)",
}


@dataclass
class Side:
    """One operator's part of the world: its ids of every kind, and the operators it consists of."""

    tenant: Tenant
    ids: dict[str, int]
    operators: set[int]


@dataclass
class World:
    alpha: Side
    bravo: Side
    markers: list[str] = dataclasses.field(default_factory=list)


def _side(tenant: Tenant, *, with_receivers: bool) -> Side:
    from sharing.models import CameraShare

    ids = {kind: find(tenant) for kind, find in BODY_IDS.items()}
    _equip(tenant)
    tenant.operator.refresh_from_db()
    operators = {tenant.operator.pk, tenant.operator.partner_id}
    if with_receivers:  # the third operator bravo's camera is shared with
        operators |= set(CameraShare.objects.filter(operator=tenant.operator).values_list("receiver", flat=True))
    return Side(tenant, ids, operators)


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Alpha and bravo with one object of every kind, built once for the class inside a transaction
    that is rolled back at its end; each test's own changes are rolled back by its `db` savepoint.
    (Built per test, the walk took minutes.)"""
    # POS providers are not called for real: a closed local port answers at once (tests/pos_link
    # covers the providers with fake servers).
    closed = "http://127.0.0.1:9"
    with django_db_blocker.unblock(), override_settings(POS_SMAREGI_BASE_URL=closed, POS_UBIREGI_BASE_URL=closed):
        with transaction.atomic():
            alpha, bravo = build_tenant("Alpha", "walk-alpha"), build_tenant("Bravo", "walk-bravo")
            world = World(alpha=_side(alpha, with_receivers=False), bravo=_side(bravo, with_receivers=True))
            world.markers = _markers(world)
            yield world
            transaction.set_rollback(True)


def _partner_admin(tenant: Tenant):
    return User.objects.filter(operator_id=tenant.operator.partner_id).order_by("pk").first()


def _walker(route: Route, side: Side, *, viewer: bool = False):
    """Partner pages are walked by the operator's partner (its job is licenses); the rest by the operator."""
    if viewer:
        return side.tenant.viewer
    return _partner_admin(side.tenant) if "partner/" in route.route else side.tenant.admin


# ------------------------------------------------------------------ what every operator owns, row by row


def _owner_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model is Operator]


@cache
def tracked_models() -> list:
    return [m for m in apps.get_models() if m is Operator or _owner_fields(m)]


def _rows_of(operators: set[int]) -> dict[str, list[dict]]:
    """Every row that names one of `operators`, with its many-to-many ids: what must not change.

    Rows as the database gives them (no field converters): they are only compared with each other and
    searched for names. The queries are compiled once per set of operators (`_rows_queries`): compiling
    them was most of the walk's CPU, 400 snapshots of some 60 queries each."""
    out = {}
    with connection.cursor() as cursor:
        for label, columns, sql, params, m2ms in _rows_queries(frozenset(operators)):
            cursor.execute(sql, params)
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
            for name, m2m_sql, m2m_params in m2ms:
                cursor.execute(m2m_sql, m2m_params)
                targets: dict[int, list[int]] = {}
                for source, target in cursor.fetchall():
                    targets.setdefault(source, []).append(target)
                for row in rows:
                    row[name] = sorted(targets.get(row[columns[0]], []))
            out[label] = rows
    return out


@cache
def _rows_queries(operators: frozenset[int]) -> list[tuple]:
    """(label, column names, SQL, params, [(many-to-many name, SQL, params)]) for each tracked model."""
    queries = []
    for model in tracked_models():
        if model is Operator:
            query = Q(pk__in=operators)
        else:
            query = Q()
            for name in _owner_fields(model):
                query |= Q(**{f"{name}__in": operators})
        owned = model.objects.filter(query)
        rows = owned.order_by("pk").values(*[f.attname for f in model._meta.concrete_fields])
        columns = list(rows.query.values_select)
        assert columns[0] == model._meta.pk.attname, (model, columns)
        m2ms = []
        for m2m in model._meta.many_to_many:
            m2ms.append((m2m.name, *_m2m_pairs_query(m2m, owned.values("pk")).query.sql_with_params()))
        queries.append((model._meta.label, columns, *rows.query.sql_with_params(), m2ms))
    return queries


def test_the_row_snapshot_sees_a_changed_field_a_new_row_and_a_changed_many_to_many(bravo):
    """Guards `_rows_of` itself: the walks' "nothing changed" is only as good as what it sees."""
    from tests.congestion.factories import group_of
    from tests.factories import CameraFactory

    operators = {bravo.operator.pk}
    group = group_of(bravo)
    before = _rows_of(operators)
    assert [g["cameras"] for g in before["congestion.Group"]] == [[group.default_camera_id]]
    assert _rows_of(operators) == before
    bravo.camera.name = "Bravo Cam renamed"
    bravo.camera.save(update_fields=["name"])
    renamed = _rows_of(operators)
    assert renamed != before and "Bravo Cam renamed" in json.dumps(renamed, default=str)
    group.cameras.clear()
    cleared = _rows_of(operators)
    assert [g["cameras"] for g in cleared["congestion.Group"]] == [[]]
    CameraFactory(room=bravo.room, name="Bravo Cam two")
    assert len(_rows_of(operators)["devices.Device"]) == len(cleared["devices.Device"]) + 1


def _m2m_pairs_query(m2m, pks):
    """(source id, target id) of `m2m` for the sources `pks` (a set, or a queryset of pks)."""
    through = m2m.remote_field.through
    source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    return through.objects.filter(**{f"{source}__in": pks}).values_list(f"{source}_id", f"{target}_id")


def _m2m_pairs(m2m, pks: set[int]) -> list[tuple[int, int]]:
    return list(_m2m_pairs_query(m2m, pks))


def _owned(model, operators: set[int]) -> set[int]:
    names = ["operator"] if "operator" in _owner_fields(model) else _owner_fields(model)
    query = Q()
    for name in names:
        query |= Q(**{f"{name}__in": operators})
    return set(model.objects.filter(query).values_list("pk", flat=True))


def _links_into(world: World) -> list[str]:
    """Alpha's rows that point at an object bravo owns (a foreign key or a many-to-many id)."""
    bravo_owned = {m: _owned(m, world.bravo.operators) for m in tracked_models() if m is not Operator}
    bravo_owned[Operator] = world.bravo.operators
    found = []
    for model in tracked_models():
        if model is Operator:
            continue
        mine = _owned(model, world.alpha.operators)
        for rel in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            if not rel.is_relation or rel.related_model not in bravo_owned:
                continue
            if (model._meta.label, rel.name) in CROSS_OPERATOR_BY_DESIGN:
                continue
            if rel.many_to_many:
                pairs = _m2m_pairs(rel, mine)
            else:
                pairs = model.objects.filter(pk__in=mine).values_list("pk", rel.attname)
            for pk, target in pairs:
                if target in bravo_owned[rel.related_model]:
                    found.append(f"{model._meta.label} {pk}.{rel.name} -> {target}")
    return found


def _markers(world: World) -> list[str]:
    """Strings that identify bravo's objects; none may appear in an answer to alpha."""
    alpha_text = json.dumps(_rows_of(world.alpha.operators), default=str)
    found = set()
    for rows in _rows_of(world.bravo.operators).values():
        for row in rows:
            for key in ("name", "display_name", "email", "mac", "contract_number"):
                value = row.get(key)
                if isinstance(value, str) and len(value) >= 4 and value not in alpha_text:
                    found.add(value)
    return sorted(found)


def _leaks(response, markers: list[str]) -> list[str]:
    text = response.content.decode(errors="replace")
    return [m for m in markers if re.search(rf"(?<![\w@.-]){re.escape(m)}(?![\w@-])", text)]


# ------------------------------------------------------------------ where the bodies come from


@cache
def openapi() -> dict[str, dict[str, dict]]:
    """{route name: {method: operation}} from the schema drf_spectacular serves at /api/schema/."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    ops: dict[str, dict[str, dict]] = {}
    for path, item in schema["paths"].items():
        name = resolve(re.sub(r"\{\w+\}", "1", path)).view_name
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops.setdefault(name, {})[method] = op
    openapi.components = schema["components"]["schemas"]
    return ops


def _resolve_schema(schema: dict) -> dict:
    if "$ref" in schema:
        return _resolve_schema(openapi.components[schema["$ref"].split("/")[-1]])
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            options = [_resolve_schema(s) for s in schema[key]]
            return next((o for o in options if [v for v in o.get("enum", [1]) if v not in ("", None)]), options[0])
    return schema


def _request_fields(op: dict) -> dict[str, dict]:
    content = op.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema")
    if not schema:
        return {}
    props = _resolve_schema(schema).get("properties", {})
    return {k: _resolve_schema(v) for k, v in props.items() if not v.get("readOnly")}


def _schema_value(name: str, schema: dict, world: "World"):
    if name in VALUES:
        return VALUES[name](world)
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v not in ("", None))
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "array":
        return [_schema_value(name, _resolve_schema(schema.get("items", {})), world)]
    if kind == "object":
        return {}
    if fmt == "email":
        return VALUES["email"](world)
    if fmt == "date":
        return timezone.localdate().isoformat()
    if fmt == "date-time":
        return timezone.now().isoformat()
    if fmt == "time":
        return "09:00"
    if fmt == "uri":
        return "https://example.com/walk"
    return f"Walk {name}"[: schema.get("maxLength", 64)]


class _Forms(HTMLParser):
    """The forms of a page: method, action and fields (inputs outside a form join it by form="id")."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.current: dict | None = None
        self.loose: list[tuple[str, dict]] = []
        self.select: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.current = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": []}
            self.forms.append(self.current)
            if a.get("id"):
                self.by_id[a["id"]] = self.current
            return
        if tag in ("input", "button", "select", "textarea") and a.get("name"):
            field = {"tag": tag, "type": a.get("type", "submit" if tag == "button" else "text").lower(), **a}
            field.setdefault("value", "")
            field["options"] = []
            if a.get("form"):
                self.loose.append((a["form"], field))
            elif self.current is not None:
                self.current["fields"].append(field)
            if tag == "select":
                self.select = field
            if tag == "textarea":
                self.textarea = field
        elif tag == "option" and self.select is not None:
            self.select["options"].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def result(self) -> list[dict]:
        for form_id, field in self.loose:
            if form_id in self.by_id:
                self.by_id[form_id]["fields"].append(field)
        return self.forms


def page_forms(response, page_route: str) -> list[tuple[str, dict]]:
    """(route name of the action, form) for each form of an HTML answer, the layout's own left out."""
    if "text/html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode(errors="replace"))
    found = []
    for form in parser.result():
        try:
            name = resolve(urlsplit(form["action"]).path).view_name if form["action"] else page_route
        except Resolver404:
            continue
        if name in LAYOUT_FORMS:
            continue
        found.append((name, form))
    return found


LAYOUT_FORMS = {"set_language", "tenants:logout"}


def _url(route: Route, side: Side) -> str:
    return reverse(route.name, kwargs={p: side.ids[p] for p in route.params})


_crawl: dict[str, list[dict]] | None = None
_get_only: set[str] = set()
_post_only: set[str] = set()


def crawled_forms(world: World) -> dict[str, list[dict]]:
    """{route name: [forms posting to it]} over every page alpha's admin (or partner) can open.

    Done once per run: field names, types and constant values do not depend on the rows; the ids
    in them are filled again for each test from its own world."""
    global _crawl
    if _crawl is None:
        _crawl = {}
        for route in ROUTES:
            if route.route.startswith("api/") or route.name in PUBLIC_ROUTES or route.name in NOT_CRAWLED:
                continue
            client = Client(raise_request_exception=False)  # a broken page fails its own tests, not the crawl
            client.force_login(_walker(route, world.alpha))
            response = client.get(_url(route, world.alpha))
            if response.status_code == 405:
                _post_only.add(route.name)
            for name, form in page_forms(response, route.name):
                key = (form["method"], tuple(f["name"] for f in form["fields"]))
                if key not in {(f["method"], tuple(x["name"] for x in f["fields"])) for f in _crawl.get(name, [])}:
                    _crawl.setdefault(name, []).append(form)
    return _crawl


NOT_CRAWLED = {"tenants:logout", "licensing:proxy_start", "pos_link:ubiregi_callback"}


def field_kind(route: Route, name: str) -> str | None:
    """The kind of object a field names, None when it names none; KeyError for an unknown id-like field."""
    if name in NOT_ID_FIELDS:
        return None
    override = FIELD_KINDS_BY_ROUTE.get(route.name, {})
    if name in override:
        return override[name]
    if name in FIELD_KINDS:
        return FIELD_KINDS[name]
    if name in BODY_IDS:  # named after its kind, as the URL ids are
        return name
    raise KeyError(name)


def _looks_like_id(name: str) -> bool:
    # Page forms are read by name: their numbers are mostly not ids (levels, steps, booleans).
    return name.endswith(("_id", "_ids")) or name in FIELD_KINDS


def _unprefixed(name: str) -> str:
    """A formset's field without its prefix: `link1-camera` is a `camera`."""
    return name.rsplit("-", 1)[-1]


def form_data(form: dict, world: "World") -> dict[str, list[str]]:
    """What a browser would send for `form` unchanged (the first submit button pressed)."""
    data: dict[str, list[str]] = {}
    pressed = False
    for f in form["fields"]:
        name, kind = f["name"], f["type"]
        if kind in ("submit", "image") or f["tag"] == "button":
            if not pressed:
                data.setdefault(name, []).append(f["value"])
                pressed = True
        elif kind == "file":
            continue
        elif kind in ("checkbox", "radio"):
            if "checked" in f or (kind == "checkbox" and name in FIELD_KINDS):
                data.setdefault(name, []).append(f["value"] or "on")
        elif f["tag"] == "select":
            chosen = [v for v, sel in f["options"] if sel] or [v for v, _ in f["options"] if v][:1]
            data.setdefault(name, []).extend(chosen)
        else:
            value = "" if name in PAGE_VALUES_REPLACED else f["value"]
            value = value or (str(VALUES[name](world)) if name in VALUES else "")
            if not value and kind in ("text", "textarea", "search"):
                value = f"Walk {name}"
            data.setdefault(name, []).append(value)
    for name in list(data):
        if name in VALUES and not any(data[name]):
            data[name] = [str(VALUES[name](world))]
    return data


# ------------------------------------------------------------------ the requests


@dataclass
class Body:
    """One way to call a route: method, data, the id fields in it (name -> kind) and the encoding."""

    method: str
    data: dict
    ids: dict[str, str]
    json: bool


def _names_a_number(schema: dict) -> bool:
    if schema.get("type") == "array":
        return _resolve_schema(schema.get("items", {})).get("type") == "integer"
    return schema.get("type") == "integer"


def _current(client, url: str) -> dict:
    """The object as the API shows it now, so an update keeps what it does not mean to change."""
    answer = client.get(url)
    if answer.status_code != 200 or "json" not in answer.get("Content-Type", ""):
        return {}
    data = answer.json()
    return data if isinstance(data, dict) else {}


def route_bodies(route: Route, world: World, client=None) -> list[Body]:
    """Alpha-valid bodies for every write method of `route` (API: the schema; pages: their forms)."""
    bodies = []
    if route.route.startswith("api/"):
        ops = openapi().get(route.name, {})
        current = _current(client, _url(route, world.alpha)) if client and "get" in ops and route.params else {}
        for method, op in ops.items():
            if method == "get":
                continue
            fields = _request_fields(op)
            data, ids = {}, {}
            for name, schema in fields.items():
                value = _schema_value(name, schema, world)
                if method in ("put", "patch") and name in current:
                    value = current[name]
                if _names_a_number(schema) or name.endswith(("_id", "_ids")):
                    kind = field_kind(route, name)
                    if kind is not None:
                        ids[name] = kind
                        value = [world.alpha.ids[kind]] if schema.get("type") == "array" else world.alpha.ids[kind]
                data[name] = value
            bodies.append(Body(method, data, ids, json=True))
        return bodies
    for form in crawled_forms(world).get(route.name, []):
        if form["method"] != "post":
            continue
        data = form_data(form, world)
        ids = {}
        for name in data:
            if _looks_like_id(_unprefixed(name)):
                kind = field_kind(route, _unprefixed(name))
                if kind is not None:
                    ids[name] = kind
                    data[name] = [str(world.alpha.ids[kind])]
        bodies.append(Body("post", data, ids, json=False))
    if not bodies and route.name in _post_only:
        bodies.append(Body("post", {}, {}, json=False))
    return bodies


def _page_errors(answer) -> list[str]:
    """A page's refusal that still answers 200/302: form errors, or an error flashed before a redirect."""
    from django.contrib.messages import ERROR

    storage = getattr(answer.wsgi_request, "_messages", None)  # only this request's, not older unread ones
    found = [str(m) for m in getattr(storage, "_queued_messages", []) if m.level >= ERROR]
    if b'class="errorlist' in answer.content:
        found.append(answer.content.decode(errors="replace").split('class="errorlist', 1)[1][:200])
    return found


def _send(client, url: str, body: Body, data: dict | None = None):
    data = body.data if data is None else data
    if body.json:
        return getattr(client, body.method)(url, data=json.dumps(data), content_type="application/json")
    return client.post(url, data=data)


def _send_with_confirm(client, route: Route, world: World, url: str, body: Body, replace: dict | None = None) -> list:
    """Post, then post the confirmation page's form too (a page route's second step), with the same ids."""
    answers = [_send(client, url, body, _replaced(body, replace))]
    if body.json or answers[0].status_code != 200:
        return answers
    for name, form in page_forms(answers[0], route.name):
        if form["method"] != "post" or name.split(":")[0] != route.name.split(":")[0]:
            continue
        step = Body("post", form_data(form, world), {}, json=False)
        for field in step.data:
            if replace and field in replace:
                step.data[field] = [
                    str(v) for v in (replace[field] if isinstance(replace[field], list) else [replace[field]])
                ]
        target = form["action"] or url
        answers.append(client.post(target, data=step.data))
        break
    return answers


def _replaced(body: Body, replace: dict | None) -> dict:
    if not replace:
        return body.data
    data = dict(body.data)
    for name, value in replace.items():
        if body.json:
            data[name] = value if not isinstance(data[name], list) else [value]
        else:
            data[name] = [str(value)]
    return data


WRITE_ROUTES = [r for r in ROUTES if r.name not in PUBLIC_ROUTES]


def _names_an_object(route: Route, world: World) -> bool:
    """Whether a body of `route` has an id field: known from the schema, or from the one crawl."""
    if route.route.startswith("api/"):
        ops = openapi().get(route.name, {})
        return any(
            (_names_a_number(schema) or name.endswith(("_id", "_ids"))) and field_kind(route, name)
            for method, op in ops.items()
            if method != "get"
            for name, schema in _request_fields(op).items()
        )
    forms = crawled_forms(world)
    return any(
        _looks_like_id(_unprefixed(f["name"])) and field_kind(route, _unprefixed(f["name"]))
        for form in forms.get(route.name, [])
        if form["method"] == "post"
        for f in form["fields"]
    )


# Writes a view-only user may make, each checked against docs/product.md §1.3 (viewer: live, recordings,
# download, own password only) or the issue that allowed it. Everything else is 403 or 404.
VIEWER_MAY_WRITE = {
    "tenants:login": "the log-in pages answer anyone",
    "tenants:two_factor_resend": "the log-in pages answer anyone",
    "tenants:password_reset": "the log-in pages answer anyone",
    "tenants:logout": "own session",
    "tenants:password_change": "own password (docs/product.md §1.3)",
    "tenants:account": "own account settings (language, two-step, notices: docs/product.md §1.3)",
    "api-me": "own account settings, as tenants:account",
    "tenants:terms": "own consent to the terms of use (docs/product.md §1.4)",
    "api-terms": "own consent to the terms of use, as tenants:terms",
    "tenants:api_token_create": "own API token, part of the own account",
    "tenants:api_token_delete": "own API token, part of the own account",
    "devices:trouble_refresh": "trouble states are refreshable on demand by any role (docs/product.md §2.6)",
    "device-trouble-refresh": "one device's trouble refresh through the API, as devices:trouble_refresh",
    "recording:building_trouble_refresh": "a whole building's trouble refresh, as devices:trouble_refresh",
    "building-trouble-refresh": "a whole building's trouble refresh, as devices:trouble_refresh",
    "recording:live_token": "live view (docs/product.md §1.3: viewers watch live)",
    "recording:export_create": "download converts to MP4 (docs/product.md §3.5; viewers download)",
    "recording:export_delete": "own converted files (docs/product.md §3.5 download list)",
    "embeds:notice_dismiss": "hides a quota notice for the user only",
    "congestion-camera-embed-snippet": "makes embed HTML for chosen options, saves nothing (docs/product.md §6.10)",
    "congestion-group-embed-snippet": "makes embed HTML for chosen options, saves nothing (docs/product.md §6.10)",
    "licensing:proxy_end": "ends the caller's own proxy log-in",
}


# ------------------------------------------------------------------ list filters


def _query_keys(route: Route) -> set[str]:
    """Query keys a route reads: the schema's parameters, its pages' GET forms, the view module's keys."""
    keys = {
        p["name"]
        for op in openapi().get(route.name, {}).values()
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    for form in (_crawl or {}).get(route.name, []):
        if form["method"] == "get":
            keys |= {f["name"] for f in form["fields"]}
    keys |= _module_keys(resolve(reverse(route.name, kwargs={p: 1 for p in route.params})).func)
    return {k for k in keys if _looks_like_id(k) and k not in NOT_ID_FIELDS}


def _module_keys(view) -> frozenset[str]:
    view = getattr(view, "cls", None) or getattr(view, "view_class", None) or inspect.unwrap(view)
    return _source_keys(inspect.getmodule(view))


@cache
def _source_keys(module) -> frozenset[str]:
    """The query keys a view module reads (`.get("room")`, `GET["room"]`), parsed once per module."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return frozenset()
    keys = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getlist")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            keys.add(node.args[0].value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in ("GET", "query_params")
        ):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                keys.add(node.slice.value)
    return frozenset(keys)


def _ids_in(payload) -> set:
    if isinstance(payload, dict):
        found = {payload["id"]} if "id" in payload else set()
        return found.union(*(_ids_in(v) for v in payload.values()))
    if isinstance(payload, list):
        return set().union(*(_ids_in(v) for v in payload)) if payload else set()
    return set()


READ_ROUTES = [r for r in ROUTES if r.name not in PUBLIC_ROUTES and r.name not in NOT_CRAWLED]


class TestBodyWalk:
    """Each walk class builds one world (the class-scoped `world` fixture) shared by its routes; the three are
    classes of their own so that pytest-xdist (`--dist loadscope`, bin/test) can give them to different workers."""

    @pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.name)
    def test_another_operators_ids_in_a_body_are_refused(self, route, world, db):
        """Alpha's own URL, a body naming bravo's object: 404 or a field error, bravo unchanged, nothing linked."""
        if not _names_an_object(route, world):
            pytest.skip("no body field names an object")
        client = client_for(_walker(route, world.alpha))
        bodies = [b for b in route_bodies(route, world, client) if b.ids]
        url = _url(route, world.alpha)
        markers = world.markers
        before = _rows_of(world.bravo.operators)
        for body in bodies:
            for name, kind in body.ids.items():
                answers = _send_with_confirm(client, route, world, url, body, {name: world.bravo.ids[kind]})
                what = f"{body.method.upper()} {url} with {name}={world.bravo.ids[kind]} (bravo's {kind})"
                for answer in answers:
                    assert answer.status_code < 500, f"{what} answered {answer.status_code}"
                    assert not _leaks(answer, markers), f"{what} showed {_leaks(answer, markers)}"
                if body.json:
                    assert answers[0].status_code in (400, 403, 404), f"{what} answered {answers[0].status_code}"
        assert _rows_of(world.bravo.operators) == before, f"{url}: a body with bravo's ids changed bravo's data"
        assert not _links_into(world), f"{url}: alpha's data now points at bravo's: {_links_into(world)}"
        # The control: the same bodies with alpha's own ids are accepted, so the refusals above were the ids'.
        for body in bodies:
            answers = _send_with_confirm(client, route, world, url, body)
            if route.name in CONTROL_REFUSED:
                assert answers[-1].status_code < 500
                continue
            assert answers[-1].status_code in (200, 201, 204, 302) and not _page_errors(answers[-1]), (
                f"control {body.method.upper()} {url} {body.data} answered {answers[-1].status_code}: "
                f"{_page_errors(answers[-1]) or answers[-1].content[:300]!r}"
            )


class TestViewerWalk:
    @pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.name)
    def test_a_viewer_cannot_write(self, route, world, db):
        """Alpha's viewer posts alpha's own valid bodies to every write route: 403/404 and nothing changes."""
        if route.name in VIEWER_MAY_WRITE:
            pytest.skip(f"allowed: {VIEWER_MAY_WRITE[route.name]}")
        api = route.route.startswith("api/")
        if api and not set(openapi().get(route.name, {})) - {"get"}:
            pytest.skip("read-only API route")
        crawled_forms(world)
        # A page no crawled form posts to (a confirmation shown only in some states, a page to read)
        # still gets a bare POST: it may refuse it in any way but must change nothing.
        unknown = not api and route.name not in _crawl and route.name not in _post_only
        bodies = route_bodies(route, world, client_for(_walker(route, world.alpha)))
        if api:
            bodies += [Body(m, {}, {}, json=True) for m in ("put", "patch", "delete")]
        elif not bodies:
            bodies = [Body("post", {"confirm": ["1"]}, {}, json=False)]
        viewer = client_for(world.alpha.tenant.viewer)
        url = _url(route, world.alpha)
        before = _rows_of(world.alpha.operators)
        for body in bodies:
            answer = _send(viewer, url, body)
            allowed = range(200, 500) if unknown else (403, 404, 405)
            assert answer.status_code in allowed, f"viewer {body.method.upper()} {url} answered {answer.status_code}"
        assert _rows_of(world.alpha.operators) == before, f"a viewer changed alpha's data through {url}"


class TestFilterWalk:
    @pytest.mark.parametrize("route", READ_ROUTES, ids=lambda r: r.name)
    def test_a_filter_naming_another_operators_object_shows_nothing_of_it(self, route, world, db):
        """`?room=<bravo's room>` and the like: no 5xx, none of bravo's objects, nothing the unfiltered list lacks."""
        if route.name not in openapi() or "get" not in openapi()[route.name]:
            if route.route.startswith("api/"):
                pytest.skip("no GET")
            crawled_forms(world)
        if not _query_keys(route):
            pytest.skip("reads no id from the query string")
        client = client_for(_walker(route, world.alpha))
        url = _url(route, world.alpha)
        markers = world.markers
        plain = client.get(url)
        for key in sorted(_query_keys(route)):
            kind = field_kind(route, _unprefixed(key))
            answer = client.get(url, {key: world.bravo.ids[kind]})
            what = f"GET {url}?{key}={world.bravo.ids[kind]} (bravo's {kind})"
            assert answer.status_code < 500, f"{what} answered {answer.status_code}"
            assert not _leaks(answer, markers), f"{what} showed {_leaks(answer, markers)}"
            if answer.status_code == 200 and "json" in answer.get("Content-Type", "") and plain.status_code == 200:
                extra = _ids_in(answer.json()) - _ids_in(plain.json())
                assert not extra, f"{what} listed ids the plain list does not: {sorted(extra)}"
