"""Business hours lines (base / special / closed) and switching them on or off."""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenants.access import require_admin
from tenants.models import User

from .. import rules
from ..models import (
    CongestionCamera,
    Group,
    HoursRule,
)

# ----------------------------------------------------------------------------- business hours


def _clean_line(
    *,
    kind: str,
    weekdays: list[int] | None = None,
    holiday: bool = False,
    start: time | None = None,
    end: time | None = None,
    repeat: str = "",
    date: date | None = None,
    nth: int | None = None,
    weekday: int | None = None,
) -> dict:
    """The fields of a valid hours line, normalised for its kind; ValidationError (nothing saved) otherwise."""
    weekdays = sorted({int(d) for d in weekdays or [] if 0 <= int(d) <= 6})
    errors: list[str] = []
    if kind not in HoursRule.Kind.values:
        raise ValidationError(_("Choose the kind of line."))
    if kind == HoursRule.Kind.CLOSED:
        start = end = None
    else:
        problem = rules.span_error(start, end)
        if problem:
            errors.append(problem)
    if kind == HoursRule.Kind.BASE:
        repeat, date, nth, weekday = "", None, None, None
        if not weekdays and not holiday:
            errors.append(_("Choose at least one weekday or public holidays."))
    else:
        weekdays, holiday = [], False
        if repeat not in HoursRule.Repeat.values:
            errors.append(_("Choose how the day repeats."))
        elif repeat == HoursRule.Repeat.NTH_WEEKDAY:
            date = None
            if nth not in (1, 2, 3, 4, 5) or weekday not in range(7):
                errors.append(_("Choose the week (1st to 5th) and the weekday."))
        else:
            nth = weekday = None
            if date is None:
                errors.append(_("Choose the date."))
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "weekdays": weekdays,
        "holiday": holiday,
        "start": start,
        "end": end,
        "repeat": repeat,
        "date": date,
        "nth": nth,
        "weekday": weekday,
    }


def _refuse_overlap(fields: dict, congestion_camera: CongestionCamera, *, besides: int | None = None) -> None:
    new = rules.HoursLine(**{k: tuple(v) if k == "weekdays" else v for k, v in fields.items()})
    others = HoursRule.objects.select_for_update().filter(congestion_camera=congestion_camera).exclude(pk=besides)
    clash = rules.overlapping(new, [r.as_line() for r in others])
    if clash is not None:
        raise ValidationError(
            _("These hours overlap hours already set (%(start)s–%(end)s). Change or delete those first.")
            % {"start": clash.start.strftime("%H:%M"), "end": clash.end.strftime("%H:%M")},  # type: ignore[union-attr]
            code="hours_taken",
        )


@transaction.atomic
def hours_rule_add(*, user: User, congestion_camera: CongestionCamera, **line) -> HoursRule:
    """Add one line (kind, weekdays, holiday, start, end, repeat, date, nth, weekday)."""
    require_admin(user)
    fields = _clean_line(**line)
    _refuse_overlap(fields, congestion_camera)
    return HoursRule.objects.create(
        operator_id=congestion_camera.operator_id, congestion_camera=congestion_camera, **fields
    )


@transaction.atomic
def hours_rule_update(*, user: User, rule: HoursRule, **line) -> HoursRule:
    """Change an existing line in place (same checks as adding it; its own old hours never clash)."""
    require_admin(user)
    fields = _clean_line(**line)
    _refuse_overlap(fields, rule.congestion_camera, besides=rule.pk)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


@transaction.atomic
def hours_rule_delete(*, user: User, rule: HoursRule) -> None:
    require_admin(user)
    rule.delete()


@transaction.atomic
def hours_enabled_set(*, user: User, congestion_camera: CongestionCamera, enabled: bool) -> None:
    require_admin(user)
    congestion_camera.hours_enabled = enabled
    congestion_camera.save(update_fields=["hours_enabled"])


# ----------------------------------------------------------------------------- a group's hours at once


def _copy_hours(source: CongestionCamera, targets) -> int:
    """Every target camera gets the source's switch and exactly its lines; returns how many changed."""
    lines = list(HoursRule.objects.filter(congestion_camera=source))
    changed = 0
    for camera in targets:
        if camera.pk == source.pk:
            continue
        HoursRule.objects.filter(congestion_camera=camera).delete()
        HoursRule.objects.bulk_create(
            [
                HoursRule(
                    operator_id=camera.operator_id,
                    congestion_camera=camera,
                    **{f: getattr(line, f) for f in HOURS_FIELDS},
                )
                for line in lines
            ]
        )
        if camera.hours_enabled != source.hours_enabled:
            camera.hours_enabled = source.hours_enabled
            camera.save(update_fields=["hours_enabled"])
        changed += 1
    return changed


HOURS_FIELDS = ("kind", "weekdays", "holiday", "start", "end", "repeat", "date", "nth", "weekday")


def _group_cameras(group: Group) -> list[CongestionCamera]:
    # Locked in a stable order, so two group saves touching the same cameras never deadlock.
    return list(CongestionCamera.objects.select_for_update().filter(groups=group).order_by("pk"))


@transaction.atomic
def group_hours_set(
    *, user: User, group: Group, enabled: bool | None = None, lines: list[dict] | None = None
) -> CongestionCamera:
    """Set the business hours of every camera of the group at once (manual 003 §2-2-4 ④).

    The group's default camera holds the reference hours: `lines` (when given) replace its lines,
    each checked as when added one by one, `enabled` (when given) switches them on or off; then every
    other camera of the group gets exactly the same switch and lines. Any bad line: nothing is saved."""
    require_admin(user)
    cameras = _group_cameras(group)
    source = next((c for c in cameras if c.pk == group.default_camera_id), None) or group.default_camera
    if lines is not None:
        HoursRule.objects.filter(congestion_camera=source).delete()
        for index, line in enumerate(lines, start=1):
            try:
                hours_rule_add(user=user, congestion_camera=source, **line)
            except ValidationError as exc:
                raise ValidationError(
                    _("Line %(n)s: %(problem)s") % {"n": index, "problem": " ".join(exc.messages)}
                ) from None
    if enabled is not None and source.hours_enabled != enabled:
        source.hours_enabled = enabled
        source.save(update_fields=["hours_enabled"])
    _copy_hours(source, cameras)
    return source


@transaction.atomic
def group_hours_add(*, user: User, group: Group, **line) -> HoursRule:
    require_admin(user)
    cameras = _group_cameras(group)
    source = next((c for c in cameras if c.pk == group.default_camera_id), None) or group.default_camera
    rule = hours_rule_add(user=user, congestion_camera=source, **line)
    _copy_hours(source, cameras)
    return rule


@transaction.atomic
def group_hours_update(*, user: User, group: Group, rule: HoursRule, **line) -> HoursRule:
    require_admin(user)
    cameras = _group_cameras(group)
    rule = hours_rule_update(user=user, rule=rule, **line)
    _copy_hours(rule.congestion_camera, cameras)
    return rule


@transaction.atomic
def group_hours_delete(*, user: User, group: Group, rule: HoursRule) -> None:
    require_admin(user)
    cameras = _group_cameras(group)
    source = rule.congestion_camera
    rule.delete()
    _copy_hours(source, cameras)
