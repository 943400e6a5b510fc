"""Writes of licensing: stock, customers, assignment, camera binding, expiry, reminders, proxy login.

Every decision about time reads `clock.now()`, so tests and the demo can move time.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from devices.models import Device, DeviceKind
from tenants.access import require_admin
from tenants.models import Operator, User
from tenants.services import api_tokens_revoke, operator_create, user_email_correct

from . import clock, selectors, terms
from .models import CAMERA_KINDS, AssignmentHistory, License, LicenseKind, ProxyAction, ProxySession, ReminderSent

log = logging.getLogger(__name__)

MAX_STOCK_BATCH = 1000
TEMPORARY_PASSWORD_HOURS = 24


def _send(*, to: list[str], template: str, context: dict) -> None:
    if not to:
        return
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        context = {"site": settings.PORTAL_SITE_URL, **context}
        subject = render_to_string(f"licensing/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"licensing/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)


def _require_partner(partner: Operator) -> None:
    if not partner.is_partner:
        raise ValidationError(_("Only a partner can do this."), code="not_partner")


def _require_own_customer(partner: Operator, customer: Operator) -> None:
    if customer.kind != Operator.Kind.CUSTOMER or customer.partner_id != partner.pk:
        raise ValidationError(_("This customer does not belong to your company."), code="other_partner")


# ---------------------------------------------------------------- stock


@transaction.atomic
def stock_add(*, partner: Operator, kind: str, months: int, count: int) -> list[License]:
    """Put `count` licenses of `kind` with a paid term of `months` into the partner's stock.
    Their term does not run until they are assigned."""
    _require_partner(partner)
    if kind not in LicenseKind.values:
        raise ValidationError({"kind": [_("Choose a valid license kind.")]})
    if not 1 <= months <= terms.MAX_TERM_MONTHS:
        raise ValidationError({"months": [_("The term must be 1 to %(max)d months.") % {"max": terms.MAX_TERM_MONTHS}]})
    if not 1 <= count <= MAX_STOCK_BATCH:
        raise ValidationError({"count": [_("Add 1 to %(max)d licenses at a time.") % {"max": MAX_STOCK_BATCH}]})
    now = clock.now()
    return License.objects.bulk_create(
        [License(kind=kind, term_months=months, partner=partner, created_at=now) for _i in range(count)]
    )


ORDER_COLUMNS = ("order_no", "partner_id", "kind", "months", "count")
MAX_ORDER_ROWS = 1000


@dataclass(frozen=True)
class OrderImport:
    added: dict[str, int]  # order number -> licenses added
    skipped: list[str]  # order numbers imported before


def _order_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    missing = [name for name in ORDER_COLUMNS if name not in header]
    if missing:
        raise ValidationError(
            _("The file needs the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ", ".join(ORDER_COLUMNS), "missing": ", ".join(missing)}
        )
    reader.fieldnames = header
    rows = [(reader.line_num, row) for row in reader if any((value or "").strip() for value in row.values())]
    if not rows:
        raise ValidationError(_("The file holds no orders."))
    if len(rows) > MAX_ORDER_ROWS:
        raise ValidationError(_("Import at most %(max)d orders at a time.") % {"max": MAX_ORDER_ROWS})
    return rows


@transaction.atomic
def orders_import(*, text: str) -> OrderImport:
    """Add the licenses of an order file (CSV: order_no, partner_id, kind, months, count) to the partners' stock.

    Every line is checked first; one bad line imports nothing and every problem is reported with its
    line number. An order number imported before is skipped, so importing the same file twice is safe."""
    rows = _order_rows(text)
    errors: list[str] = []
    seen: set[str] = set()
    partners = {str(p.pk): p for p in Operator.objects.filter(kind=Operator.Kind.PARTNER)}
    orders: list[tuple[str, Operator, str, int, int]] = []
    for line, row in rows:
        value = {name: (row.get(name) or "").strip() for name in ORDER_COLUMNS}
        problems = []
        order_no = value["order_no"]
        if not order_no or len(order_no) > 40:
            problems.append(_("the order number must be 1 to 40 characters"))
        elif order_no in seen:
            problems.append(_("order %(order)s appears twice in the file") % {"order": order_no})
        seen.add(order_no)
        partner = partners.get(value["partner_id"])
        if partner is None:
            problems.append(_("no partner with id %(id)s") % {"id": value["partner_id"] or "-"})
        if value["kind"] not in LicenseKind.values:
            problems.append(
                _("unknown kind %(kind)s (use one of %(kinds)s)")
                % {"kind": value["kind"] or "-", "kinds": ", ".join(LicenseKind.values)}
            )
        months = int(value["months"]) if value["months"].isdigit() else 0
        if not 1 <= months <= terms.MAX_TERM_MONTHS:
            problems.append(_("the term must be 1 to %(max)d months") % {"max": terms.MAX_TERM_MONTHS})
        count = int(value["count"]) if value["count"].isdigit() else 0
        if not 1 <= count <= MAX_STOCK_BATCH:
            problems.append(_("the count must be 1 to %(max)d") % {"max": MAX_STOCK_BATCH})
        if problems:
            errors.append(_("Line %(line)d: %(problems)s.") % {"line": line, "problems": "; ".join(problems)})
        else:
            orders.append((order_no, partner, value["kind"], months, count))
    if errors:
        raise ValidationError(errors)
    done = set(
        License.objects.filter(order_ref__in=[o[0] for o in orders]).values_list("order_ref", flat=True).distinct()
    )
    now = clock.now()
    added: dict[str, int] = {}
    for order_no, partner, kind, months, count in orders:
        if order_no in done:
            continue
        License.objects.bulk_create(
            [
                License(kind=kind, term_months=months, partner=partner, created_at=now, order_ref=order_no)
                for _i in range(count)
            ]
        )
        added[order_no] = count
    log.info("order import: %d orders added, %d skipped", len(added), len(done))
    return OrderImport(added=added, skipped=sorted(done))


def stock_pick(*, partner: Operator, kind: str, months: int, count: int) -> list[int]:
    """Ids of `count` licenses of one kind and term from the stock, for the confirmation screen."""
    if kind not in LicenseKind.values:
        raise ValidationError({"kind": [_("Choose a valid license kind.")]})
    if count < 1:
        raise ValidationError({"count": [_("Assign at least one license.")]})
    ids = list(
        selectors.stock_list(partner=partner).filter(kind=kind, term_months=months).values_list("id", flat=True)[:count]
    )
    if len(ids) < count:
        raise ValidationError(
            {
                "count": [
                    ValidationError(
                        _("Only %(available)d licenses of this kind and term are in stock; you asked for %(count)d.")
                        % {"available": len(ids), "count": count},
                        code="stock_short",
                    )
                ]
            }
        )
    return ids


# ---------------------------------------------------------------- customers


def _random_password() -> str:
    # Letters, digits and an allowed symbol, so it passes every password validator.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _i in range(12)) + secrets.choice("@-_!.$%&+#") + "7"


def _issue_mailed_password(user: User) -> None:
    password = _random_password()
    user.set_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at = clock.now() + timedelta(hours=TEMPORARY_PASSWORD_HOURS)
    user.save(update_fields=["password", "must_change_password", "temporary_password_expires_at"])
    api_tokens_revoke(user=user)  # a new password: tokens made under the old one go
    context = {"user": user, "password": password, "hours": TEMPORARY_PASSWORD_HOURS}
    email = user.email
    transaction.on_commit(lambda: _send(to=[email], template="customer_welcome", context=context))


@transaction.atomic
def customer_create(
    *, partner: Operator, actor: User, name: str, email: str, temporary_password: str | None = None
) -> tuple[Operator, User]:
    """A customer operator of `partner` with its first admin.

    With `temporary_password` the partner tells the customer the password itself (changed at
    first login). Without one a random password is mailed, which must be changed within 24 hours
    (afterwards login refuses it and the password-reset flow still works). PermissionDenied unless
    `actor` is an admin of the partner."""
    require_admin(actor)
    _require_partner(partner)
    customer, admin = operator_create(
        name=name,
        admin_email=email,
        password=temporary_password or _random_password(),
        kind=Operator.Kind.CUSTOMER,
        partner=partner,
    )
    if not temporary_password:
        _issue_mailed_password(admin)
    return customer, admin


@transaction.atomic
def customer_email_correct(*, partner: Operator, actor: User, customer: Operator, email: str) -> User:
    """Fix a mistyped customer email. Only before any license is assigned (docs/product.md §7.3); a
    mailed password goes again, to the corrected address. PermissionDenied unless `actor` is an admin."""
    require_admin(actor)
    _require_own_customer(partner, customer)
    Operator.objects.select_for_update().get(pk=customer.pk)  # no assignment can slip in meanwhile
    if selectors.customer_has_licenses(customer=customer):
        raise ValidationError(
            _("The email address can no longer be corrected: licenses are already assigned to this customer."),
            code="licenses_assigned",
        )
    admin = selectors.customer_admin(customer=customer)
    if admin is None:
        raise ValidationError(_("This customer has no account to correct."), code="no_account")
    mailed = admin.temporary_password_expires_at is not None
    admin = user_email_correct(target=admin, email=email)
    if mailed:
        _issue_mailed_password(admin)
    return admin


# ---------------------------------------------------------------- assignment


def _history(lic: License, action: str, *, by: User | None, proxy: ProxySession | None = None, note: str = "") -> None:
    AssignmentHistory.objects.create(
        license=lic,
        partner_id=lic.partner_id,
        customer_id=lic.customer_id,
        action=action,
        at=clock.now(),
        by=by,
        proxy_session=proxy,
        device_name=lic.device.name if lic.device_id else "",
        note=note[:200],
    )


def _behind_recorder(device: Device) -> bool:
    return device.parent_id is not None and device.parent.kind == DeviceKind.RECORDER


def _camera_can_take(lic: License, device: Device, *, at: datetime) -> bool:
    """Camera-direct: no edge recorder, and at most two cameras on camera-direct per customer."""
    if lic.kind not in CAMERA_KINDS:
        return False
    if lic.kind != LicenseKind.CAMERA_DIRECT:
        return True
    if _behind_recorder(device):
        return False
    day = selectors.today(at)
    direct_devices = set(
        License.objects.filter(
            customer=lic.customer, kind=LicenseKind.CAMERA_DIRECT, device__isnull=False, ends_on__gte=day
        )
        .exclude(pk=lic.pk)
        .values_list("device_id", flat=True)
    )
    return device.pk in direct_devices or len(direct_devices) < selectors.CAMERA_DIRECT_MAX_CAMERAS


def _start_term(lic: License, *, customer: Operator, at: datetime, current_ends_on=None) -> None:
    term = terms.license_term(assigned_on=terms.local_date(at), months=lic.term_months, current_ends_on=current_ends_on)
    lic.customer = customer
    lic.assigned_at = at
    lic.starts_on, lic.paid_from, lic.ends_on = term.starts_on, term.paid_from, term.ends_on


@transaction.atomic
def license_assign(
    *,
    partner: Operator,
    actor: User | None,
    customer: Operator,
    license_ids: list[int],
    kind: str,
    renews: License | None = None,
    proxy: ProxySession | None = None,
) -> list[License]:
    """Assign licenses from `partner`'s stock to its `customer`. Irreversible.

    Refused with nothing changed: a license not in this partner's stock (another partner's, already
    assigned, assigned twice), a license of another kind than confirmed, a customer of another
    partner, a renewal of a different kind, or more than two cameras on camera-direct.
    Camera licenses go straight to cameras that have none (that restores a lapsed camera); with
    `renews`, the one license continues that license's camera or option slot.
    """
    _require_partner(partner)
    _require_own_customer(partner, customer)
    if kind not in LicenseKind.values:
        raise ValidationError(_("Choose a valid license kind."), code="kind")
    ids = sorted({int(i) for i in license_ids})
    if not ids:
        raise ValidationError(_("Choose at least one license to assign."), code="empty")
    Operator.objects.select_for_update().get(pk=customer.pk)  # serialize assignments per customer
    licenses = list(License.objects.select_for_update().filter(pk__in=ids, partner=partner, customer__isnull=True))
    if len(licenses) != len(ids):
        raise ValidationError(
            _(
                "Some of the chosen licenses are no longer in your stock (already assigned?). "
                "Nothing was assigned; choose the licenses again."
            ),
            code="not_in_stock",
        )
    if any(lic.kind != kind for lic in licenses):
        raise ValidationError(
            _("The chosen licenses are not all of the kind you confirmed. Nothing was assigned."), code="wrong_kind"
        )
    now = clock.now()
    if renews is not None:
        if len(licenses) != 1:
            raise ValidationError(_("A renewal assigns exactly one license."), code="renewal_count")
        if renews.customer_id != customer.pk or renews.partner_id != partner.pk:
            raise ValidationError(_("The license to renew does not belong to this customer."), code="renewal_owner")
        if renews.kind != kind:
            raise ValidationError(
                _("A renewal must be of the same kind as the license it renews (%(kind)s).")
                % {"kind": renews.get_kind_display()},
                code="wrong_kind",
            )
        if hasattr(renews, "renewed_by"):
            raise ValidationError(_("This license has already been renewed."), code="renewed_twice")
    if kind == LicenseKind.CAMERA_DIRECT and renews is None:
        slots = (
            selectors.direct_camera_count(customer=customer, at=now)
            + selectors.free_camera_licenses(customer=customer, at=now).filter(kind=LicenseKind.CAMERA_DIRECT).count()
        )
        if slots + len(licenses) > selectors.CAMERA_DIRECT_MAX_CAMERAS:
            raise ValidationError(
                _(
                    "Camera-direct licenses work for at most %(max)d cameras without an edge recorder; this "
                    "customer would have %(total)d. Assign edge-storage licenses instead."
                )
                % {"max": selectors.CAMERA_DIRECT_MAX_CAMERAS, "total": slots + len(licenses)},
                code="camera_direct_limit",
            )

    lapsed = list(selectors.cameras_without_license(customer=customer, at=now)) if kind in CAMERA_KINDS else []
    for lic in licenses:
        if renews is not None:
            _start_term(lic, customer=customer, at=now, current_ends_on=renews.ends_on)
            lic.renews, lic.device = renews, renews.device
        else:
            _start_term(lic, customer=customer, at=now)
        lic.assigned_by = actor
        lic.save()
        _history(lic, AssignmentHistory.Action.ASSIGNED, by=actor, proxy=proxy)
        if lic.device_id is None and lic.kind in CAMERA_KINDS:
            camera = next((c for c in lapsed if _camera_can_take(lic, c, at=now)), None)
            if camera is not None:
                lapsed.remove(camera)
                _bind(lic, camera, by=actor, proxy=proxy)
    return licenses


def _bind(
    lic: License,
    device: Device,
    *,
    by: User | None,
    proxy: ProxySession | None = None,
    note: str = "",
    action: str = AssignmentHistory.Action.BOUND,
) -> None:
    lic.device = device
    lic.save(update_fields=["device", "renews"])
    _history(lic, action, by=by, proxy=proxy, note=note)


@transaction.atomic
def license_bind_new_camera(*, device: Device) -> License | None:
    """Give a newly registered camera one of its operator's free licenses (called on camera creation)."""
    if device.kind != DeviceKind.CAMERA:
        return None
    lic = selectors.usable_camera_license(customer=device.operator, behind_recorder=_behind_recorder(device))
    if lic is None:
        return None
    lic = License.objects.select_for_update().get(pk=lic.pk)
    if lic.device_id is not None:  # taken by a concurrent registration; the check at the start told the user
        return None
    _bind(lic, device, by=None)
    return lic


@transaction.atomic
def license_move(
    *, operator: Operator, actor: User, lic: License, device: Device, proxy: ProxySession | None = None
) -> License:
    """Move a camera license to another camera of the same customer (e.g. a wrongly auto-assigned one).
    The term does not change. The target must have no active license of its own."""
    lic = License.objects.select_for_update().get(pk=lic.pk)
    if lic.customer_id != operator.pk or device.operator_id != operator.pk:
        raise ValidationError(_("This license or camera does not belong to your account."), code="owner")
    now = clock.now()
    if lic.kind not in CAMERA_KINDS:
        raise ValidationError(_("Only camera licenses can be moved to a camera."), code="wrong_kind")
    if lic.state_on(selectors.today(now)) != "active":
        raise ValidationError(_("An expired license cannot be moved."), code="expired")
    if device.kind != DeviceKind.CAMERA or lic.device_id == device.pk:
        raise ValidationError(_("Choose another camera."), code="same_camera")
    if selectors.camera_is_licensed(device, now):
        raise ValidationError(_("That camera already has an active license."), code="target_licensed")
    if not _camera_can_take(lic, device, at=now):
        raise ValidationError(
            _("A camera-direct license cannot cover this camera (edge recorder, or two cameras already)."),
            code="camera_direct_limit",
        )
    old = lic.device
    note = _("from %(name)s") % {"name": old.name} if old else ""
    _bind(lic, device, by=actor, proxy=proxy, note=note, action=AssignmentHistory.Action.MOVED)
    return lic


# ---------------------------------------------------------------- expiry and auto-assignment


def licenses_process_expiries(*, now: datetime | None = None) -> int:
    """Handle each expired license once: a lapsed camera takes a free license of its customer, else
    one of the right kind from the partner's stock is auto-assigned (docs/product.md §7.7; 期限切れの際は自動で
    割り当て). Returns how many licenses were auto-assigned or bound."""
    now = now or clock.now()
    done = 0
    for lic_id in list(selectors.expired_unprocessed(at=now).values_list("id", flat=True)[:500]):
        done += _process_expiry(lic_id, now)
    return done


@transaction.atomic
def _process_expiry(lic_id: int, now: datetime) -> int:
    # Claim first: a second worker or a second run finds it processed and does nothing.
    if not License.objects.filter(pk=lic_id, expiry_processed_at__isnull=True).update(expiry_processed_at=now):
        return 0
    lic = License.objects.select_related("customer", "partner", "device").get(pk=lic_id)
    if License.objects.filter(renews=lic).exists():
        return 0  # already renewed by hand
    if lic.kind in CAMERA_KINDS:
        if lic.device is None or selectors.camera_is_licensed(lic.device, now):
            return 0
        free = selectors.usable_camera_license(
            customer=lic.customer, behind_recorder=_behind_recorder(lic.device), at=now
        )
        if free is not None:
            free.renews = lic
            _bind(free, lic.device, by=None, note=_("on expiry of #%(id)d") % {"id": lic.pk})
            return 1
    else:
        covering = selectors.option_renewal_candidate(lic=lic, at=now)
        if covering is not None:  # the option is covered already: record the renewal, take nothing from stock
            covering.renews = lic
            covering.save(update_fields=["renews"])
            _history(
                covering,
                AssignmentHistory.Action.RENEWAL_FOUND,
                by=None,
                note=_("renews #%(id)d, which expired") % {"id": lic.pk},
            )
            return 0
    stock = selectors.stock_list(partner=lic.partner).filter(kind=lic.kind).select_for_update(skip_locked=True)
    # Prefer the same term as the expired license, then the shortest.
    pick = stock.filter(term_months=lic.term_months).first() or stock.order_by("term_months", "id").first()
    if pick is None:
        log.info("license %s expired; partner %s has no %s in stock", lic.pk, lic.partner_id, lic.kind)
        return 0
    _start_term(pick, customer=lic.customer, at=now)
    pick.auto_assigned, pick.assigned_by, pick.renews, pick.device = True, None, lic, lic.device
    pick.save()
    _history(pick, AssignmentHistory.Action.AUTO_ASSIGNED, by=None, note=_("on expiry of #%(id)d") % {"id": lic.pk})
    return 1


# ---------------------------------------------------------------- reminders


def reminders_send(*, now: datetime | None = None) -> int:
    """Mail the expiry reminders that are due: partner 90/60/30/14 days and 24 h before, customer
    14 days and 1 day before. Each step is claimed by inserting its ReminderSent row (unique per
    license and step) before mailing, so a second run, a concurrent run or a late run sends it once."""
    now = now or clock.now()
    sent = 0
    for lic in selectors.reminder_candidates(at=now):
        done = set(lic.reminders.values_list("step", flat=True))
        for decision in terms.due_reminders(ends_on=lic.ends_on, now=now, done=done):
            sent += _reminder_claim_and_send(lic, decision, now)
    return sent


def _reminder_claim_and_send(lic: License, decision: terms.ReminderDecision, now: datetime) -> int:
    step = decision.step
    try:
        with transaction.atomic():
            claim = ReminderSent.objects.create(
                license=lic, step=step.code, ends_on=lic.ends_on, claimed_at=now, skipped=not decision.send
            )
    except IntegrityError:
        return 0  # another run got there first
    if not decision.send:
        return 0
    audience = lic.partner if step.audience == terms.PARTNER else lic.customer
    to = selectors.operator_admin_emails(operator=audience)
    context = {
        "license": lic,
        "customer": lic.customer,
        "partner": lic.partner,
        "days": terms.days_left(ends_on=lic.ends_on, now=now),
        "expires_at": lic.expires_at,
        "renewal": getattr(lic, "renewed_by", None),
        "audience": step.audience,
    }
    try:
        _send(to=to, template="expiry_reminder", context=context)
    except Exception:
        claim.delete()  # not sent: let the next run try again
        raise
    ReminderSent.objects.filter(pk=claim.pk).update(mailed_to=", ".join(to)[:1000])
    return 1


# ---------------------------------------------------------------- proxy login


@transaction.atomic
def proxy_start(*, partner_user: User, customer: Operator, ip: str | None) -> ProxySession:
    """A partner admin starts acting as one of its customers. Audited; the customer sees it."""
    partner = partner_user.operator
    _require_partner(partner)
    _require_own_customer(partner, customer)
    if not partner_user.is_admin:
        raise ValidationError(_("Only administrators can do this."), code="not_admin")
    return ProxySession.objects.create(
        partner=partner,
        customer=customer,
        user=partner_user,
        user_email=partner_user.email,
        ip=ip,
        started_at=clock.now(),
    )


def proxy_end(*, session: ProxySession) -> None:
    ProxySession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=clock.now())


def proxy_record_action(*, session: ProxySession, method: str, path: str, status: int) -> None:
    ProxyAction.objects.create(session=session, at=clock.now(), method=method[:8], path=path[:300], status=status)
