"""Pages of notification settings, recording conditions, the clip link and the demo mail sink.

Objects come through the access functions (another operator's id is a 404). Notification pages
are admin-only even to read (403 for viewers); a camera's conditions are readable by every role
(they are shown beside its live view) and changed by admins only.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from buildings.selectors import access_building, access_room, building_list
from devices.selectors import camera_list
from tenants.access import require_admin

from . import mail_sink, services
from .conf import mail_sink_dir
from .forms import ConditionRoomForm, ConditionSensorForm, NotificationSettingForm
from .mail import clip_from_link
from .models import NotificationType
from .selectors import (
    access_camera,
    access_notification_room,
    access_sensor,
    condition_candidate_rooms,
    condition_candidate_sensors,
    conditions_in_force,
    notification_setting_for,
    rooms_with_notification_settings,
)

PAGE_SIZE = 50
GET_POST = require_http_methods(["GET", "POST"])


def paginate(request: HttpRequest, items) -> object:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@require_http_methods(["GET"])
def index_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    buildings = building_list(operator=request.operator)
    cameras = (
        camera_list(operator=request.operator)
        .annotate(condition_count=Count("recording_conditions"))
        .order_by("room__building__name", "room__name", "name", "pk")
    )
    return render(request, "recording/index.html", {"buildings": buildings, "page": paginate(request, cameras)})


# ----------------------------------------------------------------------------- notification settings


@login_required
@require_http_methods(["GET"])
def notification_building_view(request: HttpRequest, building_id: int) -> HttpResponse:
    building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
    rooms = rooms_with_notification_settings(operator=request.operator, building=building)
    return render(
        request, "recording/notification_building.html", {"building": building, "page": paginate(request, rooms)}
    )


@login_required
@GET_POST
def notification_room_view(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access_notification_room(operator=request.operator, user=request.user, pk=room_id)
    back_url = reverse("recording:notification_building", kwargs={"building_id": room.building_id})
    if request.method == "POST":
        form = NotificationSettingForm(request.POST)
        if form.is_valid():
            try:
                services.notification_setting_update(user=request.user, room=room, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The notification setting of %(room)s was saved.") % {"room": room.name})
                return redirect(back_url)
    else:
        form = NotificationSettingForm(initial=NotificationSettingForm.initial_for(notification_setting_for(room=room)))
    context = {"form": form, "building": room.building, "room": room, "back_url": back_url}
    return render(request, "recording/notification_form.html", context)


@login_required
@GET_POST
def notification_bulk_view(request: HttpRequest, building_id: int) -> HttpResponse:
    """Edit → confirm ("overwrites N rooms") → save; `back` returns to the edit keeping the input."""
    building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
    back_url = reverse("recording:notification_building", kwargs={"building_id": building.pk})
    rooms = rooms_with_notification_settings(operator=request.operator, building=building)
    context = {"building": building, "rooms": rooms, "back_url": back_url, "bulk": True}
    if request.method == "POST":
        form = NotificationSettingForm(request.POST)
        if "back" not in request.POST and form.is_valid():
            if "confirm" in request.POST:
                try:
                    count = services.notification_setting_bulk_update(
                        user=request.user, building=building, **form.cleaned_data
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(
                        request,
                        ngettext(
                            "The notification setting of %(count)d room was overwritten.",
                            "The notification settings of %(count)d rooms were overwritten.",
                            count,
                        )
                        % {"count": count},
                    )
                    return redirect(back_url)
            else:
                context.update(
                    form=form,
                    recipients=form.cleaned_data["recipients"],
                    type_label=NotificationType(form.cleaned_data["notification_type"]).label,
                )
                return render(request, "recording/notification_bulk_confirm.html", context)
    else:
        form = NotificationSettingForm(initial=_common_initial(rooms))
    context["form"] = form
    return render(request, "recording/notification_form.html", context)


def _common_initial(rooms) -> dict:
    """Prefill the bulk form with the rooms' setting when they all share one, else the default."""
    settings = {(r.notification.notification_type, tuple(r.notification.recipients)) for r in rooms}
    if len(settings) == 1:
        notification_type, recipients = settings.pop()
        return {"notification_type": notification_type, "recipients": "\n".join(recipients)}
    return {}


# ----------------------------------------------------------------------------- recording conditions


@login_required
@require_http_methods(["GET"])
def conditions_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id)
    conditions = conditions_in_force(operator=request.operator, camera=camera)
    added = sum(1 for c in conditions if not c.automatic)
    return render(request, "recording/conditions.html", {"camera": camera, "conditions": conditions, "added": added})


@login_required
@GET_POST
def condition_add_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """Camera (chosen) → other room → sensor → confirm → set, as in the manual."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    list_url = reverse("recording:conditions", kwargs={"camera_id": camera.pk})
    context: dict = {"camera": camera, "list_url": list_url}
    rooms = condition_candidate_rooms(operator=request.operator, camera=camera)
    if "room" not in request.GET:
        context.update(step=1, form=ConditionRoomForm(rooms=rooms), rooms_exist=rooms.exists())
        return render(request, "recording/condition_add.html", context)

    room_form = ConditionRoomForm(request.GET, rooms=rooms)
    if not room_form.is_valid():
        # Another operator's room is the same 404 as everywhere; an own room that cannot be chosen
        # (the camera's, or one without sensors) is shown again with the form's message.
        access_room(operator=request.operator, user=request.user, pk=request.GET.get("room"))
        context.update(step=1, form=room_form, rooms_exist=rooms.exists())
        return render(request, "recording/condition_add.html", context, status=400)
    room = access_room(operator=request.operator, user=request.user, pk=room_form.cleaned_data["room"])
    sensors = condition_candidate_sensors(operator=request.operator, camera=camera, room=room)
    context.update(step=2, room=room)
    if request.method == "POST":
        form = ConditionSensorForm(request.POST, sensors=sensors)
        if "back" not in request.POST and form.is_valid():
            sensor = access_sensor(operator=request.operator, user=request.user, pk=form.cleaned_data["sensor"])
            if "confirm" in request.POST:
                try:
                    services.condition_add(user=request.user, camera=camera, sensor=sensor)
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                else:
                    messages.success(
                        request,
                        _("%(camera)s now also records when %(sensor)s detects motion.")
                        % {"camera": camera.name, "sensor": sensor.name},
                    )
                    return redirect(list_url)
            else:
                context.update(step=3, form=form, sensor=sensor)
                return render(request, "recording/condition_add.html", context)
    else:
        form = ConditionSensorForm(sensors=sensors)
    context.update(form=form, sensors_exist=sensors.exists())
    return render(request, "recording/condition_add.html", context)


@login_required
@GET_POST
def condition_delete_view(request: HttpRequest, camera_id: int, sensor_id: int) -> HttpResponse:
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    sensor = access_sensor(operator=request.operator, user=request.user, pk=sensor_id)
    list_url = reverse("recording:conditions", kwargs={"camera_id": camera.pk})
    automatic = services.condition_is_automatic(camera=camera, sensor=sensor)
    if request.method == "POST" and not automatic:
        try:
            services.condition_delete(user=request.user, camera=camera, sensor=sensor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("The recording condition was deleted: %(sensor)s no longer triggers %(camera)s.")
                % {"sensor": sensor.name, "camera": camera.name},
            )
        return redirect(list_url)
    context = {"camera": camera, "sensors": [sensor], "automatic": automatic, "list_url": list_url}
    status = 400 if automatic and request.method == "POST" else 200
    return render(request, "recording/condition_delete_confirm.html", context, status=status)


@login_required
@GET_POST
def conditions_delete_all_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """The manual's "撮影条件削除": every added condition of the camera goes at once."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    list_url = reverse("recording:conditions", kwargs={"camera_id": camera.pk})
    if request.method == "POST":
        count = services.conditions_delete_all(user=request.user, camera=camera)
        messages.success(
            request,
            ngettext(
                "%(count)d recording condition was deleted.", "%(count)d recording conditions were deleted.", count
            )
            % {"count": count},
        )
        return redirect(list_url)
    sensors = [c.sensor for c in conditions_in_force(operator=request.operator, camera=camera) if not c.automatic]
    context = {"camera": camera, "sensors": sensors, "automatic": False, "all": True, "list_url": list_url}
    return render(request, "recording/condition_delete_confirm.html", context)


# ----------------------------------------------------------------------------- clip link, demo mails


@require_http_methods(["GET"])
def clip_download_view(request: HttpRequest) -> HttpResponse:
    """A clip linked from a notification mail (too large to attach). The signed, expiring token is
    the authorization: recipients need not have an account. A bad or old token is a 404."""
    found = clip_from_link(request.GET.get("t", ""))
    if found is None:
        raise Http404
    _operator_id, clip_path = found
    try:
        handle = default_storage.open(clip_path, "rb")
    except (OSError, ValueError):
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=clip_path.rsplit("/", 1)[-1])


@login_required
@require_http_methods(["GET"])
def staff_mails_view(request: HttpRequest) -> HttpResponse:
    """Mails received by the demo SMTP sink (`manage.py mail_sink`). Platform staff only."""
    if not request.user.is_staff:
        raise PermissionDenied
    folder = mail_sink_dir()
    shown = mail_sink.find_mail(folder, request.GET["mail"]) if request.GET.get("mail") else None
    if request.GET.get("mail") and shown is None:
        raise Http404
    body = ""
    if shown is not None:
        part = shown.message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
    page = paginate(request, mail_sink.list_mails(folder))
    return render(request, "recording/staff_mails.html", {"page": page, "shown": shown, "body": body, "folder": folder})
