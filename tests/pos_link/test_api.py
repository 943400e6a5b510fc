"""REST API: links CRUD (tokens write-only), transactions with filters, roles and isolation."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from pos_link.models import PosLink
from tests.pos_link.conftest import SMAREGI_CONTRACT, SMAREGI_TOKEN
from tests.pos_link.factories import link_of, transaction_of

pytestmark = pytest.mark.django_db

LINKS = reverse("pos-link-list")
TRANSACTIONS = reverse("pos-transaction-list")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _link_url(link) -> str:
    return reverse("pos-link-detail", kwargs={"link_id": link.pk})


def test_create_smaregi_link_checks_with_smaregi_and_never_returns_the_token(pos_alpha, smaregi):
    body = {
        "provider": "smaregi", "contract_id": SMAREGI_CONTRACT, "access_token": SMAREGI_TOKEN,
        "terminal_id": "1", "camera": pos_alpha.camera.pk,
    }  # fmt: skip
    response = api(pos_alpha.admin).post(LINKS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["has_token"] is True and SMAREGI_TOKEN not in response.content.decode()
    listing = api(pos_alpha.viewer).get(LINKS)
    assert listing.json()["count"] == 1 and SMAREGI_TOKEN not in listing.content.decode()


def test_create_with_a_wrong_token_is_400_with_the_provider_reason(pos_alpha, smaregi):
    body = {"provider": "smaregi", "contract_id": SMAREGI_CONTRACT, "access_token": "bad", "terminal_id": "1",
            "camera": pos_alpha.camera.pk}  # fmt: skip
    response = api(pos_alpha.admin).post(LINKS, body, format="json")
    assert response.status_code == 400
    assert "アクセストークンが無効です" in response.content.decode()
    assert not PosLink.objects.exists()


def test_create_with_a_camera_without_option_is_refused(alpha, smaregi):
    body = {"provider": "smaregi", "contract_id": SMAREGI_CONTRACT, "access_token": SMAREGI_TOKEN,
            "terminal_id": "1", "camera": alpha.camera.pk}  # fmt: skip
    response = api(alpha.admin).post(LINKS, body, format="json")  # refused by what the camera holds: 409
    assert response.status_code == 409 and "POS link option" in response.json()["camera"][0]
    assert not PosLink.objects.exists()


def test_create_with_another_operators_camera_is_400(pos_alpha, bravo, smaregi):
    body = {"provider": "smaregi", "contract_id": SMAREGI_CONTRACT, "access_token": SMAREGI_TOKEN,
            "terminal_id": "1", "camera": bravo.camera.pk}  # fmt: skip
    assert api(pos_alpha.admin).post(LINKS, body, format="json").status_code == 400
    assert not PosLink.objects.exists()


def test_update_and_delete_a_link(pos_alpha):
    link = link_of(pos_alpha)
    client = api(pos_alpha.admin)
    response = client.patch(_link_url(link), {"camera": pos_alpha.camera.pk}, format="json")
    assert response.status_code == 200
    assert client.delete(_link_url(link)).status_code == 204
    assert not PosLink.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_read_but_cannot_write(pos_alpha, smaregi, role):
    link = link_of(pos_alpha)
    client = api(getattr(pos_alpha, role))
    assert client.get(_link_url(link)).status_code == 200
    assert client.patch(_link_url(link), {"terminal_id": "9"}, format="json").status_code == 403
    assert client.delete(_link_url(link)).status_code == 403
    body = {"provider": "smaregi", "contract_id": SMAREGI_CONTRACT, "access_token": SMAREGI_TOKEN,
            "terminal_id": "2", "camera": pos_alpha.camera.pk}  # fmt: skip
    assert client.post(LINKS, body, format="json").status_code == 403
    assert PosLink.objects.get().terminal_id == "1"


def test_outsider_gets_404_on_links_and_transactions(pos_alpha, bravo):
    link, tx = link_of(bravo), transaction_of(bravo)
    client = api(pos_alpha.admin)
    assert client.get(_link_url(link)).status_code == 404
    assert client.patch(_link_url(link), {"terminal_id": "9"}, format="json").status_code == 404
    assert client.delete(_link_url(link)).status_code == 404
    assert client.get(reverse("pos-transaction-detail", kwargs={"transaction_id": tx.pk})).status_code == 404
    assert client.get(LINKS).json()["count"] == 0
    assert client.get(TRANSACTIONS).json()["count"] == 0
    assert client.get(TRANSACTIONS, {"camera": bravo.camera.pk}).json()["count"] == 0


def test_transactions_filter_by_kind_search_and_camera(pos_alpha):
    transaction_of(pos_alpha, provider_id="1", receipt_no="R-1", staff="Tanaka")
    transaction_of(pos_alpha, provider_id="2", receipt_no="R-2", staff="Sato", kind="cancel")
    client = api(pos_alpha.viewer)
    assert [r["receipt_no"] for r in client.get(TRANSACTIONS, {"kind": "cancel"}).json()["results"]] == ["R-2"]
    assert [r["receipt_no"] for r in client.get(TRANSACTIONS, {"q": "tanaka"}).json()["results"]] == ["R-1"]
    assert client.get(TRANSACTIONS, {"camera": pos_alpha.camera.pk}).json()["count"] == 2
    row = client.get(TRANSACTIONS, {"q": "R-1"}).json()["results"][0]
    assert row["total"] == "550.00" and row["change"] == "450.00" and row["thumbnail_url"] is None
    assert client.get(TRANSACTIONS, {"kind": "refund"}).status_code == 400
    assert client.get(TRANSACTIONS, {"since": "yesterday"}).status_code == 400


def test_transactions_are_read_only(pos_alpha):
    tx = transaction_of(pos_alpha)
    client = api(pos_alpha.admin)
    url = reverse("pos-transaction-detail", kwargs={"transaction_id": tx.pk})
    assert client.delete(url).status_code == 405
    assert client.post(TRANSACTIONS, {}, format="json").status_code == 405


def test_create_a_smaregi_platform_link_and_read_the_sale_and_server_times(pos_alpha, smaregi):
    from tests.pos_link.conftest import PLATFORM_CLIENT_ID, PLATFORM_CLIENT_SECRET, PLATFORM_CONTRACT

    body = {
        "provider": "smaregi", "interface": "smaregi_platform", "contract_id": PLATFORM_CONTRACT,
        "client_id": PLATFORM_CLIENT_ID, "client_secret": PLATFORM_CLIENT_SECRET, "terminal_id": "1",
        "camera": pos_alpha.camera.pk,
    }  # fmt: skip
    response = api(pos_alpha.admin).post(LINKS, body, format="json")
    assert response.status_code == 201, response.content
    assert (
        response.json()["interface"] == "smaregi_platform" and PLATFORM_CLIENT_SECRET not in response.content.decode()
    )
    tx = transaction_of(pos_alpha, provider_id="t1")
    row = api(pos_alpha.viewer).get(reverse("pos-transaction-detail", kwargs={"transaction_id": tx.pk})).json()
    assert "server_at" in row and row["occurred_at"]


def test_the_create_schema_says_what_each_provider_needs():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/pos/links/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body = components[body["$ref"].rsplit("/", 1)[1]]
    branches = [components[ref["$ref"].rsplit("/", 1)[1]] for ref in body["oneOf"]]
    required = [set(branch["required"]) - {"provider", "terminal_id", "camera"} for branch in branches]
    assert required == [
        {"contract_id", "access_token"},  # smaregi_access is the default interface
        {"interface", "contract_id", "client_id", "client_secret"},
        {"connection"},
    ]
