"""Partner console and customer pages: who may see what, the assign flow, proxy login."""

from django.urls import reverse

from licensing import selectors, services
from licensing.models import AssignmentHistory, License, LicenseKind, ProxyAction
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses

PARTNER_PAGES = ["licensing:partner", "licensing:customers", "licensing:customer_add", "licensing:assign",
                 "licensing:history", "licensing:expiries"]  # fmt: skip


def test_partner_console_shows_stock_by_kind_and_term(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=3)
    body = client_for(partner.admin).get(reverse("licensing:partner")).content.decode()
    assert "Camera license (edge storage / SD card)" in body
    assert "12 months" in body and ">3<" in body


def test_customer_users_cannot_reach_partner_pages(alpha, partner):
    for name in PARTNER_PAGES:
        assert client_for(alpha.admin).get(reverse(name)).status_code == 404, name


def test_outsider_partner_gets_404_for_another_partners_customer_and_license(partner, other_partner, alpha, bravo):
    [lic] = give_camera_licenses(bravo.operator)
    client = client_for(partner.admin)
    for url in (
        reverse("licensing:customer_detail", kwargs={"customer_id": bravo.operator.pk}),
        reverse("licensing:customer_email", kwargs={"customer_id": bravo.operator.pk}),
        reverse("licensing:license_renew", kwargs={"license_id": lic.pk}),
        reverse("partner-customer-detail", kwargs={"customer_id": bravo.operator.pk}),
        reverse("partner-license-detail", kwargs={"license_id": lic.pk}),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("licensing:proxy_start", kwargs={"customer_id": bravo.operator.pk})).status_code == 404
    assert client.get(reverse("license-detail", kwargs={"license_id": lic.pk})).status_code == 404
    assert client_for(alpha.admin).get(reverse("license-detail", kwargs={"license_id": lic.pk})).status_code == 404
    customers = client.get(reverse("partner-customer-list")).json()["results"]
    assert [c["id"] for c in customers] == [alpha.operator.pk]


def test_assign_flow_confirms_then_assigns_irreversibly(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    client = client_for(partner.admin)
    response = client.post(
        reverse("licensing:assign"), {"stock": "edge_storage:12", "count": "2", "customer_email": alpha.admin.email}
    )
    body = response.content.decode()
    assert "cannot be undone" in body and "Alpha" in body
    assert License.objects.filter(customer__isnull=False).count() == 0  # nothing yet: only the confirm screen
    ids = [int(v) for v in response.context["ids"]]
    response = client.post(
        reverse("licensing:assign_confirm"),
        {"customer_id": alpha.operator.pk, "kind": "edge_storage", "license_id": ids},
        follow=True,
    )
    assert "2 licenses assigned to Alpha" in response.content.decode()
    assert License.objects.filter(customer=alpha.operator).count() == 2
    # Submitting the same confirmation again (double click, back button) assigns nothing more.
    response = client.post(
        reverse("licensing:assign_confirm"),
        {"customer_id": alpha.operator.pk, "kind": "edge_storage", "license_id": ids},
        follow=True,
    )
    assert "no longer in your stock" in response.content.decode()
    assert AssignmentHistory.objects.filter(action=AssignmentHistory.Action.ASSIGNED).count() == 2


def test_asking_for_more_than_in_stock_shows_an_error_on_the_form(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    response = client_for(partner.admin).post(
        reverse("licensing:assign"), {"stock": "edge_storage:12", "count": "5", "customer_email": alpha.admin.email}
    )
    assert "Only 1 licenses" in response.content.decode()
    assert selectors.stock_count(partner=partner.operator, kind="edge_storage", term_months=12) == 1


def test_partner_viewer_cannot_assign(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    assert client_for(partner.viewer).get(reverse("licensing:assign")).status_code == 403


def test_partner_adds_a_customer_and_sees_a_success_message(partner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(partner.admin).post(
            reverse("licensing:customer_add"), {"name": "Corner Cafe", "email": "cafe@example.com"}, follow=True
        )
    assert "Customer Corner Cafe added" in response.content.decode()
    assert selectors.customer_list(partner=partner.operator).filter(name="Corner Cafe").exists()


def test_customer_email_in_use_is_shown_on_the_form(partner, alpha):
    response = client_for(partner.admin).post(
        reverse("licensing:customer_add"), {"name": "Dup", "email": alpha.viewer.email}
    )
    assert "already used by another account" in response.content.decode()
    assert not selectors.customer_list(partner=partner.operator).filter(name="Dup").exists()


def test_proxy_login_shows_a_banner_records_changes_and_the_customer_sees_it(partner, alpha):
    [lic] = give_camera_licenses(alpha.operator)
    from tests.factories import CameraFactory

    target = CameraFactory(room=alpha.room, name="Wrong cam")
    client = client_for(partner.admin)
    response = client.post(reverse("licensing:proxy_start", kwargs={"customer_id": alpha.operator.pk}), follow=True)
    body = response.content.decode()
    assert "Proxy login" in body and "acting as" in body
    assert "Alpha Cam" in client.get(reverse("home")).content.decode()  # other apps now see the customer
    assert client.get(reverse("licensing:partner")).status_code == 404  # while acting, not the partner console
    client.post(reverse("licensing:license_move", kwargs={"license_id": lic.pk}), {"device": target.pk})
    lic.refresh_from_db()
    assert lic.device == target
    assert AssignmentHistory.objects.filter(license=lic, action="moved", proxy_session__isnull=False).exists()
    response = client.post(reverse("licensing:proxy_end"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("licensing:partner")
    assert "Proxy login" not in response.content.decode()
    assert ProxyAction.objects.filter(path__contains="/move/").exists()
    page = client_for(alpha.viewer).get(reverse("licensing:licenses")).content.decode()
    assert partner.admin.email in page and "/move/" in page


def test_customer_license_page_lists_licenses_with_expiry_and_state(partner, alpha):
    give_camera_licenses(alpha.operator)
    body = client_for(alpha.viewer).get(reverse("licensing:licenses")).content.decode()
    assert "Alpha Cam" in body and "2026-02-28" in body and "Active" in body


def test_api_assign_and_customer_license_list(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.CONGESTION_OPTION, months=12, count=2)
    client = client_for(partner.admin)
    response = client.post(
        reverse("partner-license-assign"),
        {"customer_id": alpha.operator.pk, "kind": "congestion_option", "term_months": 12, "count": 3},
        content_type="application/json",
    )
    assert response.status_code == 409 and "Only 2" in str(response.json()["count"])  # what is in stock refuses it
    response = client.post(
        reverse("partner-license-assign"),
        {"customer_id": alpha.operator.pk, "kind": "congestion_option", "term_months": 12, "count": 2},
        content_type="application/json",
    )
    assert response.status_code == 201
    listed = client_for(alpha.viewer).get(reverse("license-list")).json()["results"]
    assert [row["state"] for row in listed] == ["active", "active"]
    assert selectors.option_license_count(alpha.operator, LicenseKind.CONGESTION_OPTION) == 2


def test_api_partner_viewer_cannot_assign(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.POS_OPTION, months=12, count=1)
    response = client_for(partner.viewer).post(
        reverse("partner-license-assign"),
        {"customer_id": alpha.operator.pk, "kind": "pos_option", "term_months": 12, "count": 1},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert selectors.stock_count(partner=partner.operator, kind="pos_option", term_months=12) == 1


def test_expired_temporary_password_session_is_logged_out_with_a_message(partner, set_now):
    from datetime import timedelta

    from licensing import clock

    customer, admin = services.customer_create(
        partner=partner.operator, actor=partner.admin, name="Late", email="late@example.com"
    )
    set_now(clock.now() + timedelta(hours=25))
    response = client_for(admin).get(reverse("licensing:licenses"), follow=True)
    assert "temporary password expired" in response.content.decode()


def test_the_customer_is_found_by_email_search_among_many(partner, alpha, other_partner, bravo):
    """A partner with hundreds of customers searches by email; another partner's customers never show."""
    from tenants.models import Role
    from tests.factories import OperatorFactory, UserFactory

    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    for i in range(120):
        customer = OperatorFactory(name=f"Customer {i:03d}", partner=partner.operator)
        UserFactory(operator=customer, email=f"owner{i:03d}@tenant.example.com", role=Role.ADMIN)
    client = client_for(partner.admin)

    page = client.get(reverse("licensing:assign"), {"q": "owner042@"})
    assert [c.name for c, _email in page.context["matches"]] == ["Customer 042"]
    assert "owner042@tenant.example.com" in page.content.decode()
    assert 'name="customer"' not in page.content.decode()  # no dropdown of every name
    assert client.get(reverse("licensing:assign"), {"q": bravo.admin.email}).context["matches"] == []
    chosen = client.get(reverse("licensing:assign"), {"customer_id": alpha.operator.pk})
    assert chosen.context["form"].initial["customer_email"] == alpha.admin.email


def test_assigning_by_an_unknown_or_foreign_email_is_refused_with_nothing_changed(partner, alpha, other_partner, bravo):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    client = client_for(partner.admin)
    for email in ("nobody@example.com", bravo.admin.email):
        response = client.post(
            reverse("licensing:assign"), {"stock": "edge_storage:12", "count": "1", "customer_email": email}
        )
        assert "None of your customers has an account with this email address." in response.content.decode()
        api = client.post(
            reverse("partner-license-assign"),
            {"customer_email": email, "kind": "edge_storage", "term_months": 12},
            content_type="application/json",
        )
        assert api.status_code == 400 and "customer_email" in api.json()
    assert selectors.stock_count(partner=partner.operator, kind="edge_storage", term_months=12) == 1
    assert not License.objects.filter(customer__isnull=False).exists()


def test_the_api_assigns_by_email_and_searches_customers(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    client = client_for(partner.admin)
    found = client.get(reverse("partner-customer-list"), {"search": alpha.admin.email.upper()}).json()["results"]
    assert [c["id"] for c in found] == [alpha.operator.pk]
    response = client.post(
        reverse("partner-license-assign"),
        {"customer_email": alpha.admin.email, "kind": "edge_storage", "term_months": 12},
        content_type="application/json",
    )
    assert response.status_code == 201 and License.objects.filter(customer=alpha.operator).count() == 1


def test_api_customer_email_correction_after_an_assignment_is_a_conflict(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    client = client_for(partner.admin)
    body = {"customer_id": alpha.operator.pk, "kind": "edge_storage", "term_months": 12}
    assert client.post(reverse("partner-license-assign"), body, content_type="application/json").status_code == 201
    url = reverse("partner-customer-email", args=[alpha.operator.pk])
    response = client.post(url, {"email": "fixed@example.com"}, content_type="application/json")
    assert response.status_code == 409 and "no longer be corrected" in str(response.json())  # what is stored refuses it


def test_api_assign_needs_a_customer_by_id_or_email_as_its_schema_says(partner, alpha):
    from drf_spectacular.generators import SchemaGenerator

    assign = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["AssignRequest"]
    assert assign["anyOf"] == [{"required": ["customer_id"]}, {"required": ["customer_email"]}]
    body = {"kind": "edge_storage", "term_months": 12}
    response = client_for(partner.admin).post(reverse("partner-license-assign"), body, content_type="application/json")
    assert response.status_code == 400 and "customer_email" in response.json()
