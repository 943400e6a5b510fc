"""Reads of licenses, scoped to the operator asking, and the license checks other apps call.

Who sees a license: the partner that holds it (`partner`) and, once it is assigned, the customer
that uses it (`customer`). Nobody else; a partner sees another partner's customers and licenses
as missing (404). Recording, live view, congestion and embeds ask `camera_license_state`,
`option_license_count` and `embed_call_quota`, always with the licensing clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from devices.models import Device, DeviceKind
from tenants.access import get_visible_or_404, require_admin
from tenants.models import Operator, Role, User

from . import clock, terms
from .models import CAMERA_KINDS, AssignmentHistory, License, LicenseKind, ProxySession

CAMERA_DIRECT_MAX_CAMERAS = 2
EMBED_CALLS_BASE = 10_000
EMBED_CALLS_PER_ADDON = 100_000


def today(at: datetime | None = None) -> date:
    """The licensing day (Asia/Tokyo) at `at`, by default now on the licensing clock."""
    return terms.local_date(at or clock.now())


def _active(qs: QuerySet[License], day: date) -> QuerySet[License]:
    return qs.filter(customer__isnull=False, starts_on__lte=day, ends_on__gte=day)


# ---------------------------------------------------------------- partners and customers


def access_partner(*, operator: Operator | None) -> Operator:
    """The partner console's operator. Security guarantee: Http404 for any operator that is not a
    partner (customers, and a partner user acting as a customer, never reach partner pages)."""
    if operator is None or not operator.is_partner:
        raise Http404
    return operator


def customer_list(*, partner: Operator) -> QuerySet[Operator]:
    """Only the customers this partner created."""
    return Operator.objects.filter(kind=Operator.Kind.CUSTOMER, partner=partner).order_by("name", "id")


def customer_search(*, partner: Operator, query: str, limit: int = 20) -> list[tuple[Operator, str]]:
    """This partner's customers whose account emails or name contain `query`, with the admin's email
    (the assignment flow's search; a partner may have hundreds of customers). Empty query: none."""
    query = query.strip()
    if len(query) < 2:
        return []
    matching = User.objects.filter(operator=OuterRef("pk"), email__icontains=query)
    customers = customer_list(partner=partner).filter(Q(name__icontains=query) | Exists(matching))[:limit]
    found = []
    for customer in customers:
        admin = customer_admin(customer=customer)
        found.append((customer, admin.email if admin else ""))
    return found


def customer_by_email(*, partner: Operator, email: str) -> Operator | None:
    """The customer of `partner` one of whose accounts has exactly this email (None: none of its customers)."""
    user = (
        User.objects.filter(email__iexact=email.strip(), operator__in=customer_list(partner=partner))
        .select_related("operator")
        .first()
    )
    return user.operator if user else None


def access_customer(*, partner: Operator, user: User, pk, write: bool = False) -> Operator:
    """A customer of `partner`. Security guarantee: Http404 for a customer of another partner, for
    any partner or missing id, and when `partner` is not a partner; 403 for a non-admin writing."""
    access_partner(operator=partner)
    customer = get_visible_or_404(customer_list(partner=partner), pk)
    if write:
        require_admin(user)
    return customer


def customer_admin(*, customer: Operator) -> User | None:
    """The account the partner created with the customer (its first admin)."""
    return User.objects.filter(operator=customer, role=Role.ADMIN).order_by("date_joined", "id").first()


def operator_admin_emails(*, operator: Operator) -> list[str]:
    return list(
        User.objects.filter(operator=operator, role=Role.ADMIN, is_active=True)
        .order_by("id")
        .values_list("email", flat=True)
    )


# ---------------------------------------------------------------- licenses


def license_list(*, operator: Operator) -> QuerySet[License]:
    """Every license `operator` may see: a partner its stock and what it assigned; a customer what it holds."""
    qs = License.objects.select_related("customer", "partner", "device", "device__room")
    if operator.is_partner:
        return qs.filter(partner=operator)
    return qs.filter(customer=operator)


def access_license(*, operator: Operator, user: User, pk, write: bool = False) -> License:
    """One license. Security guarantee: Http404 unless `operator` is its partner or its customer
    (missing and forbidden look the same); 403 for a non-admin writing."""
    lic = get_visible_or_404(license_list(operator=operator), pk)
    if write:
        require_admin(user)
    return lic


def stock_list(*, partner: Operator) -> QuerySet[License]:
    return License.objects.filter(partner=partner, customer__isnull=True).order_by("kind", "term_months", "id")


def stock_summary(*, partner: Operator) -> list[dict]:
    """Stock by kind and term: [{"kind", "kind_label", "term_months", "count"}]."""
    labels = dict(LicenseKind.choices)
    rows = (
        stock_list(partner=partner)
        .values("kind", "term_months")
        .annotate(count=Count("id"))
        .order_by("kind", "term_months")
    )
    return [{**row, "kind_label": labels.get(row["kind"], row["kind"])} for row in rows]


def stock_count(*, partner: Operator, kind: str, term_months: int) -> int:
    return stock_list(partner=partner).filter(kind=kind, term_months=term_months).count()


def assignment_history(*, operator: Operator) -> QuerySet[AssignmentHistory]:
    qs = AssignmentHistory.objects.select_related("license", "customer", "by")
    if operator.is_partner:
        return qs.filter(partner=operator)
    return qs.filter(customer=operator)


def upcoming_expiries(*, partner: Operator, days: int = 90, at: datetime | None = None) -> QuerySet[License]:
    """Assigned licenses of this partner's customers ending within `days` (not yet expired)."""
    day = today(at)
    return (
        License.objects.filter(partner=partner, customer__isnull=False, ends_on__gte=day)
        .filter(ends_on__lte=day + timedelta(days=days))
        .select_related("customer", "device", "renewed_by")
        .order_by("ends_on", "id")
    )


def proxy_sessions_for(*, operator: Operator) -> QuerySet[ProxySession]:
    """Proxy logins into `operator` (as the customer) or made by its users (as the partner)."""
    qs = ProxySession.objects.select_related("customer", "partner").prefetch_related("actions")
    if operator.is_partner:
        return qs.filter(partner=operator)
    return qs.filter(customer=operator)


# ---------------------------------------------------------------- checks other apps call


def camera_active_license(device: Device, at: datetime | None = None) -> License | None:
    day = today(at)
    return _active(License.objects.filter(device=device, customer=device.operator), day).order_by("-ends_on").first()


def camera_license_state(device: Device, at: datetime | None = None) -> str:
    """ "active", "expired" (it had a license that ran out) or "unlicensed" (it never had one).

    Recording, live view, remote playback, event notification and remote maintenance run only
    while this is "active"; callers ask at the moment they do the work, not only when drawing pages.
    """
    if camera_active_license(device, at) is not None:
        return "active"
    if License.objects.filter(device=device, customer=device.operator).exists():
        return "expired"
    return "unlicensed"


def with_license_state(devices: QuerySet[Device], at: datetime | None = None) -> QuerySet[Device]:
    """`devices` annotated with `license_state`, decided as `camera_license_state` decides it, inside
    the same query (a list asks once, not once per camera): a license of the device's own operator
    active today is "active", one that ran out "expired", none "unlicensed"."""
    active, held = own_license_exists(at)
    return devices.annotate(
        license_state=Case(
            When(active, then=Value("active")),
            When(held, then=Value("expired")),
            default=Value("unlicensed"),
            output_field=CharField(),
        )
    )


def own_license_exists(at: datetime | None = None) -> tuple[Exists, Exists]:
    """For annotations of devices: (a license of the device's own operator active today, any license
    of it), the two tests `camera_license_state` makes, for a caller that needs them in a Case of its
    own (an annotation that named `license_state` would repeat both subqueries once per mention)."""
    own = License.objects.filter(device=OuterRef("pk"), customer=OuterRef("operator"))
    return Exists(_active(own, today(at))), Exists(own)


def camera_is_licensed(device: Device, at: datetime | None = None) -> bool:
    return camera_active_license(device, at) is not None


def maintenance_refusal(*, device: Device, at: datetime | None = None) -> str:
    """Why remote maintenance (trouble refresh, exchange, stream settings) of `device` stops: its camera's
    license expired or is missing (docs/product.md §7.8). A sensor follows its camera, an edge recorder
    stops when none of its channels is licensed. An operator without any license is left alone."""
    camera = device.parent if device.kind == DeviceKind.SENSOR and device.parent_id else device
    if camera.kind == DeviceKind.RECORDER:
        channels = list(camera.children.filter(kind=DeviceKind.CAMERA))
        states = {camera_license_state(channel, at) for channel in channels}
        if not channels or "active" in states:
            return ""
        state = "expired" if "expired" in states else "unlicensed"
    elif camera.kind == DeviceKind.CAMERA:
        state = camera_license_state(camera, at)
    else:
        return ""
    if state == "expired":
        return _(
            "The camera's license has expired: remote maintenance (trouble refresh, exchange, stream "
            "settings) is stopped. Assign a license to resume."
        )
    if state == "unlicensed" and customer_has_licenses(customer=camera.operator):
        return _(
            "The camera has no license: remote maintenance (trouble refresh, exchange, stream settings) "
            "is stopped. Assign a license to resume."
        )
    return ""


def camera_license_states(*, operator: Operator, at: datetime | None = None) -> dict[int, str]:
    """{camera id: state} for every camera of `operator`, in two queries (for lists)."""
    day = today(at)
    camera_ids = list(Device.objects.for_operator(operator).filter(kind=DeviceKind.CAMERA).values_list("id", flat=True))
    mine = License.objects.filter(customer=operator, device_id__in=camera_ids)
    active = set(_active(mine, day).values_list("device_id", flat=True))
    ever = set(mine.values_list("device_id", flat=True))
    return {cid: "active" if cid in active else ("expired" if cid in ever else "unlicensed") for cid in camera_ids}


def option_license_count(operator: Operator, kind: str, at: datetime | None = None) -> int:
    """How many option licenses of `kind` `operator` holds now. A renewal running alongside the
    license it renews is the same slot, so it is not counted twice."""
    if kind in CAMERA_KINDS:
        raise ValueError("camera licenses are counted per camera: use camera_license_state")
    active = _active(License.objects.filter(customer=operator, kind=kind), today(at))
    return active.exclude(renews_id__in=active.values("id")).count()


def option_renewal_candidate(*, lic: License, at: datetime | None = None) -> License | None:
    """An active license of the same option and customer that already covers `lic`'s slot after it
    expires: assigned during the renewal window before `lic`'s expiry (terms.RENEWAL_WINDOW_DAYS, the
    partner's first reminder), renewing no other license and renewed by none. The expiry job records it
    as the renewal instead of taking another one from stock (docs/product.md §7.7)."""
    if lic.kind in CAMERA_KINDS or lic.customer_id is None:
        return None
    window_start = lic.expires_at - timedelta(days=terms.RENEWAL_WINDOW_DAYS)
    return (
        _active(License.objects.filter(customer_id=lic.customer_id, kind=lic.kind), today(at))
        .exclude(pk=lic.pk)
        .filter(
            renews__isnull=True, renewed_by__isnull=True, assigned_at__gte=window_start, assigned_at__lt=lic.expires_at
        )
        .order_by("assigned_at", "id")
        .first()
    )


def embed_call_quota(operator: Operator, at: datetime | None = None) -> int:
    """Embed image calls allowed per month: 10,000 per contract plus 100,000 per active add-on."""
    return EMBED_CALLS_BASE + EMBED_CALLS_PER_ADDON * option_license_count(operator, LicenseKind.EMBED_CALLS_ADDON, at)


def free_camera_licenses(*, customer: Operator, at: datetime | None = None) -> QuerySet[License]:
    """Assigned, unexpired camera licenses not yet covering a camera, the soonest-ending first."""
    return _active(
        License.objects.filter(customer=customer, kind__in=CAMERA_KINDS, device__isnull=True), today(at)
    ).order_by("ends_on", "id")


def direct_camera_count(*, customer: Operator, at: datetime | None = None) -> int:
    active = _active(License.objects.filter(customer=customer, kind=LicenseKind.CAMERA_DIRECT), today(at))
    return active.filter(device__isnull=False).values("device_id").distinct().count()


def usable_camera_license(
    *, customer: Operator, behind_recorder: bool = False, at: datetime | None = None
) -> License | None:
    """The free license a new camera would take: camera-direct only for a camera without an edge
    recorder and while fewer than two cameras use camera-direct; otherwise edge storage."""
    direct_ok = not behind_recorder and direct_camera_count(customer=customer, at=at) < CAMERA_DIRECT_MAX_CAMERAS
    candidates = free_camera_licenses(customer=customer, at=at)
    if not direct_ok:
        candidates = candidates.exclude(kind=LicenseKind.CAMERA_DIRECT)
    return candidates.first()


def camera_license_require(*, operator: Operator, at: datetime | None = None, behind_recorder: bool = False) -> None:
    """Device registration needs an assigned license (docs/product.md §7.9).

    Raises ValidationError unless `operator` holds an assigned, unexpired camera license that can
    cover one more camera (behind an edge recorder: an edge-storage one). Registered as a
    devices.hooks camera check (licensing/apps.py): devices.services.camera_register and
    channel_add call it before they write.
    """
    if usable_camera_license(customer=operator, at=at, behind_recorder=behind_recorder) is not None:
        return
    if behind_recorder and free_camera_licenses(customer=operator, at=at).exists():
        raise ValidationError(
            _("A channel of an edge recorder needs an edge-storage license; only camera-direct licenses are free."),
            code="recorder_needs_edge_storage",
        )
    if free_camera_licenses(customer=operator, at=at).exists():
        raise ValidationError(
            _(
                "Camera-direct licenses cover at most %(max)d cameras without an edge recorder. "
                "Ask your partner for an edge-storage license to register another camera."
            )
            % {"max": CAMERA_DIRECT_MAX_CAMERAS},
            code="camera_direct_limit",
        )
    raise ValidationError(
        _(
            "No camera license is available for a new camera. Ask your partner to assign a license to "
            "this account, then register the camera."
        ),
        code="no_license",
    )


def cameras_without_license(*, customer: Operator, at: datetime | None = None) -> QuerySet[Device]:
    """The customer's cameras with no active license (expired or never licensed), oldest first."""
    day = today(at)
    covered = _active(License.objects.filter(customer=customer, device__isnull=False), day).values("device_id")
    return (
        Device.objects.for_operator(customer)
        .filter(kind=DeviceKind.CAMERA)
        .exclude(id__in=covered)
        .select_related("parent")
        .order_by("created_at", "id")
    )


def customer_has_licenses(*, customer: Operator) -> bool:
    return License.objects.filter(customer=customer).exists()


def holds_licenses(operator_ref: str = "operator") -> Exists:
    """For annotations: whether the operator at `operator_ref` (an OuterRef path) holds any license,
    as `customer_has_licenses` decides it for one."""
    return Exists(License.objects.filter(customer=OuterRef(operator_ref)))


def expired_unprocessed(*, at: datetime | None = None) -> QuerySet[License]:
    """Assigned licenses past their end whose expiry the job has not handled yet."""
    return License.objects.filter(
        customer__isnull=False, ends_on__lt=today(at), expiry_processed_at__isnull=True
    ).order_by("ends_on", "id")


def reminder_candidates(*, at: datetime | None = None) -> QuerySet[License]:
    """Assigned licenses that may owe a reminder: not expired and ending within 91 days."""
    day = today(at)
    return (
        License.objects.filter(customer__isnull=False, ends_on__gte=day - timedelta(days=1))
        .filter(ends_on__lte=day + timedelta(days=91))
        .select_related("customer", "partner", "device", "renewed_by")
        .order_by("ends_on", "id")
    )
