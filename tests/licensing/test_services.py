"""Stock, customers, assignment rules and every bad input: clear errors, stock and history unchanged."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from devices.models import DeviceKind
from devices.services import camera_register
from licensing import selectors, services
from licensing.auth import temporary_password_refusal
from licensing.models import AssignmentHistory, License, LicenseKind
from tenants.models import User
from tests.factories import CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses


def _state(partner_op):
    """What must not change after a refused action: the stock and the history."""
    stock = sorted(selectors.stock_list(partner=partner_op).values_list("id", flat=True))
    assigned = sorted(License.objects.filter(customer__isnull=False).values_list("id", "customer_id", "device_id"))
    return stock, assigned, AssignmentHistory.objects.count()


def test_stock_does_not_run_until_assigned(partner, alpha, set_now):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    assert all(lic.starts_on is None and lic.ends_on is None for lic in stock)
    set_now(datetime(2025, 6, 10, 3, 0, tzinfo=UTC))  # months later
    [lic] = services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=alpha.operator,
        license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE,
    )  # fmt: skip
    assert (lic.starts_on, lic.paid_from, lic.ends_on) == (date(2025, 6, 10), date(2025, 8, 1), date(2026, 7, 31))
    assert selectors.stock_count(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, term_months=12) == 1


def test_assignment_writes_history_with_who_and_binds_the_unlicensed_camera(partner, alpha):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=alpha.operator,
        license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE,
    )  # fmt: skip
    actions = list(AssignmentHistory.objects.values_list("action", "by_id", "customer_id"))
    assert (AssignmentHistory.Action.ASSIGNED, partner.admin.pk, alpha.operator.pk) in actions
    assert selectors.camera_license_state(alpha.camera) == "active"


def test_assigning_more_than_in_stock_is_refused_with_nothing_changed(partner, alpha):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="Only 2 licenses"):
        services.stock_pick(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=3)
    assert _state(partner.operator) == before


def test_assigning_to_another_partners_customer_is_refused(partner, other_partner, alpha, bravo):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="does not belong to your company"):
        services.license_assign(
            partner=partner.operator, actor=partner.admin, customer=bravo.operator,
            license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE,
        )  # fmt: skip
    assert _state(partner.operator) == before


def test_assigning_the_same_license_twice_is_refused(partner, alpha):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    args = dict(partner=partner.operator, actor=partner.admin, customer=alpha.operator, kind=LicenseKind.EDGE_STORAGE)
    services.license_assign(license_ids=[stock[0].pk], **args)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="no longer in your stock"):
        services.license_assign(license_ids=[stock[0].pk, stock[1].pk], **args)
    assert _state(partner.operator) == before  # the second, still free license was not assigned either


def test_assigning_another_partners_stock_is_refused(partner, other_partner, alpha):
    theirs = services.stock_add(partner=other_partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    before = _state(other_partner.operator)
    with pytest.raises(ValidationError, match="no longer in your stock"):
        services.license_assign(
            partner=partner.operator, actor=partner.admin, customer=alpha.operator,
            license_ids=[theirs[0].pk], kind=LicenseKind.EDGE_STORAGE,
        )  # fmt: skip
    assert _state(other_partner.operator) == before


def test_assigning_a_license_of_the_wrong_kind_is_refused(partner, alpha):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.POS_OPTION, months=12, count=1)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="not all of the kind"):
        services.license_assign(
            partner=partner.operator, actor=partner.admin, customer=alpha.operator,
            license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE,
        )  # fmt: skip
    assert _state(partner.operator) == before


def test_a_renewal_of_another_kind_is_refused(partner, alpha):
    [current] = give_camera_licenses(alpha.operator)
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.CAMERA_DIRECT, months=12, count=1)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="same kind"):
        services.license_assign(
            partner=partner.operator, actor=partner.admin, customer=alpha.operator,
            license_ids=[stock[0].pk], kind=LicenseKind.CAMERA_DIRECT, renews=current,
        )  # fmt: skip
    assert _state(partner.operator) == before


def test_camera_direct_covers_at_most_two_cameras(partner, alpha):
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.CAMERA_DIRECT, months=12, count=3)
    before = _state(partner.operator)
    with pytest.raises(ValidationError, match="at most 2 cameras"):
        services.license_assign(
            partner=partner.operator, actor=partner.admin, customer=alpha.operator,
            license_ids=[lic.pk for lic in stock], kind=LicenseKind.CAMERA_DIRECT,
        )  # fmt: skip
    assert _state(partner.operator) == before


def test_a_renewal_within_60_days_continues_the_same_camera_after_the_end(partner, alpha, set_now):
    [current] = give_camera_licenses(alpha.operator)  # 2025-01-15 → ends 2026-02-28
    set_now(datetime(2026, 2, 1, 1, 0, tzinfo=UTC))
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    [renewal] = services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=alpha.operator,
        license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE, renews=current,
    )  # fmt: skip
    assert renewal.device == alpha.camera
    assert renewal.paid_from == date(2026, 4, 1)  # free through March, after the old end (Feb 28)
    set_now(datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    assert selectors.camera_license_state(alpha.camera) == "active"


def test_customer_with_mailed_password_must_change_it_within_24_hours(
    partner, set_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        customer, admin = services.customer_create(
            partner=partner.operator, actor=partner.admin, name="New Shop", email="shop@example.com"
        )
    assert customer.partner == partner.operator
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["shop@example.com"]
    admin.refresh_from_db()
    assert temporary_password_refusal(admin) == ""
    set_now(datetime(2025, 1, 16, 1, 1, tzinfo=UTC))
    assert "expired" in temporary_password_refusal(admin)


def test_customer_with_a_temporary_password_set_by_the_partner_gets_no_mail(partner):
    customer, admin = services.customer_create(
        partner=partner.operator, actor=partner.admin, name="Shop", email="shop2@example.com",
        temporary_password="Temp-pass-123",
    )  # fmt: skip
    assert mail.outbox == []
    assert admin.check_password("Temp-pass-123") and admin.must_change_password
    assert admin.temporary_password_expires_at is None


def test_a_customer_email_already_in_use_is_refused_and_nothing_is_created(partner, alpha):
    customers_before = selectors.customer_list(partner=partner.operator).count()
    with pytest.raises(ValidationError, match="already used"):
        services.customer_create(partner=partner.operator, actor=partner.admin, name="Dup", email=alpha.admin.email)
    assert selectors.customer_list(partner=partner.operator).count() == customers_before


def test_email_can_be_corrected_before_but_not_after_an_assignment(partner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer, _admin = services.customer_create(
            partner=partner.operator, actor=partner.admin, name="Typo", email="tpyo@example.com"
        )
        services.customer_email_correct(
            partner=partner.operator, actor=partner.admin, customer=customer, email="typo@example.com"
        )
    assert User.objects.filter(email="typo@example.com", operator=customer).exists()
    assert mail.outbox[-1].to == ["typo@example.com"]  # a new password goes to the corrected address
    give_camera_licenses(customer)
    with pytest.raises(ValidationError, match="no longer be corrected"):
        services.customer_email_correct(
            partner=partner.operator, actor=partner.admin, customer=customer, email="other@example.com"
        )
    assert User.objects.filter(email="typo@example.com").exists()


def test_registration_is_refused_without_an_assigned_license(alpha):
    with pytest.raises(ValidationError, match="No camera license"):
        camera_register(user=alpha.admin, room=alpha.room, name="New camera", mac="02:00:00:00:99:01")
    assert not selectors.cameras_without_license(customer=alpha.operator).filter(name="New camera").exists()


def test_registration_takes_a_free_license(partner, alpha):
    give_camera_licenses(alpha.operator, count=2)  # one goes to alpha's existing camera
    camera = camera_register(user=alpha.admin, room=alpha.room, name="New camera", mac="02:00:00:00:99:02")
    assert selectors.camera_license_state(camera) == "active"
    with pytest.raises(ValidationError, match="No camera license"):
        camera_register(user=alpha.admin, room=alpha.room, name="Third camera", mac="02:00:00:00:99:03")


def test_an_expired_license_leaves_registration_refused(partner, alpha, set_now):
    give_camera_licenses(alpha.operator, count=2)
    set_now(datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError):
        camera_register(user=alpha.admin, room=alpha.room, name="Late camera", mac="02:00:00:00:99:04")


def test_camera_license_state_goes_active_expired_and_back(partner, alpha, set_now):
    assert selectors.camera_license_state(alpha.camera) == "unlicensed"
    [lic] = give_camera_licenses(alpha.operator)
    assert selectors.camera_is_licensed(alpha.camera)
    set_now(lic.expires_at - timedelta(seconds=1))
    assert selectors.camera_license_state(alpha.camera) == "active"
    set_now(lic.expires_at)
    assert selectors.camera_license_state(alpha.camera) == "expired"
    give_camera_licenses(alpha.operator)
    assert selectors.camera_license_state(alpha.camera) == "active"


def test_option_counts_and_embed_quota(partner, alpha):
    assert selectors.embed_call_quota(alpha.operator) == 10_000
    give_camera_licenses(alpha.operator, kind=LicenseKind.EMBED_CALLS_ADDON, count=2)
    give_camera_licenses(alpha.operator, kind=LicenseKind.CONGESTION_OPTION, count=3)
    assert selectors.embed_call_quota(alpha.operator) == 210_000
    assert selectors.option_license_count(alpha.operator, LicenseKind.CONGESTION_OPTION) == 3
    assert selectors.option_license_count(alpha.operator, LicenseKind.POS_OPTION) == 0


def test_auto_assignment_on_expiry_from_the_partners_stock(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=6, count=1)
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    set_now(lic.expires_at + timedelta(minutes=1))
    assert selectors.camera_license_state(alpha.camera) == "expired"  # recording stops
    assert services.licenses_process_expiries() == 1
    assert services.licenses_process_expiries() == 0  # idempotent
    assert selectors.camera_license_state(alpha.camera) == "active"  # recording resumes
    new = selectors.camera_active_license(alpha.camera)
    assert new.auto_assigned and new.term_months == 12 and new.renews == lic  # same term preferred
    assert AssignmentHistory.objects.filter(license=new, action=AssignmentHistory.Action.AUTO_ASSIGNED).exists()


def test_expiry_without_stock_leaves_the_camera_expired(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at + timedelta(days=1))
    assert services.licenses_process_expiries() == 0
    assert selectors.camera_license_state(alpha.camera) == "expired"


def test_a_renewed_license_is_not_auto_replaced(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at - timedelta(days=20))
    stock = services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=alpha.operator,
        license_ids=[stock[0].pk], kind=LicenseKind.EDGE_STORAGE, renews=lic,
    )  # fmt: skip
    set_now(lic.expires_at + timedelta(minutes=1))
    services.licenses_process_expiries()
    assert selectors.stock_count(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, term_months=12) == 1


def test_a_wrongly_bound_license_can_be_moved_to_another_camera(partner, alpha):
    [lic] = give_camera_licenses(alpha.operator)
    other = CameraFactory(room=RoomFactory(building=alpha.building), name="Other cam")
    services.license_move(operator=alpha.operator, actor=alpha.admin, lic=lic, device=other)
    assert selectors.camera_license_state(other) == "active"
    assert not selectors.camera_is_licensed(alpha.camera)
    assert AssignmentHistory.objects.filter(license=lic, action=AssignmentHistory.Action.MOVED).exists()


def test_a_camera_direct_license_does_not_cover_a_camera_behind_a_recorder(partner, alpha):
    [lic] = give_camera_licenses(alpha.operator, kind=LicenseKind.CAMERA_DIRECT)
    recorder = CameraFactory(room=alpha.room, kind=DeviceKind.RECORDER, name="Recorder")
    behind = CameraFactory(room=alpha.room, parent=recorder, name="Channel 1")
    with pytest.raises(ValidationError, match="camera-direct"):
        services.license_move(operator=alpha.operator, actor=alpha.admin, lic=lic, device=behind)


def _assign_option(partner, alpha, *, renews=None):
    [stock] = services.stock_add(partner=partner.operator, kind=LicenseKind.CONGESTION_OPTION, months=12, count=1)
    [lic] = services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=alpha.operator,
        license_ids=[stock.pk], kind=LicenseKind.CONGESTION_OPTION, renews=renews,
    )  # fmt: skip
    return lic


@pytest.mark.parametrize("named", [True, False], ids=["renewal", "plain-assignment"])
def test_an_option_renewed_before_expiry_consumes_nothing_more_at_expiry(partner, alpha, set_now, named):
    """The renewal covers the slot, whether it was assigned as a renewal or plainly within the 90 days."""
    old = _assign_option(partner, alpha)
    set_now(old.expires_at - timedelta(days=20))
    renewal = _assign_option(partner, alpha, renews=old if named else None)
    services.stock_add(partner=partner.operator, kind=LicenseKind.CONGESTION_OPTION, months=12, count=2)
    stock = _state(partner.operator)[0]
    set_now(old.expires_at + timedelta(minutes=1))

    assert services.licenses_process_expiries() == 0
    assert services.licenses_process_expiries() == 0

    assert _state(partner.operator)[0] == stock
    assert not License.objects.filter(auto_assigned=True).exists()
    assert selectors.option_license_count(alpha.operator, LicenseKind.CONGESTION_OPTION) == 1
    renewal.refresh_from_db()
    assert renewal.renews == old
    if not named:
        assert AssignmentHistory.objects.filter(license=renewal, action=AssignmentHistory.Action.RENEWAL_FOUND).exists()


def test_an_option_added_long_before_an_expiry_is_another_slot_and_the_expired_one_is_replaced(partner, alpha, set_now):
    old = _assign_option(partner, alpha)
    set_now(old.expires_at - timedelta(days=120))  # before the renewal window: a second slot
    _assign_option(partner, alpha)
    services.stock_add(partner=partner.operator, kind=LicenseKind.CONGESTION_OPTION, months=12, count=1)
    set_now(old.expires_at + timedelta(minutes=1))

    assert services.licenses_process_expiries() == 1
    assert selectors.option_license_count(alpha.operator, LicenseKind.CONGESTION_OPTION) == 2
    assert License.objects.get(auto_assigned=True).renews == old


def test_a_renewed_camera_license_then_expiry_consumes_no_stock(partner, alpha, set_now):
    [lic] = give_camera_licenses(alpha.operator)
    set_now(lic.expires_at - timedelta(days=20))
    give_camera_licenses(alpha.operator)  # a plain assignment: it waits unbound (the camera is licensed)
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    stock = _state(partner.operator)[0]
    set_now(lic.expires_at + timedelta(minutes=1))

    assert services.licenses_process_expiries() == 1  # the free license is bound, nothing from stock
    assert _state(partner.operator)[0] == stock
    assert selectors.camera_license_state(alpha.camera) == "active"
