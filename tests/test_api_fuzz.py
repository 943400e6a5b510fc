"""The whole API under a fuzzer: schemathesis over the drf-spectacular schema, against the demo world.

Every operation of `/api/schema/` is called with generated requests (schemathesis' example, coverage and
fuzzing phases, a bounded number of examples each) as the demo's operator admin and as its view-only
user, through the WSGI app in this process. No request may answer 5xx (`not_a_server_error`), and every
documented response must match its schema (`response_schema_conformance`).

The world is `seed_demo`'s, seeded once for the module. Path ids, and ids in a body (`BODY_IDS`), are those
of the demo objects (a random id is a 404 or "not found" and tests nothing; the isolation walk covers other
operators' ids), and every request runs in a savepoint that is rolled back, so a DELETE leaves the world
whole for the next example. A coverage case that repeats a request already sent, in effect, is not sent
again (`already_covered`, `refused_before_the_body`): half the requests, the same checks.

Run it alone: `bin/test tests/test_api_fuzz.py` (docs/development.md).
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.hypothesis import builder
from schemathesis.generation.meta import CoverageScenario, TestPhase
from schemathesis.specs.openapi.checks import positive_data_acceptance, response_schema_conformance

MAX_EXAMPLES = 5
BASE_CHECKS = [schemathesis.checks.not_a_server_error, response_schema_conformance]
# "The schema promises less than validation demands": a request generated valid by the schema answered 400/422
# (a refusal that depends on what is stored is a 409, docs/development.md). Off with FUZZ_POSITIVE=0.
CHECKS = [*BASE_CHECKS, positive_data_acceptance] if os.environ.get("FUZZ_POSITIVE", "1") != "0" else BASE_CHECKS


# The world asks its users to accept terms of use, as a deployment does (the test settings ask none): the schema
# then names the version POST /api/v1/terms/ accepts. Token requests are not held back for it.
TERMS_VERSION = "fuzz-terms-1"


def _raw_schema() -> dict:
    with override_settings(PORTAL_TERMS_VERSION=TERMS_VERSION):
        return SchemaGenerator().get_schema(request=None, public=True)


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 14,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    }
)
schema = schemathesis.openapi.from_dict(_raw_schema(), config=CONFIG)


@st.composite
def _jpegs(draw) -> bytes:
    """A multipart part the schema types image/jpeg (the congestion image uploads): a small decodable JPEG,
    which is what validation reads in it and no schema can say of bytes."""
    import cv2
    import numpy as np

    width, height = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    colour = draw(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)))
    return cv2.imencode(".jpg", np.full((height, width, 3), colour, dtype=np.uint8))[1].tobytes()


schemathesis.openapi.media_type("image/jpeg", _jpegs())

# schemathesis builds every operation's coverage cases when it collects the test, and under pytest-xdist each
# worker collects this module though one runs it (bin/test). They are built when the operation's test starts
# instead (`coverage_cases` below): the same cases in the same order, so the worker that never runs them is
# spared the CPU-seconds.
_add_coverage = builder.add_coverage


def _coverage_when_run(test, operation, *args, **kwargs):
    if operation.schema.raw_schema is not schema.raw_schema:  # (parametrize works on a copy of `schema`)
        return _add_coverage(test, operation, *args, **kwargs)
    test.coverage_cases_later = lambda: _add_coverage(test, operation, *args, **kwargs)
    return test


builder.add_coverage = _coverage_when_run


@pytest.fixture(autouse=True)
def coverage_cases(request):
    """Attach the operation's coverage cases to its test, as schemathesis would have at collection."""
    build = vars(request.function).pop("coverage_cases_later", None)
    if build is not None:
        build()


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """seed_demo once for the module, in a transaction rolled back at its end."""
    from demo.licensing import PARTNER_EMAIL
    from tenants.models import ApiToken, User
    from tenants.services import api_token_create

    media = tmp_path_factory.mktemp("fuzz-media")
    # Generated camera URLs name random hosts: without DNS here each lookup would wait for the resolver's
    # timeout. A name resolves to nothing at once instead (workers/netpolicy.py then treats it as it does
    # any unresolved name); addresses and localhost are untouched.
    real_getaddrinfo = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        if host in ("localhost", "127.0.0.1", "::1"):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    patcher = pytest.MonkeyPatch()
    patcher.setattr("workers.netpolicy.socket.getaddrinfo", no_dns)
    # Which POS credentials and terminals exist is the provider's, not the schema's: here Smaregi and Ubiregi
    # accept every one (a link is checked with the provider before it is saved).
    patcher.setattr("pos_link.services.get_client", lambda provider, interface="": _AcceptingPos())
    # As Django's test client does: a request through the WSGI handler must not close the connection
    # that holds the seeded world's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with (
        override_settings(MEDIA_ROOT=str(media), PORTAL_TERMS_VERSION=TERMS_VERSION),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
            tokens = {
                role: api_token_create(user=User.objects.get(email=email), name="fuzz")
                for role, email in (
                    ("admin", "admin@demo.example"),
                    ("viewer", "viewer@demo.example"),
                    ("partner", PARTNER_EMAIL),  # the customer and license routes are the partner's
                )
            }
            # "Last used" is written at most once a minute per token (tenants.services.api_token_touch); every
            # request here is rolled back, so without this each one would write it again: one UPDATE less each.
            ApiToken.objects.filter(name="fuzz").update(last_used_at=timezone.now() + timedelta(days=1))
            yield {"tokens": tokens, "ids": _demo_ids()}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            patcher.undo()
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def world_body_values(case, ids) -> None:
    """Values of a body that only the world decides, not the schema: the ids and the other operator's share ID
    a body names on the account, share, POS and partner routes, the customer's email address, and the caller's
    password (an email address changes only with it). Generated ones become the demo's, as path ids do."""
    body = case.body
    if not isinstance(body, dict):
        return

    def is_id(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    path = case.path
    if path.startswith("/api/v1/pos/"):
        for name, key in (("camera", "camera_id"), ("connection", "connection_id")):
            if is_id(body.get(name)):
                body[name] = ids[key]
    if path.startswith("/api/v1/shares/"):
        if isinstance(body.get("cameras"), list):
            body["cameras"] = [ids["camera_id"] if is_id(v) else v for v in body["cameras"]]
        if isinstance(body.get("receiver_share_id"), str):
            body["receiver_share_id"] = ids["receiver_share_id"]
    if path.startswith("/api/v1/partner/"):
        for name, key in (("customer_id", "customer_id"), ("renews_id", "license_id")):
            if is_id(body.get(name)):
                body[name] = ids[key]
        if isinstance(body.get("customer_email"), str):
            body["customer_email"] = ids["customer_email"]
    if isinstance(body.get("current_password"), str):
        body["current_password"] = ids["password"]


class _AcceptingPos:
    """A POS provider that knows every contract and terminal (pos_link.providers.PosClient's verify)."""

    uses_oauth = uses_client_credentials = False

    def verify(self, *, credentials, terminal_id=""):
        from pos_link.providers import Account

        return Account(contract_id=credentials.contract_id)


def _demo_ids() -> dict[str, int | str]:
    """An object of the demo operator for each kind of URL id; seed_demo's where it makes one, else one
    made here the way the isolation walk makes them. Also the other values of the world that a body names:
    another operator's share ID, the customer's email address, the callers' password."""
    from buildings.models import Building
    from demo.licensing import PARTNER_EMAIL
    from demo.management.commands.seed_demo import DEMO_PASSWORD
    from devices.models import Device, DeviceKind
    from licensing.models import License
    from pos_link.models import PosConnection, Provider
    from tenants.models import Operator, User
    from tests.conftest import Tenant
    from tests.congestion.factories import congestion_camera_of, group_of, hours_rule_of
    from tests.pos_link.factories import link_of, transaction_of
    from tests.sharing.factories import share_of

    operator = Operator.objects.get(name="Demo Mansion Co.")
    building = Building.objects.filter(operator=operator).order_by("pk").first()
    camera = Device.objects.filter(operator=operator, kind=DeviceKind.CAMERA, mac__endswith="10:00:01").get()
    tenant = Tenant(
        operator=operator,
        admin=User.objects.get(email="admin@demo.example"),
        viewer=User.objects.get(email="viewer@demo.example"),
        device_operator=None,
        building=building,
        room=camera.room,
        camera=camera,
        sensor=Device.objects.filter(parent=camera, kind=DeviceKind.SENSOR).get(),
    )
    partner = User.objects.get(email=PARTNER_EMAIL)
    return {
        "building_id": building.pk,
        "room_id": camera.room_id,
        "device_id": camera.pk,
        "camera_id": camera.pk,
        "sensor_id": tenant.sensor.pk,
        "user_id": tenant.viewer.pk,
        "customer_id": operator.pk,  # the demo partner's customer
        "license_id": License.objects.filter(partner=partner.operator, customer=operator).order_by("pk").first().pk,
        "share_id": share_of(tenant),
        "link_id": link_of(tenant).pk,
        "transaction_id": transaction_of(tenant).pk,
        "congestion_camera_id": congestion_camera_of(tenant).pk,
        "group_id": group_of(tenant).pk,
        "hours_rule_id": hours_rule_of(tenant).pk,
        "connection_id": PosConnection.objects.filter(operator=operator, provider=Provider.UBIREGI).get().pk,
        "receiver_share_id": Operator.objects.get(name="Harbor Shops Ltd.").share_id,
        "customer_email": tenant.admin.email,
        "password": DEMO_PASSWORD,  # every demo account's
        "addable_camera_id": _addable_camera(tenant),
    }


def _addable_camera(tenant) -> int:
    """A demo camera that POST congestion/cameras/ can add (own, licensed, not added yet), else the demo camera."""
    from congestion.selectors import addable_cameras

    addable = addable_cameras(operator=tenant.operator, user=tenant.admin)
    return addable[0].pk if addable else tenant.camera.pk


# Body fields holding the id of a demo object (the `ids` key), replaced like path ids.
BODY_IDS = {"building": "building_id", "room": "room_id", "sensor": "sensor_id"}


def congestion_body_ids(case, ids) -> None:
    """On congestion's routes "cameras" and "default_camera" name congestion cameras and "camera" (adding one) a
    camera not added yet: their generated integers become those demo objects, after BODY_IDS."""
    if not case.path.startswith("/api/v1/congestion/") or not isinstance(case.body, dict):
        return

    def is_id(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    body = case.body
    if isinstance(body.get("cameras"), list):
        body["cameras"] = [ids["congestion_camera_id"] if is_id(v) else v for v in body["cameras"]]
    if is_id(body.get("default_camera")):
        body["default_camera"] = ids["congestion_camera_id"]
    if is_id(body.get("camera")):
        body["camera"] = ids["addable_camera_id"]


def documented_orders(case) -> None:
    """Two rules the schema states in words, since JSON Schema cannot compare two values: an hours line closes
    after it opens, and an alert's thresholds ascend. A positive case is made to keep them (a negative one is
    left as generated): the order is the rule, the values stay the generated ones where they can."""
    if case.meta is None or case.meta.generation.mode.is_negative or not case.path.startswith("/api/v1/congestion/"):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    lines = body.get("lines") if isinstance(body.get("lines"), list) else [body]
    for line in lines:
        start, end = (line.get("start"), line.get("end")) if isinstance(line, dict) else (None, None)
        if isinstance(start, str) and isinstance(end, str) and end <= start:
            line["start"], line["end"] = (end, start) if end != start else ("09:00", "18:00")
    thresholds = body.get("thresholds")
    if isinstance(thresholds, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in thresholds):
        ordered = sorted(thresholds)
        if len(set(ordered)) != len(ordered):
            ordered = [100 * (i + 1) for i in range(len(ordered))]
        body["thresholds"] = ordered


def positive_check_applies(case) -> bool:
    """Whether a case is one that positive_data_acceptance may judge. Not a multipart body with an empty text
    part: the in-process WSGI transport (Werkzeug's multipart encoder) writes an empty part without the line
    break before the next boundary, so Django never sees the field (sent by curl, the same body is accepted);
    and schemathesis' coverage phase labels positive a multipart case "with custom encoding" that blanks every
    other field, which the schema does not allow (an empty `step` for an integer). Nor a form body holding a
    null: a form has no null, and schemathesis writes the word "null" (`nth=null` for a nullable integer)."""
    if case.media_type not in FORMS or not isinstance(case.body, dict):
        return True
    values = case.body.values()
    if any(value is None for value in values):
        return False
    return not (case.media_type == "multipart/form-data" and any(value == "" for value in values))


APP = get_wsgi_application()
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_sent: set[tuple] = set()  # what the coverage phase sent that another of its cases would send again (already_covered)


def already_covered(case) -> bool:
    """A coverage case that sends what another case of this module already sent, in effect. Both are the coverage
    phase's (the fuzzing phase runs whole):
    - an unspecified method on a path (`TRACE /api/v1/rooms/{room_id}/`): every operation of the path generates
      the same request, sent for the first one only;
    - a negative body (a wrong type, a missing or too long field) in a form encoding where the operation also
      takes JSON: a form carries every value as a string, so it meets the field validation the JSON case meets;
    - a positive body in a form encoding where the operation also takes JSON, once a body of the same fields
      with values of the same types was sent in that encoding: what the form adds to the JSON case is how its
      parser reads each field's text, the same for every value of a type, and the JSON case sends each value
      (the group hours' 126 combinations of their lines went out three times, a seventh of the module's time).
    The fuzzing phase's form bodies all run."""
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return False
    if getattr(meta.phase.data, "scenario", None) == CoverageScenario.UNSPECIFIED_HTTP_METHOD:
        return _seen((case.path, case.method))
    if case.media_type not in FORMS or not any(body.media_type == "application/json" for body in case.operation.body):
        return False
    if meta.generation.mode.is_negative:
        return True
    if not isinstance(case.body, dict):
        return False
    fields = frozenset((name, type(value).__name__) for name, value in case.body.items())
    return _seen((case.path, case.method, case.media_type, fields))


def _seen(key: tuple) -> bool:
    """Whether `key` was seen before in this module (and now it has been)."""
    if key in _sent:
        return True
    _sent.add(key)
    return False


_admins_only: dict[tuple[str, str], bool] = {}


def refused_before_the_body(case) -> bool:
    """Whether a view-only user's request is refused before its body or query is read: an unsafe method on a view
    whose only permission is tenants.permissions.OperatorRolePermission, which lets only admins write (unless the
    view or its action sets `any_role_may_write`). Then every variant of the request meets the same 403, so the
    viewer sends the operation's fuzzing cases (MAX_EXAMPLES of them), not each coverage case again."""
    from rest_framework.views import APIView

    from tenants.permissions import OperatorRolePermission

    if case.method.upper() in ("GET", "HEAD", "OPTIONS"):
        return False
    key = (case.path, case.method.upper())
    if key not in _admins_only:
        try:
            func = resolve(case.formatted_path).func
        except Resolver404:
            return False  # a malformed path parameter: decided by the next case with a real id
        view = getattr(func, "cls", None)
        kwargs = getattr(func, "initkwargs", {}) or {}
        _admins_only[key] = bool(
            view is not None
            and view.get_permissions is APIView.get_permissions
            and list(kwargs.get("permission_classes", view.permission_classes)) == [OperatorRolePermission]
            and not kwargs.get("any_role_may_write", getattr(view, "any_role_may_write", False))
        )
    return _admins_only[key]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the world is reset per request instead
def test_the_api_holds_under_the_fuzzer(case, demo_world, db):
    if already_covered(case):
        return
    ids = demo_world["ids"]
    if case.path_parameters:
        # A generated integer id becomes the demo object's; a malformed one (coverage phase) stays.
        for name, value in list(case.path_parameters.items()):
            if name in ids and str(value).isdigit():
                case.path_parameters[name] = ids[name]

    if isinstance(case.body, dict):
        # So does a generated integer id in a body: which ids exist is the world's, not the schema's.
        for name, key in BODY_IDS.items():
            if isinstance(case.body.get(name), int) and not isinstance(case.body[name], bool):
                case.body[name] = ids[key]
    congestion_body_ids(case, ids)
    documented_orders(case)

    world_body_values(case, ids)
    partners_route = case.path.startswith(("/api/v1/partner/", "/api/v1/licenses/"))
    for role, token in demo_world["tokens"].items():
        if role == "partner" and not partners_route:
            continue  # elsewhere the partner's own operator has none of the demo's objects
        if role == "viewer" and case.meta.phase.name == TestPhase.COVERAGE and refused_before_the_body(case):
            continue
        with transaction.atomic():
            response = case.call(app=APP, headers={"Authorization": f"Token {token}"})
            case.validate_response(response, checks=CHECKS if positive_check_applies(case) else BASE_CHECKS)
            transaction.set_rollback(True)
