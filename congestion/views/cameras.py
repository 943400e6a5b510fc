"""Congestion camera pages: list, add, live view and image, settings, background, monitoring, remove."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.web import GET, GET_POST, paginate
from tenants.access import require_admin
from workers.frames import SnapshotError

from .. import selectors, services
from ..forms import (
    BackgroundForm,
    CameraAddForm,
    CameraSettingsForm,
)
from ..models import Mode
from .common import (
    PAGE_SIZE,
    _jpeg,
    _render,
    _static_jpeg,
    camera_display_jpeg,
    camera_status,
)

# ----------------------------------------------------------------------------- cameras


@login_required
@GET
def index_view(request: HttpRequest) -> HttpResponse:
    cameras = selectors.cameras_with_status(
        selectors.congestion_camera_list(operator=request.operator, user=request.user)
    )
    page = paginate(request, cameras, per_page=PAGE_SIZE)
    statuses = [camera_status(cc) for cc in page]
    context = {"page": page, "statuses": statuses, "licenses": selectors.option_licenses(operator=request.operator)}
    guide = selectors.getting_started(operator=request.operator, user=request.user)
    if not guide["done"]:
        context["guide"] = guide
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
    context = {
        "cc": cc,
        "form": form,
        "background_form": BackgroundForm(initial={"blur_level": cc.blur_level}),
        "level_shown": _level_shown(form, cc),
    }
    return _render(request, "congestion/camera_settings.html", context)


def _level_shown(form: CameraSettingsForm, cc) -> bool:
    """The detection level row is shown for detailed mode only: the mode being submitted, else the saved one."""
    mode = form.data.get("mode") if form.is_bound else cc.mode
    return mode == Mode.DETAILED


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
                jpeg, blur = data["image"], None
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
    context = {"cc": cc, "form": settings_form, "background_form": form, "level_shown": _level_shown(settings_form, cc)}
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
