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
    HoursRule,
)

# ----------------------------------------------------------------------------- business hours


@transaction.atomic
def hours_rule_add(
    *,
    user: User,
    congestion_camera: CongestionCamera,
    kind: str,
    weekdays: list[int] | None = None,
    holiday: bool = False,
    start: time | None = None,
    end: time | None = None,
    repeat: str = "",
    date: date | None = None,
    nth: int | None = None,
    weekday: int | None = None,
) -> HoursRule:
    require_admin(user)
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
    new = rules.HoursLine(kind, start, end, tuple(weekdays), holiday, repeat, date, nth, weekday)
    existing = [r.as_line() for r in HoursRule.objects.select_for_update().filter(congestion_camera=congestion_camera)]
    clash = rules.overlapping(new, existing)
    if clash is not None:
        raise ValidationError(
            _("These hours overlap hours already set (%(start)s–%(end)s). Change or delete those first.")
            % {"start": clash.start.strftime("%H:%M"), "end": clash.end.strftime("%H:%M")}  # type: ignore[union-attr]
        )
    return HoursRule.objects.create(
        operator_id=congestion_camera.operator_id,
        congestion_camera=congestion_camera,
        kind=kind,
        weekdays=weekdays,
        holiday=holiday,
        start=start,
        end=end,
        repeat=repeat,
        date=date,
        nth=nth,
        weekday=weekday,
    )


@transaction.atomic
def hours_rule_delete(*, user: User, rule: HoursRule) -> None:
    require_admin(user)
    rule.delete()


@transaction.atomic
def hours_enabled_set(*, user: User, congestion_camera: CongestionCamera, enabled: bool) -> None:
    require_admin(user)
    congestion_camera.hours_enabled = enabled
    congestion_camera.save(update_fields=["hours_enabled"])
