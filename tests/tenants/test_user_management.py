"""Admin-only user management pages: list, search, add (invitation or initial password), edit,
delete with confirmation, the 100-account limit, and who may do what."""

import pytest
from django.core import mail
from django.urls import reverse

from tenants.models import Role, User
from tests.conftest import client_for
from tests.factories import PASSWORD

LIST = reverse("tenants:user_list")
ADD = reverse("tenants:user_create")


def edit_url(user) -> str:
    return reverse("tenants:user_edit", kwargs={"user_id": user.pk})


def delete_url(user) -> str:
    return reverse("tenants:user_delete", kwargs={"user_id": user.pk})


def fill_to(operator, total: int) -> None:
    have = User.objects.filter(operator=operator).count()
    User.objects.bulk_create(
        User(operator=operator, email=f"bulk{i}-{operator.pk}@example.com", name=f"Bulk {i:03d}", password="!")
        for i in range(total - have)
    )


def test_list_shows_the_operators_accounts_only(alpha, bravo):
    body = client_for(alpha.admin).get(LIST).content.decode()
    assert alpha.viewer.email in body and alpha.device_operator.email in body
    assert bravo.admin.email not in body
    assert "3 of 100 accounts in use" in body


def test_list_search_by_name_or_email(alpha):
    client = client_for(alpha.admin)
    body = client.get(LIST, {"q": "devop"}).content.decode()
    assert alpha.device_operator.email in body and alpha.viewer.email not in body
    body = client.get(LIST, {"q": "Alpha admin"}).content.decode()
    assert alpha.admin.email in body and alpha.viewer.email not in body
    assert "No account matches this search." in client.get(LIST, {"q": "zzz"}).content.decode()


def test_list_is_paginated(alpha):
    fill_to(alpha.operator, 45)
    client = client_for(alpha.admin)
    first = client.get(LIST).content.decode()
    assert "Page 1 of 3" in first
    third = client.get(LIST, {"page": 3}).content.decode()
    assert "Page 3 of 3" in third


def test_own_row_has_no_delete_button(alpha):
    body = client_for(alpha.admin).get(LIST).content.decode()
    assert delete_url(alpha.viewer) in body
    assert delete_url(alpha.admin) not in body


def test_admin_adds_a_user_with_an_invitation_mail(alpha, django_capture_on_commit_callbacks):
    client = client_for(alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, {"name": "Neo", "email": "neo@example.com", "role": Role.VIEWER, "setup": "invite"})
    assert response.url == LIST
    user = User.objects.get(email="neo@example.com")
    assert user.operator == alpha.operator and user.role == Role.VIEWER and not user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["neo@example.com"]]
    assert "mailed an invitation link" in client.get(LIST).content.decode()


def test_admin_adds_a_user_with_an_initial_password_that_must_be_changed(alpha, django_capture_on_commit_callbacks):
    data = {
        "name": "Trinity",
        "email": "trinity@example.com",
        "role": Role.DEVICE_OPERATOR,
        "setup": "password",
        "password1": "Start-Pass1",
        "password2": "Start-Pass1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alpha.admin).post(ADD, data)
    user = User.objects.get(email="trinity@example.com")
    assert user.check_password("Start-Pass1") and user.must_change_password
    assert mail.outbox == []


def test_initial_password_with_a_forbidden_symbol_is_refused_next_to_the_field(alpha):
    data = {"name": "T", "email": "t@example.com", "role": Role.VIEWER, "setup": "password"}
    body = client_for(alpha.admin).post(ADD, {**data, "password1": "Bad^Pass1", "password2": "Bad^Pass1"})
    assert "not allowed: ^" in body.content.decode()
    assert not User.objects.filter(email="t@example.com").exists()


def test_duplicate_email_is_refused(alpha, bravo):
    data = {"name": "Copy", "email": bravo.viewer.email, "role": Role.VIEWER, "setup": "invite"}
    body = client_for(alpha.admin).post(ADD, data).content.decode()
    assert "already used by another account" in body
    assert User.objects.filter(email=bravo.viewer.email).count() == 1


def test_the_101st_account_is_refused_with_a_message_and_nothing_saved(alpha, django_capture_on_commit_callbacks):
    fill_to(alpha.operator, 100)
    client = client_for(alpha.admin)
    assert "reached the limit of 100 accounts" in client.get(LIST).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD, {"name": "One more", "email": "101@example.com", "role": "viewer", "setup": "invite"}
        )
    assert response.status_code == 200
    assert "at most 100 accounts" in response.content.decode()
    assert User.objects.filter(operator=alpha.operator).count() == 100
    assert not User.objects.filter(email="101@example.com").exists()
    assert mail.outbox == []


def test_admin_edits_name_email_and_role(alpha):
    client = client_for(alpha.admin)
    assert alpha.viewer.email in client.get(edit_url(alpha.viewer)).content.decode()
    data = {"name": "Vee", "email": "vee@example.com", "role": Role.DEVICE_OPERATOR, "current_password": PASSWORD}
    response = client.post(edit_url(alpha.viewer), data)
    assert response.url == LIST
    alpha.viewer.refresh_from_db()
    assert (alpha.viewer.name, alpha.viewer.email, alpha.viewer.role) == (
        "Vee",
        "vee@example.com",
        Role.DEVICE_OPERATOR,
    )
    assert "has been updated" in client.get(LIST).content.decode()


def test_admin_cannot_change_their_own_role(alpha):
    client = client_for(alpha.admin)
    assert "You cannot change your own role." in client.get(edit_url(alpha.admin)).content.decode()
    client.post(edit_url(alpha.admin), {"name": "Boss", "email": alpha.admin.email, "role": Role.VIEWER})
    alpha.admin.refresh_from_db()
    assert alpha.admin.role == Role.ADMIN and alpha.admin.name == "Boss"


def test_delete_asks_for_confirmation_restating_the_account(alpha):
    client = client_for(alpha.admin)
    page = client.get(delete_url(alpha.viewer)).content.decode()
    assert alpha.viewer.email in page and "cannot be undone" in page
    assert User.objects.filter(pk=alpha.viewer.pk).exists()
    response = client.post(delete_url(alpha.viewer))
    assert response.url == LIST
    assert not User.objects.filter(pk=alpha.viewer.pk).exists()
    assert "has been deleted" in client.get(LIST).content.decode()


def test_nobody_deletes_themselves(alpha):
    client = client_for(alpha.admin)
    response = client.post(delete_url(alpha.admin), follow=True)
    assert "You cannot delete your own account." in response.content.decode()
    assert User.objects.filter(pk=alpha.admin.pk).exists()
    assert "cannot delete your own" in client.get(delete_url(alpha.admin), follow=True).content.decode()


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_get_403_on_every_user_management_page(alpha, role):
    member = getattr(alpha, role)
    client = client_for(member)
    assert client.get(LIST).status_code == 403
    assert client.get(ADD).status_code == 403
    assert (
        client.post(ADD, {"name": "X", "email": "x@example.com", "role": "admin", "setup": "invite"}).status_code == 403
    )
    for target in (alpha.admin, member):
        assert client.get(edit_url(target)).status_code == 403
        assert (
            client.post(edit_url(target), {"name": "X", "email": "x@example.com", "role": "admin"}).status_code == 403
        )
        assert client.get(delete_url(target)).status_code == 403
        assert client.post(delete_url(target)).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
    member.refresh_from_db()
    assert member.role == role


def test_outsider_admin_gets_404_for_every_user_route(alpha, bravo):
    client = client_for(bravo.admin)
    for target in (alpha.admin, alpha.viewer):
        for url in (edit_url(target), delete_url(target)):
            assert client.get(url).status_code == 404
            assert client.post(url, {"name": "Hacked", "email": "h@example.com", "role": "viewer"}).status_code == 404
        target.refresh_from_db()
        assert target.name != "Hacked"
    assert User.objects.filter(pk=alpha.viewer.pk).exists()
