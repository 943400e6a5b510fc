"""Business hours of a camera and its off-hours image."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.web import GET, GET_POST

from .. import rules, selectors, services
from ..forms import (
    WEEKDAYS,
    HoursRuleForm,
    OffhoursImageForm,
)
from ..models import CongestionCamera, Group, HoursRule
from .common import (
    _jpeg,
    _render,
    _static_jpeg,
)

# ----------------------------------------------------------------------------- business hours


def _rule_text(rule: HoursRule) -> str:
    names = dict(WEEKDAYS)
    when = ""
    if rule.kind == HoursRule.Kind.BASE:
        days = [str(names[d]) for d in rule.weekdays] + ([str(_("public holidays"))] if rule.holiday else [])
        when = ", ".join(days)
    elif rule.repeat == HoursRule.Repeat.NTH_WEEKDAY:
        when = _("week %(n)s, %(day)s, every month") % {"n": rule.nth, "day": names.get(rule.weekday, "")}
    elif rule.date:
        when = {
            HoursRule.Repeat.ONCE: rule.date.strftime("%Y-%m-%d"),
            HoursRule.Repeat.YEARLY: _("every year on %(md)s") % {"md": rule.date.strftime("%m-%d")},
            HoursRule.Repeat.MONTHLY: _("every month on day %(d)s") % {"d": rule.date.day},
        }.get(rule.repeat, "")
    times = f"{rule.start:%H:%M}–{rule.end:%H:%M}" if rule.start and rule.end else _("closed all day")
    return f"{when} · {times}"


def _month(request: HttpRequest) -> tuple[int, int]:
    """The calendar's month from ?month=YYYY-MM (this month when missing or bad)."""
    today = timezone.localdate()
    try:
        year, month = (int(p) for p in request.GET.get("month", "").split("-"))
        date(year, month, 1)
    except ValueError:
        return today.year, today.month
    if not 2000 <= year <= 2100:
        return today.year, today.month
    return year, month


def _calendar(cc: CongestionCamera, request: HttpRequest) -> dict:
    year, month = _month(request)
    lines = [r.as_line() for r in selectors.hours_rule_list(congestion_camera=cc)] if cc.hours_enabled else []
    before = date(year, month, 1) - timedelta(days=1)
    after = date(year + month // 12, month % 12 + 1, 1)
    return {
        "weeks": rules.month_calendar(lines, year, month),
        "month": date(year, month, 1),
        "previous": f"{before.year:04d}-{before.month:02d}",
        "next": f"{after.year:04d}-{after.month:02d}",
        "weekday_names": [name for _n, name in WEEKDAYS],
    }


def _hours_url(cc: CongestionCamera, group: Group | None) -> str:
    if group is not None:
        return reverse("congestion:group_hours", kwargs={"group_id": group.pk})
    return reverse("congestion:camera_hours", kwargs={"congestion_camera_id": cc.pk})


def _hours_page(request: HttpRequest, cc: CongestionCamera, group: Group | None = None) -> HttpResponse:
    """A camera's business hours, or a group's (its default camera's hours, copied to every camera)."""
    form = HoursRuleForm(request.POST or None) if request.POST.get("action") == "add" else HoursRuleForm()
    offhours_form = OffhoursImageForm()
    status = 200
    back = _hours_url(cc, group)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "toggle":
            enabled = request.POST.get("enabled") == "1"
            if group is not None:
                services.group_hours_set(user=request.user, group=group, enabled=enabled)
            else:
                services.hours_enabled_set(user=request.user, congestion_camera=cc, enabled=enabled)
            messages.success(request, _("Business hours are on.") if enabled else _("Business hours are off."))
            return redirect(back)
        if action == "apply" and group is not None:
            services.group_hours_set(user=request.user, group=group)
            messages.success(request, _("Every camera of the group now has the default camera's business hours."))
            return redirect(back)
        if action == "add" and form.is_valid():
            try:
                if group is not None:
                    services.group_hours_add(user=request.user, group=group, **form.cleaned_data)
                else:
                    services.hours_rule_add(user=request.user, congestion_camera=cc, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The business hours were added."))
                return redirect(back)
        if action == "offhours" and group is None:
            offhours_form = OffhoursImageForm(request.POST, request.FILES)
            if offhours_form.is_valid():
                upload = offhours_form.cleaned_data["image"]
                try:
                    if offhours_form.cleaned_data["use_default"]:
                        services.offhours_image_set(user=request.user, congestion_camera=cc, jpeg=None)
                    elif upload:
                        services.offhours_image_set(user=request.user, congestion_camera=cc, jpeg=upload)
                    else:
                        raise ValidationError(_("Choose a JPEG file, or the default image."))
                except ValidationError as exc:
                    offhours_form.add_error("image", exc)
                else:
                    messages.success(request, _("The off-hours image was saved."))
                    return redirect(back)
        status = 400
    rules_ = [(r, _rule_text(r)) for r in selectors.hours_rule_list(congestion_camera=cc)]
    context = {
        "cc": cc,
        "group": group,
        "form": form,
        "offhours_form": offhours_form,
        "rules": rules_,
        "open_now": selectors.is_open_now(congestion_camera=cc),
        "calendar": _calendar(cc, request),
        "here": back,
    }
    if group is not None:
        context["differing"] = selectors.cameras_with_other_hours(group=group)
    return _render(request, "congestion/hours.html", context, status=status)


@login_required
@GET_POST
def camera_hours_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    return _hours_page(request, cc)


@login_required
@GET_POST
def group_hours_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    return _hours_page(request, group.default_camera, group)


def _initial_of(rule: HoursRule) -> dict:
    return {
        "kind": rule.kind,
        "weekdays": rule.weekdays,
        "holiday": rule.holiday,
        "start": rule.start,
        "end": rule.end,
        "repeat": rule.repeat,
        "date": rule.date,
        "nth": rule.nth,
        "weekday": rule.weekday,
    }


def _rule_edit_page(request: HttpRequest, cc: CongestionCamera, rule: HoursRule, group: Group | None) -> HttpResponse:
    form = HoursRuleForm(request.POST or None, initial=_initial_of(rule))
    if request.method == "POST" and form.is_valid():
        try:
            if group is not None:
                services.group_hours_update(user=request.user, group=group, rule=rule, **form.cleaned_data)
            else:
                services.hours_rule_update(user=request.user, rule=rule, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The business-hours line was saved."))
            return redirect(_hours_url(cc, group))
    context = {"cc": cc, "group": group, "rule": rule, "form": form, "back": _hours_url(cc, group)}
    return _render(request, "congestion/hours_edit.html", context, status=400 if form.errors else 200)


@login_required
@GET_POST
def hours_rule_edit_view(request: HttpRequest, congestion_camera_id: int, hours_rule_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
    return _rule_edit_page(request, cc, rule, None)


@login_required
@GET_POST
def group_hours_rule_edit_view(request: HttpRequest, group_id: int, hours_rule_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    cc = group.default_camera
    rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
    return _rule_edit_page(request, cc, rule, group)


@login_required
@GET_POST
def hours_rule_delete_view(request: HttpRequest, congestion_camera_id: int, hours_rule_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
    if request.method == "POST":
        services.hours_rule_delete(user=request.user, rule=rule)
        messages.success(request, _("The business-hours line was deleted."))
        return redirect("congestion:camera_hours", congestion_camera_id=cc.pk)
    context = {"cc": cc, "rule": rule, "text": _rule_text(rule), "back": _hours_url(cc, None)}
    return _render(request, "congestion/hours_delete.html", context)


@login_required
@GET_POST
def group_hours_rule_delete_view(request: HttpRequest, group_id: int, hours_rule_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    cc = group.default_camera
    rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
    if request.method == "POST":
        services.group_hours_delete(user=request.user, group=group, rule=rule)
        messages.success(request, _("The business-hours line was deleted."))
        return redirect("congestion:group_hours", group_id=group.pk)
    context = {"cc": cc, "group": group, "rule": rule, "text": _rule_text(rule), "back": _hours_url(cc, group)}
    return _render(request, "congestion/hours_delete.html", context)


@login_required
@GET
def camera_offhours_image_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    return _jpeg(services.read_image(cc.offhours_image) or _static_jpeg("offhours.jpg"))
