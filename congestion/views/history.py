"""Prediction, history chart and CSV downloads."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.web import GET, GET_POST
from tenants.access import require_admin

from .. import rules, selectors, services
from ..forms import (
    MonthForm,
)
from .common import (
    _render,
)

# ----------------------------------------------------------------------------- prediction and history


def _prediction_series(averages: dict[tuple[int, int], float]) -> list[list[float]]:
    return [[round(averages.get((wd, slot), 0.0), 2) for slot in range(rules.SLOTS_PER_DAY)] for wd in range(7)]


def _thresholds(setting) -> list[dict]:
    if not setting:
        return []
    return [{"value": t, "label": rules.status_label(i + 2, setting.steps)} for i, t in enumerate(setting.thresholds)]


@login_required
@GET_POST
def camera_prediction_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    if request.method == "POST":
        require_admin(request.user)
        result = services.prediction_recompute(congestion_camera=cc)
        messages.success(
            request, _("The prediction was recalculated from %(days)d days of data.") % {"days": result.days}
        )
        return redirect("congestion:camera_prediction", congestion_camera_id=cc.pk)
    averages = selectors.predictions_of(congestion_camera=cc)
    context = {
        "cc": cc,
        "owner": cc,
        "enough": bool(averages),
        "series": json.dumps(_prediction_series(averages)),
        "thresholds": json.dumps(_thresholds(selectors.alert_setting_for(congestion_camera=cc))),
        "days": cc.prediction_days,
        "computed_at": cc.prediction_computed_at,
    }
    return _render(request, "congestion/prediction.html", context)


@login_required
@GET
def group_prediction_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
    per_camera = [selectors.predictions_of(congestion_camera=c) for c in group.cameras.all()]
    enough = bool(per_camera) and all(per_camera)
    context = {
        "group": group,
        "owner": group,
        "enough": enough,
        "series": json.dumps(_prediction_series(rules.sum_predictions(per_camera) if enough else {})),
        "thresholds": json.dumps(_thresholds(selectors.alert_setting_for(group=group))),
    }
    return _render(request, "congestion/prediction.html", context)


def _parse_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def history_period(params) -> tuple[date, int]:
    """The first day (?day=YYYY-MM-DD, today by default) and the number of days shown (?days=1…7)."""
    raw = str(params.get("days", "1") or "1")
    days = max(1, min(int(raw) if raw.isdigit() else 1, 7))
    return _parse_day(params.get("day")), days


def _history_context(request: HttpRequest, samples_of) -> dict:
    day, days = history_period(request.GET)
    start, _end = selectors.day_range(day)
    data = rules.history_rows(samples_of(start, start + timedelta(days=days)))
    return {
        "day": day,
        "days": days,
        "data": json.dumps(data),
        "has_data": bool(data),
        "prev": day - timedelta(days=days),
        "next": day + timedelta(days=days),
        "month_form": MonthForm(),
    }


@login_required
@GET
def camera_history_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    context = {"cc": cc} | _history_context(
        request, lambda start, end: selectors.samples_for(congestion_camera=cc, start=start, end=end)
    )
    return _render(request, "congestion/history.html", context)


@login_required
@GET
def group_history_view(request: HttpRequest, group_id: int) -> HttpResponse:
    """The group's count (sum of its cameras per minute) as the same chart and statistics (manual 003 §2-11)."""
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
    context = {"group": group} | _history_context(
        request, lambda start, end: selectors.group_samples_for(group=group, start=start, end=end)
    )
    return _render(request, "congestion/history.html", context)


@login_required
@GET
def group_csv_view(request: HttpRequest, group_id: int) -> HttpResponse:
    """The month's CSV of every camera of the group, one file each, in one ZIP."""
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
    month = _month(request)
    if month is None:
        messages.error(request, _("Choose a month."))
        return redirect("congestion:group_history", group_id=group.pk)
    cameras = list(group.cameras.select_related("operator", "camera"))
    data = services.csv_zip(congestion_cameras=cameras, year=month[0], month=month[1], today=timezone.localdate())
    return _zip_response(data, f"congestion-group-{group.pk}-{month[0]:04d}{month[1]:02d}.zip")


def _month(request: HttpRequest) -> tuple[int, int] | None:
    form = MonthForm(request.GET)
    return form.year_month() if form.is_valid() else None


def _zip_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@GET
def camera_csv_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    month = _month(request)
    if month is None:
        messages.error(request, _("Choose a month."))
        return redirect("congestion:camera_history", congestion_camera_id=cc.pk)
    data = services.csv_zip(congestion_cameras=[cc], year=month[0], month=month[1], today=timezone.localdate())
    return _zip_response(data, f"congestion-{cc.pk}-{month[0]:04d}{month[1]:02d}.zip")


@login_required
@GET
def csv_all_view(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    if month is None:
        messages.error(request, _("Choose a month."))
        return redirect("congestion:index")
    cameras = list(
        selectors.congestion_camera_list(operator=request.operator, user=request.user).select_related("operator")
    )
    data = services.csv_zip(congestion_cameras=cameras, year=month[0], month=month[1], today=timezone.localdate())
    return _zip_response(data, f"congestion-all-{month[0]:04d}{month[1]:02d}.zip")
