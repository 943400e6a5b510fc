"""Every licensing route with an id, walked with another partner's customer and license ids."""

import pytest
from django.urls import get_resolver, reverse

from licensing.models import License
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses


def _licensing_routes() -> list[tuple[str, tuple[str, ...]]]:
    routes = []

    def walk(patterns, ns=(), params=()):
        for entry in patterns:
            names = params + tuple(entry.pattern.regex.groupindex)
            if hasattr(entry, "url_patterns"):
                walk(entry.url_patterns, ns + ((entry.namespace,) if entry.namespace else ()), names)
            elif names and (ns[:1] == ("licensing",) or (entry.name or "").startswith(("license", "partner-"))):
                routes.append((":".join(ns + (entry.name,)), names))

    walk(get_resolver().url_patterns)
    return routes


ROUTES = _licensing_routes()


def test_the_walk_finds_the_licensing_routes():
    names = {name for name, _params in ROUTES}
    assert {"licensing:customer_detail", "licensing:license_move", "partner-license-detail"} <= names


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[r[0] for r in ROUTES])
def test_another_partners_ids_are_404_for_every_method(name, params, partner, other_partner, alpha, bravo):
    [lic] = give_camera_licenses(bravo.operator)
    ids = {"customer_id": bravo.operator.pk, "license_id": lic.pk}
    url = reverse(name, kwargs={p: ids[p] for p in params})
    before = list(License.objects.order_by("id").values_list("id", "customer_id", "device_id"))
    for user in (partner.admin, alpha.admin):
        client = client_for(user)
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(url, content_type="application/json")
            assert response.status_code in (404, 405), f"{user.email} {method.upper()} {url}: {response.status_code}"
    assert list(License.objects.order_by("id").values_list("id", "customer_id", "device_id")) == before
