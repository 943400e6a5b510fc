"""Administrator accounts come with the contract (docs/product.md §1.3): the portal's pages and API never
make or unmake an administrator; platform staff move the role (admin site, `manage.py set_user_role`),
every change audited. Admins set another account's password, or mail it a reset link."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tenants.models import ApiToken, Role, RoleChange, User
from tenants.services import api_token_create
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

ADD = reverse("tenants:user_create")
CONTRACT = "Administrator accounts are issued with the contract"
NEW_PASSWORD = "Temp-pass-2026"  # noqa: S105


def edit_url(user) -> str:
    return reverse("tenants:user_edit", kwargs={"user_id": user.pk})


def password_url(user) -> str:
    return reverse("tenants:user_password", kwargs={"user_id": user.pk})


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------- no admin from the portal


def test_the_add_page_offers_no_administrator_role_and_refuses_one(alpha):
    client = client_for(alpha.admin)
    page = client.get(ADD).content.decode()
    assert 'value="viewer"' in page and 'value="admin"' not in page
    response = client.post(ADD, {"name": "Mole", "email": "mole@example.com", "role": "admin", "setup": "invite"})
    assert response.status_code == 200
    assert not User.objects.filter(email="mole@example.com").exists()


def test_an_admin_cannot_promote_a_viewer_on_the_edit_page(alpha):
    client = client_for(alpha.admin)
    assert 'value="admin"' not in client.get(edit_url(alpha.viewer)).content.decode()
    response = client.post(edit_url(alpha.viewer), {"name": "V", "email": alpha.viewer.email, "role": "admin"})
    assert response.status_code == 200
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER and alpha.viewer.name != "V"


def test_another_admins_role_is_shown_but_not_changeable(alpha):
    other = UserFactory(operator=alpha.operator, email="alpha-admin2@example.com", role=Role.ADMIN)
    client = client_for(alpha.admin)
    page = client.get(edit_url(other)).content.decode()
    assert "changed only by support" in page
    response = client.post(edit_url(other), {"name": "Two", "email": other.email, "role": "viewer"})
    assert response.url == reverse("tenants:user_list")
    other.refresh_from_db()
    assert other.role == Role.ADMIN and other.name == "Two"


def test_the_api_refuses_to_create_an_administrator_with_a_clear_message(alpha):
    response = api(alpha.admin).post("/api/v1/users/", {"email": "mole@example.com", "name": "M", "role": "admin"})
    assert response.status_code == 400
    assert CONTRACT in response.json()["role"][0]
    assert not User.objects.filter(email="mole@example.com").exists()


def test_the_api_refuses_to_promote_a_user_to_admin_and_changes_nothing(alpha):
    url = f"/api/v1/users/{alpha.viewer.pk}/"
    response = api(alpha.admin).patch(url, {"role": "admin", "name": "Promoted"})
    assert response.status_code == 400
    assert CONTRACT in response.json()["role"][0]
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER and alpha.viewer.name != "Promoted"
    assert not RoleChange.objects.exists()


def test_the_api_refuses_to_demote_another_admin(alpha):
    other = UserFactory(operator=alpha.operator, email="alpha-admin2@example.com", role=Role.ADMIN)
    response = api(alpha.admin).patch(f"/api/v1/users/{other.pk}/", {"role": "viewer"})
    assert response.status_code == 400 and "only by support" in response.json()["role"][0]
    other.refresh_from_db()
    assert other.role == Role.ADMIN


def test_the_api_refuses_in_japanese_too(alpha):
    client = api(alpha.admin)
    response = client.patch(f"/api/v1/users/{alpha.viewer.pk}/", {"role": "admin"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400 and "契約" in response.json()["role"][0]


# ---------------------------------------------------------------- staff move the role, audited


def test_staff_promote_with_the_command_and_the_change_is_audited(alpha):
    staff = UserFactory(operator=alpha.operator, email="staff@example.com", is_staff=True)
    call_command(
        "set_user_role", email=alpha.viewer.email, role="admin", reason="Contract #12 owner change", by=staff.email
    )
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.ADMIN
    change = RoleChange.objects.get()
    assert (change.user, change.old_role, change.new_role, change.changed_by, change.via) == (
        alpha.viewer,
        Role.VIEWER,
        Role.ADMIN,
        staff,
        RoleChange.Via.COMMAND,
    )
    assert change.reason == "Contract #12 owner change" and change.operator_id == alpha.operator.pk


def test_the_command_needs_a_reason_and_an_existing_account(alpha):
    with pytest.raises(CommandError, match="reason"):
        call_command("set_user_role", email=alpha.viewer.email, role="admin", reason="  ")
    with pytest.raises(CommandError, match="No account"):
        call_command("set_user_role", email="nobody@example.com", role="admin", reason="x")
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER and not RoleChange.objects.exists()


def test_a_non_staff_by_is_refused(alpha):
    with pytest.raises(CommandError, match="staff"):
        call_command("set_user_role", email=alpha.viewer.email, role="admin", reason="x", by=alpha.admin.email)
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER


def test_staff_change_the_role_on_the_admin_site_with_a_reason(alpha):
    staff = User.objects.create_superuser("root@example.com", PASSWORD)
    client = client_for(staff)
    url = reverse("admin:tenants_user_change", args=[alpha.viewer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"role": "admin", "reason": ""})
    assert response.status_code == 200  # the reason is required
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER
    response = client.post(url, {"role": "admin", "reason": "New contract holder"})
    assert response.status_code == 302
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.ADMIN
    change = RoleChange.objects.get()
    assert (change.changed_by, change.via, change.reason) == (staff, RoleChange.Via.ADMIN_SITE, "New contract holder")


# ---------------------------------------------------------------- an admin sets a user's password


def test_an_admin_sets_a_users_password_on_the_edit_page(alpha):
    api_token_create(user=alpha.viewer, name="script")
    client = client_for(alpha.admin)
    page = client.get(edit_url(alpha.viewer)).content.decode()
    assert password_url(alpha.viewer) in page
    response = client.post(password_url(alpha.viewer), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.url == reverse("tenants:user_list")
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(NEW_PASSWORD) and alpha.viewer.must_change_password
    assert not ApiToken.objects.filter(user=alpha.viewer).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_password1": NEW_PASSWORD, "new_password2": "Other-pass-2026"}, "not the same"),
        ({"new_password1": "short", "new_password2": "short"}, "at least"),
        ({"new_password1": "", "new_password2": ""}, "required"),
    ],
)
def test_a_bad_password_is_refused_with_a_message_and_nothing_changes(alpha, data, message):
    response = client_for(alpha.admin).post(password_url(alpha.viewer), data)
    assert response.status_code == 200 and message in response.content.decode()
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(PASSWORD) and not alpha.viewer.must_change_password


def test_an_admin_mails_a_reset_link_instead(alpha):
    response = client_for(alpha.admin).post(password_url(alpha.viewer), {"send_reset": "1"})
    assert response.url == edit_url(alpha.viewer)
    assert [m.to for m in mail.outbox] == [[alpha.viewer.email]]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    assert reverse("tenants:password_reset") in link
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(PASSWORD)  # unchanged until the user follows the link


def test_viewers_cannot_set_passwords_and_outsiders_get_404(alpha, bravo):
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client_for(alpha.viewer).post(password_url(alpha.admin), data).status_code == 403
    assert client_for(bravo.admin).post(password_url(alpha.viewer), data).status_code == 404
    assert (
        api(alpha.viewer).post(f"/api/v1/users/{alpha.admin.pk}/password/", {"password": NEW_PASSWORD}).status_code
        == 403
    )
    assert (
        api(bravo.admin).post(f"/api/v1/users/{alpha.viewer.pk}/password/", {"password": NEW_PASSWORD}).status_code
        == 404
    )
    alpha.admin.refresh_from_db()
    alpha.viewer.refresh_from_db()
    assert alpha.admin.check_password(PASSWORD) and alpha.viewer.check_password(PASSWORD)


def test_the_api_sets_a_password_or_mails_a_link_but_not_your_own(alpha):
    client = api(alpha.admin)
    assert client.post(f"/api/v1/users/{alpha.viewer.pk}/password/", {"password": NEW_PASSWORD}).status_code == 204
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(NEW_PASSWORD) and alpha.viewer.must_change_password
    response = client.post(f"/api/v1/users/{alpha.device_operator.pk}/password/", {"send_reset_link": True})
    assert response.status_code == 204 and mail.outbox[-1].to == [alpha.device_operator.email]
    response = client.post(f"/api/v1/users/{alpha.admin.pk}/password/", {"password": NEW_PASSWORD})
    assert response.status_code == 400 and "account page" in response.json()["new_password1"][0]
    response = client.post(f"/api/v1/users/{alpha.viewer.pk}/password/", {"password": "short"})
    assert response.status_code == 400
    alpha.admin.refresh_from_db()
    assert alpha.admin.check_password(PASSWORD)
