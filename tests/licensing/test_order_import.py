"""Stock from an order file: management command and admin upload; one bad line imports nothing, twice adds nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from licensing import selectors
from licensing.models import License, LicenseKind
from tests.conftest import client_for
from tests.factories import UserFactory


def _csv(*lines: str) -> str:
    return "\n".join(["order_no,partner_id,kind,months,count", *lines]) + "\n"


def _stock(partner):
    return sorted(selectors.stock_list(partner=partner).values_list("kind", "term_months", "order_ref"))


def test_command_adds_every_order_to_its_partners_stock_and_a_second_run_adds_nothing(
    partner, other_partner, tmp_path, capsys
):
    path = tmp_path / "orders.csv"
    path.write_text(
        "\ufeff"
        + _csv(
            f"PO-1,{partner.operator.pk},edge_storage,12,2",
            f"PO-2,{other_partner.operator.pk},congestion_option,6,1",
        ),
        encoding="utf-8",
    )
    call_command("import_license_orders", str(path))
    assert "2 orders imported, 0 skipped" in capsys.readouterr().out
    assert _stock(partner.operator) == [("edge_storage", 12, "PO-1")] * 2
    assert _stock(other_partner.operator) == [("congestion_option", 6, "PO-2")]
    # Stock does not run: nothing is assigned or dated.
    assert not License.objects.filter(starts_on__isnull=False).exists()

    path.write_text(
        _csv(f"PO-1,{partner.operator.pk},edge_storage,12,2", f"PO-3,{partner.operator.pk},pos_option,12,3")
    )
    call_command("import_license_orders", str(path))
    out = capsys.readouterr().out
    assert "PO-1: imported before, skipped" in out and "1 orders imported, 1 skipped" in out
    assert selectors.stock_count(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, term_months=12) == 2
    assert selectors.stock_count(partner=partner.operator, kind=LicenseKind.POS_OPTION, term_months=12) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("PO-9,{partner},edge_storage,0,1", "Line 3: the term must be 1 to 120 months."),
        ("PO-9,{partner},gold,12,1", "Line 3: unknown kind gold"),
        ("PO-9,{partner},edge_storage,12,1001", "Line 3: the count must be 1 to 1000."),
        ("PO-9,{customer},edge_storage,12,1", "Line 3: no partner with id {customer}."),
        ("PO-1,{partner},edge_storage,12,1", "Line 3: order PO-1 appears twice in the file."),
        (",{partner},edge_storage,12,x", "Line 3: the order number must be 1 to 40 characters; the count must be"),
    ],
)
def test_one_bad_line_imports_nothing_and_names_its_line(partner, alpha, tmp_path, line, message):
    ids = {"partner": partner.operator.pk, "customer": alpha.operator.pk}
    path = tmp_path / "orders.csv"
    path.write_text(_csv(f"PO-1,{partner.operator.pk},edge_storage,12,2", line.format(**ids)))
    with pytest.raises(CommandError) as err:
        call_command("import_license_orders", str(path))
    assert "Nothing was imported." in str(err.value)
    assert message.format(**ids) in str(err.value)
    assert License.objects.count() == 0


def test_a_file_without_the_columns_or_orders_is_refused(partner, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order,partner,kind\nPO-1,1,edge_storage\n")
    with pytest.raises(CommandError, match="missing: order_no, partner_id, months, count"):
        call_command("import_license_orders", str(path))
    path.write_text(_csv())
    with pytest.raises(CommandError, match="no orders"):
        call_command("import_license_orders", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_license_orders", str(tmp_path / "absent.csv"))
    assert License.objects.count() == 0


def test_staff_import_orders_in_the_admin_and_see_errors_there(partner, alpha):
    staff = UserFactory(operator=alpha.operator, email="staff@example.com", is_staff=True, is_superuser=True)
    url = reverse("admin:licensing_license_import_orders")
    client = client_for(staff)
    assert url.encode() in client.get(reverse("admin:licensing_license_changelist")).content

    bad = SimpleUploadedFile("o.csv", _csv(f"PO-7,{partner.operator.pk},edge_storage,12,0").encode())
    page = client.post(url, {"file": bad})
    assert page.status_code == 200
    assert b"Nothing was imported." in page.content and b"Line 2: the count must be 1 to 1000." in page.content
    assert License.objects.count() == 0

    good = SimpleUploadedFile("o.csv", _csv(f"PO-7,{partner.operator.pk},edge_storage,12,4").encode())
    done = client.post(url, {"file": good}, follow=True)
    assert b"1 orders imported (4 licenses), 0 imported before and skipped." in done.content
    assert selectors.stock_count(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, term_months=12) == 4


def test_operators_cannot_reach_the_order_import(partner, alpha):
    for user in (alpha.admin, partner.admin):
        page = client_for(user).get(reverse("admin:licensing_license_import_orders"))
        assert page.status_code == 302 and "/login/" in page["Location"]
