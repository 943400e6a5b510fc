"""Business hours of a camera and its off-hours image."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.web import GET, GET_POST

from .. import selectors, services
from ..forms import (
    HoursRuleForm,
    OffhoursImageForm,
)
from ..models import HoursRule
from .common import (
    _jpeg,
    _render,
    _static_jpeg,
)

# ----------------------------------------------------------------------------- business hours


def _rule_text(rule: HoursRule) -> str:
    from ..forms import WEEKDAYS

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


@login_required
@GET_POST
def camera_hours_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    form = HoursRuleForm(request.POST or None) if request.POST.get("action") == "add" else HoursRuleForm()
    offhours_form = OffhoursImageForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "toggle":
            enabled = request.POST.get("enabled") == "1"
            services.hours_enabled_set(user=request.user, congestion_camera=cc, enabled=enabled)
            messages.success(request, _("Business hours are on.") if enabled else _("Business hours are off."))
            return redirect("congestion:camera_hours", congestion_camera_id=cc.pk)
        if action == "add" and form.is_valid():
            try:
                services.hours_rule_add(user=request.user, congestion_camera=cc, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The business hours were added."))
                return redirect("congestion:camera_hours", congestion_camera_id=cc.pk)
        if action == "offhours":
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
                    return redirect("congestion:camera_hours", congestion_camera_id=cc.pk)
        status = 400
    rules_ = [(r, _rule_text(r)) for r in selectors.hours_rule_list(congestion_camera=cc)]
    context = {
        "cc": cc,
        "form": form,
        "offhours_form": offhours_form,
        "rules": rules_,
        "open_now": selectors.is_open_now(congestion_camera=cc),
    }
    return _render(request, "congestion/hours.html", context, status=status)


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
    return _render(request, "congestion/hours_delete.html", {"cc": cc, "rule": rule, "text": _rule_text(rule)})


@login_required
@GET
def camera_offhours_image_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    return _jpeg(services.read_image(cc.offhours_image) or _static_jpeg("offhours.jpg"))
