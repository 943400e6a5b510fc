"""The base page's menu is kept per process under the user's role, staff flag, operator and language
(templates/base.html, the "fragments" cache): a change of any of them shows on the next page."""

from django.urls import reverse

from tenants.models import Role
from tests.conftest import client_for


def _menu(user, language: str = "en") -> str:
    client = client_for(user)
    response = client.get(reverse("contact"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body = response.content.decode()
    return body[body.index('<nav class="mainnav">') : body.index("</nav>")]


def test_each_role_language_and_staff_flag_gets_its_own_menu(alpha, bravo):
    users_link = f'href="{reverse("tenants:user_list")}"'
    assert users_link in _menu(alpha.admin) and "User accounts" in _menu(alpha.admin)
    assert users_link not in _menu(alpha.viewer)  # kept for the admin, not handed to a viewer
    assert "ユーザーアカウント管理" in _menu(alpha.admin, "ja") and "User accounts" not in _menu(alpha.admin, "ja")
    alpha.viewer.role = Role.ADMIN
    alpha.viewer.save()
    assert users_link in _menu(alpha.viewer)
    alpha.admin.role = Role.VIEWER
    alpha.admin.save()
    assert users_link not in _menu(alpha.admin)
    staff_link = f'href="{reverse("recording:staff_mails")}"'
    assert staff_link not in _menu(alpha.viewer)
    alpha.viewer.is_staff = True
    alpha.viewer.save()
    assert staff_link in _menu(alpha.viewer)


def test_a_partners_menu_is_not_its_customers(alpha):
    from tests.licensing.factories import make_partner

    _partner, partner_admin = make_partner(name="Menu Partner")
    partner_link = f'href="{reverse("licensing:partner")}"'
    licenses_link = f'href="{reverse("licensing:licenses")}"'
    assert partner_link in _menu(partner_admin) and licenses_link not in _menu(partner_admin)
    assert licenses_link in _menu(alpha.admin) and partner_link not in _menu(alpha.admin)
    alpha.operator.kind = alpha.operator.Kind.PARTNER  # the same operator, now a partner
    alpha.operator.save()
    assert partner_link in _menu(alpha.admin) and licenses_link not in _menu(alpha.admin)
