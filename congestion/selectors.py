"""Reads of congestion data, always scoped to the operator asking.

Congestion cameras are the operator's OWN cameras only (a camera shared to it cannot be analysed by
it: only the owner enables congestion). Another operator's camera, group or hours line is a 404.

Per-user camera limits (sharing.models.UserCameraScope) apply to every read made for a user:
a limited viewer / device operator sees only the congestion cameras whose device
`devices.selectors.camera_list(operator=…, user=…)` shows it, and only the groups whose cameras are
ALL visible to it (a group's count, image and prediction are made of every camera in it, so showing a
group with one hidden camera would leak that camera's count). Anything else is a 404, like another
operator's object. Admins are never limited; `user=None` is the operator's whole view (tasks).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, IntegerField, Prefetch, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, ExtractHour, ExtractIsoWeekDay, ExtractMinute, Floor, TruncDate
from django.http import Http404
from django.utils import timezone

from devices.models import Device
from devices.selectors import camera_list, user_scope
from licensing.models import LicenseKind
from licensing.selectors import camera_is_licensed, option_license_count
from tenants.access import get_scoped_or_404, get_visible_or_404, require_admin
from tenants.models import Operator, User

from . import rules
from .models import (
    AlertSetting,
    AlertState,
    Analysis,
    CongestionCamera,
    Group,
    HoursRule,
    MailSetting,
    MonitoringFrame,
    Prediction,
    PublicImage,
)


def _require(user: User, write: bool) -> None:
    if write:
        require_admin(user)


# ----------------------------------------------------------------------------- cameras


def congestion_camera_list(*, operator: Operator, user: User | None = None) -> QuerySet[CongestionCamera]:
    """The operator's congestion cameras `user` may see (all of them for an admin or `user=None`)."""
    cameras = CongestionCamera.objects.for_operator(operator).select_related("camera", "camera__room")
    if user_scope(user) is not None:
        cameras = cameras.filter(camera__in=camera_list(operator=operator, user=user).values("pk"))
    return cameras


def hidden_congestion_cameras(*, operator: Operator, user: User | None) -> QuerySet[CongestionCamera] | None:
    """The operator's congestion cameras outside `user`'s camera limit; None when it has no limit."""
    if user_scope(user) is None:
        return None
    visible = camera_list(operator=operator, user=user).values("pk")
    return CongestionCamera.objects.for_operator(operator).exclude(camera__in=visible)


def access_congestion_camera(*, operator: Operator, user: User, pk, write: bool = False) -> CongestionCamera:
    """A congestion camera of `operator` that `user` may see. Security guarantee: 404 for another
    operator's camera, a camera outside the user's camera limit or a missing id; 403 when `write` and
    the user is not an admin."""
    cc = get_scoped_or_404(congestion_camera_list(operator=operator, user=user), operator=operator, pk=pk)
    _require(user, write)
    return cc


def _unadded_own_cameras(*, operator: Operator, user: User) -> QuerySet[Device]:
    return (
        camera_list(operator=operator, user=user)
        .filter(operator=operator)
        .exclude(pk__in=CongestionCamera.objects.for_operator(operator).values("camera_id"))
    )


def addable_cameras(*, operator: Operator, user: User) -> list[Device]:
    """Cameras an admin may add: owned by `operator` (never a shared one), licensed, not yet added."""
    return [c for c in _unadded_own_cameras(operator=operator, user=user) if camera_is_licensed(c)]


def access_addable_camera(*, operator: Operator, user: User, pk) -> Device:
    """Security guarantee: 404 unless the device is one of `addable_cameras` (own cameras only)."""
    require_admin(user)
    camera = get_visible_or_404(_unadded_own_cameras(operator=operator, user=user), pk)
    if not camera_is_licensed(camera):
        raise Http404
    return camera


# ----------------------------------------------------------------------------- licenses


def license_block(*, operator: Operator) -> tuple[int, int] | None:
    """(registered, licensed) when the operator registered more cameras than it holds congestion
    option licenses: then analysis stops for ALL its cameras. None when within its licenses."""
    registered = CongestionCamera.objects.for_operator(operator).count()
    licensed = option_license_count(operator, LicenseKind.CONGESTION_OPTION)
    if registered > licensed:
        return registered, licensed
    return None


def option_licenses(*, operator: Operator) -> int:
    return option_license_count(operator, LicenseKind.CONGESTION_OPTION)


# ----------------------------------------------------------------------------- for tasks (no user)


def congestion_camera_for_task(*, congestion_camera_id: int) -> CongestionCamera | None:
    """Background work acts for the camera's own operator; the row carries it."""
    return (
        CongestionCamera.objects.select_related("camera", "operator", "camera__room")
        .filter(pk=congestion_camera_id)
        .first()
    )


def enabled_cameras_for_schedule() -> QuerySet[CongestionCamera]:
    return CongestionCamera.objects.filter(enabled=True).select_related("operator")


def hours_lines(*, congestion_camera: CongestionCamera) -> list[rules.HoursLine]:
    if not congestion_camera.hours_enabled:
        return []
    if "hours_rules" in getattr(congestion_camera, "_prefetched_objects_cache", {}):  # with_status
        return [r.as_line() for r in congestion_camera.hours_rules.all()]
    rows = HoursRule.objects.for_operator(congestion_camera.operator_id).filter(congestion_camera=congestion_camera)
    return [r.as_line() for r in rows]


def is_open_now(*, congestion_camera: CongestionCamera, at: datetime | None = None) -> bool:
    moment = timezone.localtime(at or timezone.now())
    return rules.is_open(hours_lines(congestion_camera=congestion_camera), moment)


# ----------------------------------------------------------------------------- related rows


def _loaded_one(obj, descriptor, model) -> tuple[bool, object]:
    """(True, the row or None) when a list's select_related already loaded the one-to-one row."""
    if not descriptor.is_cached(obj):
        return False, None
    try:
        return True, descriptor.__get__(obj, type(obj))
    except model.DoesNotExist:
        return True, None


def cameras_with_status(cameras: QuerySet[CongestionCamera]) -> QuerySet[CongestionCamera]:
    """`cameras` with what each one's status needs (public image, alert setting, business hours)
    loaded in the list's queries, not in queries per camera."""
    return cameras.select_related("public_image", "alert", "operator").prefetch_related("hours_rules")


def groups_with_status(groups: QuerySet[Group]) -> QuerySet[Group]:
    """`groups` with their alert setting and their cameras' status rows (`cameras_with_status`)
    loaded in the list's queries."""
    members = cameras_with_status(CongestionCamera.objects.all())
    # prefetch_related(None): group_list's plain "cameras" prefetch gives way to this richer one.
    return groups.select_related("alert").prefetch_related(None).prefetch_related(Prefetch("cameras", queryset=members))


def public_image_of(*, congestion_camera: CongestionCamera) -> PublicImage | None:
    loaded, row = _loaded_one(congestion_camera, CongestionCamera.public_image, PublicImage)
    if loaded:
        return row
    return PublicImage.objects.filter(congestion_camera=congestion_camera).first()


def latest_monitoring_frame(*, congestion_camera: CongestionCamera) -> MonitoringFrame | None:
    return MonitoringFrame.objects.filter(congestion_camera=congestion_camera).order_by("-captured_at").first()


def alert_setting_for(*, congestion_camera: CongestionCamera | None = None, group: Group | None = None):
    owner, descriptor = (
        (congestion_camera, CongestionCamera.alert) if congestion_camera is not None else (group, Group.alert)
    )
    loaded, row = _loaded_one(owner, descriptor, AlertSetting)
    if loaded:
        return row
    if congestion_camera is not None:
        return AlertSetting.objects.filter(congestion_camera=congestion_camera).first()
    return AlertSetting.objects.filter(group=group).first()


def alert_state_for(*, congestion_camera: CongestionCamera | None = None, group: Group | None = None):
    if congestion_camera is not None:
        return AlertState.objects.filter(congestion_camera=congestion_camera).first()
    return AlertState.objects.filter(group=group).first()


def hours_rule_list(*, congestion_camera: CongestionCamera) -> QuerySet[HoursRule]:
    return HoursRule.objects.for_operator(congestion_camera.operator_id).filter(congestion_camera=congestion_camera)


def hours_signature(*, congestion_camera: CongestionCamera) -> tuple:
    """The camera's hours switch and lines, comparable between cameras (a group's cameras should match)."""
    lines = sorted(
        (r.kind, tuple(r.weekdays), r.holiday, str(r.start), str(r.end), r.repeat, str(r.date), r.nth, r.weekday)
        for r in hours_rule_list(congestion_camera=congestion_camera)
    )
    return (congestion_camera.hours_enabled, tuple(lines))


def cameras_with_other_hours(*, group: Group) -> list[CongestionCamera]:
    """The group's cameras whose business hours differ from its default camera's."""
    reference = hours_signature(congestion_camera=group.default_camera)
    return [
        c
        for c in group.cameras.all()
        if c.pk != group.default_camera_id and hours_signature(congestion_camera=c) != reference
    ]


def access_hours_rule(*, congestion_camera: CongestionCamera, user: User, pk, write: bool = False) -> HoursRule:
    """Security guarantee: 404 unless the line belongs to this (already scoped) camera."""
    rule = get_scoped_or_404(
        hours_rule_list(congestion_camera=congestion_camera), operator=congestion_camera.operator, pk=pk
    )
    _require(user, write)
    return rule


def analyses_between(*, congestion_camera: CongestionCamera, start: datetime, end: datetime) -> QuerySet[Analysis]:
    return Analysis.objects.filter(
        congestion_camera=congestion_camera, status=Analysis.Status.DONE, minute__gte=start, minute__lt=end
    ).order_by("minute")


def samples_for(*, congestion_camera: CongestionCamera, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    rows = analyses_between(congestion_camera=congestion_camera, start=start, end=end).values_list(
        "minute", "captured_at", "count"
    )
    return [(timezone.localtime(captured or minute), count) for minute, captured, count in rows]


def group_samples_for(*, group: Group, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The group's count per analysed minute: the sum over its cameras analysed in that minute."""
    rows = (
        Analysis.objects.filter(
            congestion_camera__in=group.cameras.all(),
            status=Analysis.Status.DONE,
            minute__gte=start,
            minute__lt=end,
        )
        .order_by()
        .values("minute")
        .annotate(total=Sum("count"))
        .order_by("minute")
        .values_list("minute", "total")
    )
    return [(timezone.localtime(minute), int(total or 0)) for minute, total in rows]


def prediction_aggregate(
    *, congestion_camera: CongestionCamera, start: datetime, end: datetime
) -> rules.PredictionResult:
    """`rules.predict` over the camera's analysed minutes, computed by PostgreSQL in two queries (the
    history holds up to a year of minutes: ~500,000 rows per camera, too many to pull into Python).

    Same definition as the pure rule: the moment is the capture time (else the minute), taken in the
    current time zone (Asia/Tokyo); average count per (weekday, 15-minute slot); ≥ 7 distinct days."""
    tz = timezone.get_current_timezone()
    rows = (
        analyses_between(congestion_camera=congestion_camera, start=start, end=end)
        .order_by()
        .annotate(at=Coalesce("captured_at", "minute"))
        .annotate(
            weekday=ExtractIsoWeekDay("at", tzinfo=tz),
            # PostgreSQL's EXTRACT is numeric, so "/ 15" is not integer division: floor it, then cast.
            slot=Cast(
                ExtractHour("at", tzinfo=tz) * 4 + Floor(ExtractMinute("at", tzinfo=tz) / 15),
                output_field=IntegerField(),
            ),
        )
    )
    days = rows.annotate(day=TruncDate("at", tzinfo=tz)).aggregate(n=Count("day", distinct=True))["n"]
    if days < rules.MIN_PREDICTION_DAYS:
        return rules.PredictionResult(False, days)
    averages = rows.values("weekday", "slot").annotate(average=Avg("count")).values_list("weekday", "slot", "average")
    # ISO weekday 1 = Monday; Python's weekday() 0 = Monday.
    return rules.PredictionResult(True, days, {(int(wd) - 1, int(slot)): float(avg) for wd, slot, avg in averages})


def day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def predictions_of(*, congestion_camera: CongestionCamera) -> dict[tuple[int, int], float]:
    return {(p.weekday, p.slot): p.average for p in Prediction.objects.filter(congestion_camera=congestion_camera)}


# ----------------------------------------------------------------------------- groups


def group_list(*, operator: Operator, user: User | None = None) -> QuerySet[Group]:
    """The operator's groups `user` may see: for a limited user only those whose cameras (and default
    camera) are all inside its camera limit."""
    groups = Group.objects.for_operator(operator).select_related("default_camera").prefetch_related("cameras")
    hidden = hidden_congestion_cameras(operator=operator, user=user)
    if hidden is not None:
        groups = groups.exclude(cameras__in=hidden).exclude(default_camera__in=hidden)
    return groups


def access_group(*, operator: Operator, user: User, pk, write: bool = False) -> Group:
    """A group of `operator` that `user` may see. Security guarantee: 404 for another operator's
    group or a group with a camera outside the user's camera limit; 403 on a non-admin write."""
    group = get_scoped_or_404(group_list(operator=operator, user=user), operator=operator, pk=pk)
    _require(user, write)
    return group


def groups_of_camera(*, congestion_camera: CongestionCamera) -> QuerySet[Group]:
    return Group.objects.for_operator(congestion_camera.operator_id).filter(cameras=congestion_camera)


def stale_after() -> timedelta:
    """How old a camera's latest count may be and still count in its groups (settings, default 5 min)."""
    return timedelta(minutes=getattr(settings, "CONGESTION_STALE_MINUTES", 5))


def group_current(*, group: Group, at: datetime | None = None) -> list[PublicImage]:
    """The latest public images of the group's cameras that are current at `at` (default now).

    Left out: a disabled camera, a camera outside its business hours at `at` (its last count is from
    when it was open) and one whose latest count was captured more than `stale_after()` before `at`
    (not answering, or its worker behind); otherwise a camera that stopped would hold the group over
    its alert threshold forever. The public embed of a single camera follows the same rule."""
    at = at or timezone.now()
    if "cameras" in getattr(group, "_prefetched_objects_cache", {}):  # groups_with_status: no query per group
        latest = [
            image
            for cc in group.cameras.all()
            if cc.enabled
            and (image := public_image_of(congestion_camera=cc)) is not None
            and at - stale_after() < image.captured_at <= at
        ]
        return [p for p in latest if is_open_now(congestion_camera=p.congestion_camera, at=at)]
    latest = PublicImage.objects.filter(
        congestion_camera__in=group.cameras.all(),
        congestion_camera__enabled=True,
        captured_at__gt=at - stale_after(),
        captured_at__lte=at,
    ).select_related("congestion_camera", "congestion_camera__operator")
    return [p for p in latest if is_open_now(congestion_camera=p.congestion_camera, at=at)]


def group_count(*, group: Group, at: datetime | None = None) -> int:
    """The sum of the latest counts of the group's cameras that are current at `at` (`group_current`)."""
    return sum(p.count for p in group_current(group=group, at=at))


# ----------------------------------------------------------------------------- alert mail sender


def alert_sender_of(*, operator: Operator) -> str:
    """The operator's own sender address of alert mails, "" when it has none."""
    row = MailSetting.objects.for_operator(operator).first()
    return row.from_email if row else ""


def alert_from_email(*, operator_id: int) -> str:
    """The From of the operator's alert mails: its own address, else DEFAULT_FROM_EMAIL."""
    own = MailSetting.objects.filter(operator_id=operator_id).values_list("from_email", flat=True).first()
    return own or settings.DEFAULT_FROM_EMAIL


# ----------------------------------------------------------------------------- first-login guided start


def getting_started(*, operator: Operator, user: User | None = None) -> dict:
    """The guided start of an account new to congestion (manual 003 §1-2): add a camera, register its
    background, see its first image. `camera` is the camera the next steps are about (the first one
    added); `done` when all three steps are."""
    cameras = congestion_camera_list(operator=operator, user=user).order_by("created_at", "pk")
    first = cameras.first()
    with_background = cameras.exclude(background_day="").first()
    seen = PublicImage.objects.filter(congestion_camera__in=cameras.values("pk")).exists()
    camera = with_background or first
    steps = {"camera_added": first is not None, "background_set": with_background is not None, "first_image": seen}
    return {"camera": camera, "steps": steps, "done": all(steps.values())}
