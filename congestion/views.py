"""Pages of the congestion console (SPEC §6).

Every object comes through congestion.selectors (another operator's id is a 404). Every role reads
the live images, counts, predictions, history and CSV; settings, groups, alerts, hours and the
monitoring of raw frames are for admins (403 otherwise). Each page shows why analysis is stopped
when the operator registered more cameras than it holds congestion option licenses.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tenants.access import require_admin
from workers.frames import SnapshotError

from . import rules, selectors, services
from .forms import (
    AlertForm,
    BackgroundForm,
    CameraAddForm,
    CameraSettingsForm,
    GroupForm,
    HoursRuleForm,
    MonthForm,
    OffhoursImageForm,
)
from .models import CongestionCamera, Group, HoursRule

STATIC_IMAGES = Path(__file__).resolve().parent / "static" / "congestion"
GET_POST = require_http_methods(["GET", "POST"])
GET = require_http_methods(["GET"])
PAGE_SIZE = 24


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("license_block", selectors.license_block(operator=request.operator))
    return render(request, template, context, status=status)


def _jpeg(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


def _static_jpeg(name: str) -> bytes:
    return (STATIC_IMAGES / name).read_bytes()


def _alert_image(setting, step: int) -> bytes | None:
    if setting is None or not setting.image_enabled or step > len(setting.images):
        return None
    name = setting.images[step - 1]
    if name == services.TEMPLATE:
        # 3 steps: 空 / やや混雑 / 混雑 templates; 2 steps: 空 / 混雑.
        return _static_jpeg(f"alert-template-{step if setting.steps == 3 else (1 if step == 1 else 3)}.jpg")
    return services.read_image(name)


def camera_status(cc: CongestionCamera) -> dict:
    """What a camera shows now: public image (or alert / off-hours image), count, step and label."""
    public = selectors.public_image_of(congestion_camera=cc)
    setting = selectors.alert_setting_for(congestion_camera=cc)
    count = public.count if public else None
    step = rules.step_for(count, setting.thresholds) if setting else 1
    return {
        "cc": cc,
        "public": public,
        "count": count,
        "open": selectors.is_open_now(congestion_camera=cc),
        "setting": setting,
        "step": step,
        "label": rules.status_label(step, setting.steps) if setting else "",
    }


def camera_display_jpeg(cc: CongestionCamera) -> bytes:
    status = camera_status(cc)
    if not status["open"]:
        return services.read_image(cc.offhours_image) or _static_jpeg("offhours.jpg")
    alert = _alert_image(status["setting"], status["step"])
    if alert is not None:
        return alert
    public = status["public"]
    return (services.read_image(public.image) if public else None) or _static_jpeg("waiting.jpg")


# ----------------------------------------------------------------------------- cameras


@login_required
@GET
def index_view(request: HttpRequest) -> HttpResponse:
    cameras = selectors.congestion_camera_list(operator=request.operator, user=request.user)
    page = Paginator(cameras, PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = [camera_status(cc) for cc in page]
    context = {"page": page, "statuses": statuses, "licenses": selectors.option_licenses(operator=request.operator)}
    return _render(request, "congestion/index.html", context)


@login_required
@GET_POST
def camera_add_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    cameras = selectors.addable_cameras(operator=request.operator, user=request.user)
    form = CameraAddForm(request.POST or None, cameras=cameras)
    context = {"form": form, "cameras": cameras, "licenses": selectors.option_licenses(operator=request.operator)}
    if request.method == "POST" and form.is_valid():
        camera = selectors.access_addable_camera(
            operator=request.operator, user=request.user, pk=form.cleaned_data["camera"]
        )
        registered = selectors.congestion_camera_list(operator=request.operator).count()
        if "confirm" not in request.POST:
            context.update(camera=camera, over=registered + 1 > context["licenses"], registered=registered + 1)
            return _render(request, "congestion/camera_add_confirm.html", context)
        try:
            cc = services.camera_add(user=request.user, operator=request.operator, camera=camera)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(name)s was added to congestion visualization.") % {"name": cc.display_name})
            return redirect("congestion:camera_settings", congestion_camera_id=cc.pk)
    return _render(request, "congestion/camera_add.html", context)


@login_required
@GET
def camera_detail_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    return _render(request, "congestion/camera_detail.html", camera_status(cc))


@login_required
@GET
def camera_image_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    return _jpeg(camera_display_jpeg(cc))


@login_required
@GET_POST
def camera_settings_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    initial = {
        "display_name": cc.display_name,
        "enabled": cc.enabled,
        "mode": cc.mode,
        "level": cc.level,
        "background_pattern": cc.background_pattern,
    }
    form = CameraSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.camera_update(user=request.user, congestion_camera=cc, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The settings of %(name)s were saved.") % {"name": cc.display_name})
            return redirect("congestion:camera_settings", congestion_camera_id=cc.pk)
    context = {"cc": cc, "form": form, "background_form": BackgroundForm(initial={"blur_level": cc.blur_level})}
    return _render(request, "congestion/camera_settings.html", context)


@login_required
@require_POST
def camera_background_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    form = BackgroundForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["source"] == "upload":
                jpeg, blur = data["image"].read(), None
            else:
                jpeg, blur = services.grab_frame(cc.camera), data["blur_level"]
            services.background_set(
                user=request.user, congestion_camera=cc, which=data["which"], jpeg=jpeg, blur_level=blur
            )
        except SnapshotError:
            form.add_error(None, _("The camera did not answer. Check that it is online, or upload an image."))
        except ValidationError as exc:
            form.add_error("image", exc)
        else:
            messages.success(request, _("The background image was registered."))
            return redirect("congestion:camera_settings", congestion_camera_id=cc.pk)
    settings_form = CameraSettingsForm(
        initial={
            "display_name": cc.display_name,
            "enabled": cc.enabled,
            "mode": cc.mode,
            "level": cc.level,
            "background_pattern": cc.background_pattern,
        }
    )
    context = {"cc": cc, "form": settings_form, "background_form": form}
    return _render(request, "congestion/camera_settings.html", context, status=400)


@login_required
@GET
def camera_background_image_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    name = cc.background_night if request.GET.get("which") == "night" else cc.background_day
    return _jpeg(services.read_image(name) or _static_jpeg("waiting.jpg"))


@login_required
@GET
def camera_monitoring_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    frame = selectors.latest_monitoring_frame(congestion_camera=cc)
    return _render(request, "congestion/camera_monitoring.html", {"cc": cc, "frame": frame})


@login_required
@GET
def camera_monitoring_frame_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    frame = selectors.latest_monitoring_frame(congestion_camera=cc)
    return _jpeg((services.read_image(frame.image) if frame else None) or _static_jpeg("waiting.jpg"))


@login_required
@GET_POST
def camera_remove_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    groups = list(selectors.groups_of_camera(congestion_camera=cc))
    error = None
    if request.method == "POST":
        try:
            services.camera_remove(user=request.user, congestion_camera=cc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("%(name)s was removed from congestion visualization.") % {"name": cc.display_name}
            )
            return redirect("congestion:index")
    return _render(request, "congestion/camera_remove.html", {"cc": cc, "groups": groups, "error": error})


# ----------------------------------------------------------------------------- alerts


def _alert_page(request: HttpRequest, *, cc: CongestionCamera | None = None, group: Group | None = None):
    setting = selectors.alert_setting_for(congestion_camera=cc, group=group)
    initial = {"steps": 2}
    if setting:
        initial = {
            "steps": setting.steps,
            "image_enabled": setting.image_enabled,
            "mail_enabled": setting.mail_enabled,
            "recipients": "\n".join(setting.recipients),
            **{f"threshold_{i + 1}": t for i, t in enumerate(setting.thresholds)},
        }
    form = AlertForm(request.POST or None, request.FILES or None, initial=initial)
    back = (
        reverse("congestion:camera_detail", kwargs={"congestion_camera_id": cc.pk})
        if cc
        else reverse("congestion:group_detail", kwargs={"group_id": group.pk})  # type: ignore[union-attr]
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if form.is_valid():
            try:
                services.alert_update(user=request.user, congestion_camera=cc, group=group, **kwargs)
            except ValidationError as exc:
                for errors in exc.message_dict.values():
                    form.add_error(None, errors)
            else:
                messages.success(request, _("The congestion alert settings were saved."))
                return redirect(back)
    owner = cc or group
    context = {"form": form, "setting": setting, "owner": owner, "cc": cc, "group": group, "back": back}
    return _render(request, "congestion/alerts.html", context, status=400 if form.errors else 200)


@login_required
@GET_POST
def camera_alerts_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    return _alert_page(request, cc=cc)


@login_required
@GET_POST
def group_alerts_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    return _alert_page(request, group=group)


# ----------------------------------------------------------------------------- business hours


def _rule_text(rule: HoursRule) -> str:
    from .forms import WEEKDAYS

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
                        services.offhours_image_set(user=request.user, congestion_camera=cc, jpeg=upload.read())
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


@login_required
@GET
def camera_history_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    day = _parse_day(request.GET.get("day"))
    days = max(1, min(int(request.GET.get("days", "1") or 1) if request.GET.get("days", "1").isdigit() else 1, 7))
    start, _end = selectors.day_range(day)
    rows = rules.quarter_stats(
        selectors.samples_for(congestion_camera=cc, start=start, end=start + timedelta(days=days))
    )
    data = [
        {
            "t": r["start"].strftime("%m-%d %H:%M"),
            "point": r["point"],
            "avg": r["avg"],
            "max": r["max"],
            "min": r["min"],
        }
        for r in rows
    ]
    context = {
        "cc": cc,
        "day": day,
        "days": days,
        "data": json.dumps(data),
        "has_data": bool(data),
        "prev": day - timedelta(days=days),
        "next": day + timedelta(days=days),
        "month_form": MonthForm(),
    }
    return _render(request, "congestion/history.html", context)


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


# ----------------------------------------------------------------------------- groups


def group_status(group: Group) -> dict:
    setting = selectors.alert_setting_for(group=group)
    count = selectors.group_count(group=group)
    step = rules.step_for(count, setting.thresholds) if setting else 1
    return {
        "group": group,
        "count": count,
        "setting": setting,
        "step": step,
        "label": rules.status_label(step, setting.steps) if setting else "",
    }


@login_required
@GET
def group_list_view(request: HttpRequest) -> HttpResponse:
    groups = selectors.group_list(operator=request.operator, user=request.user)
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "congestion/group_list.html", {"page": page, "statuses": [group_status(g) for g in page]})


@login_required
@GET
def group_detail_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
    context = group_status(group) | {"cameras": [camera_status(c) for c in group.cameras.all()]}
    return _render(request, "congestion/group_detail.html", context)


@login_required
@GET
def group_image_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
    status = group_status(group)
    if selectors.is_open_now(congestion_camera=group.default_camera):
        alert = _alert_image(status["setting"], status["step"])
        if alert is not None:
            return _jpeg(alert)
    return _jpeg(camera_display_jpeg(group.default_camera))


def _group_form_page(request: HttpRequest, group: Group | None) -> HttpResponse:
    cameras = list(selectors.congestion_camera_list(operator=request.operator, user=request.user))
    initial = {}
    if group:
        initial = {
            "name": group.name,
            "cameras": [c.pk for c in group.cameras.all()],
            "default_camera": group.default_camera_id,
        }
    form = GroupForm(request.POST or None, initial=initial, cameras=cameras)
    if request.method == "POST" and form.is_valid():
        by_id = {c.pk: c for c in cameras}
        chosen = [by_id[pk] for pk in form.cleaned_data["cameras"] if pk in by_id]
        default = by_id.get(form.cleaned_data["default_camera"])
        try:
            if group is None:
                group = services.group_create(
                    user=request.user,
                    operator=request.operator,
                    name=form.cleaned_data["name"],
                    cameras=chosen,
                    default_camera=default,
                )
                messages.success(request, _("The group %(name)s was created.") % {"name": group.name})
            else:
                services.group_update(
                    user=request.user,
                    group=group,
                    name=form.cleaned_data["name"],
                    cameras=chosen,
                    default_camera=default,
                )
                messages.success(request, _("The group %(name)s was saved.") % {"name": group.name})
        except ValidationError as exc:
            for errors in exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]:
                form.add_error(None, errors)
        else:
            return redirect("congestion:group_detail", group_id=group.pk)
    status = 400 if form.errors else 200
    return _render(request, "congestion/group_form.html", {"form": form, "group": group, "cameras": cameras}, status)


@login_required
@GET_POST
def group_add_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return _group_form_page(request, None)


@login_required
@GET_POST
def group_edit_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    return _group_form_page(request, group)


@login_required
@GET_POST
def group_delete_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    if request.method == "POST":
        name = group.name
        services.group_delete(user=request.user, group=group)
        messages.success(request, _("The group %(name)s was deleted.") % {"name": name})
        return redirect("congestion:group_list")
    return _render(request, "congestion/group_delete.html", {"group": group, "cameras": list(group.cameras.all())})
