"""REST API for accounts: same rules as the pages, errors as JSON in the caller's language."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import LoginHistory, Role, TwoFactorMode, User


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def user_url(user) -> str:
    return f"/api/v1/users/{user.pk}/"


def test_admin_lists_own_operators_users_with_search(alpha, bravo):
    data = api(alpha.admin).get("/api/v1/users/").json()
    emails = {row["email"] for row in data["results"]}
    assert emails == {alpha.admin.email, alpha.viewer.email, alpha.device_operator.email}
    found = api(alpha.admin).get("/api/v1/users/", {"search": "viewer"}).json()["results"]
    assert [row["email"] for row in found] == [alpha.viewer.email]


def test_admin_creates_updates_and_deletes_a_user(alpha, django_capture_on_commit_callbacks):
    client = api(alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/users/", {"email": "api@example.com", "name": "Api", "role": "viewer"})
    assert response.status_code == 201 and response.json()["invited"] is True
    created = User.objects.get(email="api@example.com")
    assert created.operator == alpha.operator
    response = client.patch(user_url(created), {"role": Role.DEVICE_OPERATOR, "name": "Api 2"})
    assert response.status_code == 200 and response.json()["role"] == Role.DEVICE_OPERATOR
    assert client.delete(user_url(created)).status_code == 204
    assert not User.objects.filter(pk=created.pk).exists()


def test_create_with_an_initial_password_must_follow_the_symbol_rule(alpha):
    response = api(alpha.admin).post(
        "/api/v1/users/", {"email": "p@example.com", "name": "P", "role": "viewer", "password": "Bad*Pass1"}
    )
    assert response.status_code == 400 and "not allowed: *" in response.json()["password"][0]
    assert not User.objects.filter(email="p@example.com").exists()


def test_the_101st_account_is_refused_by_the_api_too(alpha):
    User.objects.bulk_create(User(operator=alpha.operator, email=f"b{i}@example.com", password="!") for i in range(97))
    response = api(alpha.admin).post("/api/v1/users/", {"email": "over@example.com", "name": "O", "role": "viewer"})
    assert response.status_code == 400
    assert "at most 100 accounts" in response.json()["non_field_errors"][0]
    assert User.objects.filter(operator=alpha.operator).count() == 100


def test_admin_cannot_delete_self_or_change_own_role(alpha):
    client = api(alpha.admin)
    response = client.delete(user_url(alpha.admin))
    assert response.status_code == 400 and "own account" in str(response.json())
    response = client.patch(user_url(alpha.admin), {"role": "viewer"})
    assert response.status_code == 400 and "own role" in response.json()["role"][0]
    alpha.admin.refresh_from_db()
    assert alpha.admin.role == Role.ADMIN


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_get_403_on_the_users_endpoint(alpha, role):
    member = getattr(alpha, role)
    client = api(member)
    response = client.get("/api/v1/users/")
    assert response.status_code == 403 and response.json()["detail"] == "Only administrators can do this."
    assert client.post("/api/v1/users/", {"email": "x@example.com", "name": "X", "role": "admin"}).status_code == 403
    assert client.get(user_url(alpha.admin)).status_code == 403
    assert client.patch(user_url(member), {"role": "admin"}).status_code == 403
    assert client.delete(user_url(alpha.admin)).status_code == 403
    assert client.get(user_url(member)).status_code == 200  # own record is readable
    member.refresh_from_db()
    assert member.role == role and not User.objects.filter(email="x@example.com").exists()


def test_outsider_gets_404_for_another_operators_user_ids(alpha, bravo):
    for who in (bravo.admin, bravo.viewer):
        client = api(who)
        for method in ("get", "put", "patch", "delete"):
            response = getattr(client, method)(user_url(alpha.viewer), {"name": "Hacked"})
            assert response.status_code == 404, (who.email, method)
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.name != "Hacked"


def test_me_shows_and_changes_own_account(alpha):
    client = api(alpha.viewer)
    me = client.get("/api/v1/me/").json()
    assert me["email"] == alpha.viewer.email and me["share_id"] == alpha.operator.share_id
    response = client.patch("/api/v1/me/", {"name": "Me", "two_factor_mode": TwoFactorMode.ALWAYS, "role": "admin"})
    assert response.status_code == 200
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.name == "Me" and alpha.viewer.two_factor_mode == TwoFactorMode.ALWAYS
    assert alpha.viewer.role == Role.VIEWER  # role is read-only here
    assert client.put("/api/v1/me/", {"name": "Put"}).status_code == 405


def test_me_refuses_a_taken_email_with_a_conflict(alpha, bravo):
    # Well formed, refused by what is stored: 409 with the message next to the field (as a 400 would carry it).
    response = api(alpha.viewer).patch("/api/v1/me/", {"email": bravo.admin.email})
    assert response.status_code == 409 and "already used" in response.json()["email"][0]


def test_login_history_is_own_and_recent_only(alpha):
    now = timezone.now()
    LoginHistory.objects.create(operator=alpha.operator, user=alpha.viewer, ip="10.0.0.1", at=now)
    LoginHistory.objects.create(operator=alpha.operator, user=alpha.viewer, ip="10.0.0.2", at=now - timedelta(days=95))
    LoginHistory.objects.create(operator=alpha.operator, user=alpha.admin, ip="10.0.0.3", at=now)
    rows = api(alpha.viewer).get("/api/v1/login-history/").json()["results"]
    assert [row["ip"] for row in rows] == ["10.0.0.1"]
    assert api(alpha.viewer).post("/api/v1/login-history/", {}).status_code == 405


def test_api_errors_come_in_japanese_when_asked(alpha):
    response = api(alpha.viewer).get("/api/v1/users/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 403 and response.json()["detail"] == "管理者だけが行える操作です。"


def test_anonymous_gets_no_data(db):
    assert APIClient().get("/api/v1/me/").status_code in (401, 403)
    assert APIClient().get("/api/v1/users/").status_code in (401, 403)


def _request_schemas() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def test_adding_an_account_with_a_taken_email_is_a_conflict(alpha, bravo):
    body = {"email": bravo.admin.email.upper(), "name": "Twin", "role": "viewer"}
    response = api(alpha.admin).post("/api/v1/users/", body)  # well formed, refused by what is stored: 409
    assert response.status_code == 409 and "already used" in response.json()["email"][0]
    assert not User.objects.filter(name="Twin").exists()


def test_the_account_request_schemas_say_what_the_services_check(settings):
    """The schema promises no more than validation takes (tests/test_api_fuzz.py, positive_data_acceptance)."""
    import re

    settings.PORTAL_TERMS_VERSION = "2026-04"
    schemas = _request_schemas()
    create = schemas["UserCreateRequest"]["properties"]
    assert Role.ADMIN not in _enum(schemas, create["role"])  # administrators come with the contract
    assert re.search(create["name"]["pattern"], "   ") is None
    password = create["password"]["anyOf"][1]
    assert password["minLength"] == 8
    assert re.search(password["pattern"], "12345678") is None and re.search(password["pattern"], "Bad*Pass1") is None
    assert re.search(password["pattern"], "demo-Pass1")
    # An email address changes only with the caller's password; a password or the reset link is asked.
    assert {"required": ["current_password"]} in schemas["PatchedMeRequest"]["anyOf"]
    assert {"required": ["current_password"]} in schemas["UserUpdateRequest"]["anyOf"]
    assert len(schemas["UserPasswordRequest"]["anyOf"]) == 2
    assert _enum(schemas, schemas["TermsRequest"]["properties"]["version"]) == ["2026-04"]  # only the current one


def _enum(schemas: dict, prop: dict) -> list:
    """A property's enum, where drf-spectacular may have moved it to a component of its own."""
    prop = prop["allOf"][0] if "allOf" in prop else prop
    return schemas[prop["$ref"].rsplit("/", 1)[1]]["enum"] if "$ref" in prop else prop["enum"]


def test_me_changes_the_email_with_the_password_the_schema_asks_for(alpha, password):
    response = api(alpha.viewer).patch("/api/v1/me/", {"email": "new@example.com", "current_password": password})
    assert response.status_code == 200 and response.json()["email"] == "new@example.com"
