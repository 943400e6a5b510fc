"""Camera groups: list, detail, image, add, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.web import GET, GET_POST, paginate
from tenants.access import require_admin

from .. import rules, selectors, services
from ..forms import (
    GroupForm,
)
from ..models import Group
from .common import (
    PAGE_SIZE,
    _alert_image,
    _jpeg,
    _render,
    camera_display_jpeg,
    camera_status,
)

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
    groups = selectors.groups_with_status(selectors.group_list(operator=request.operator, user=request.user))
    page = paginate(request, groups, per_page=PAGE_SIZE)
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
