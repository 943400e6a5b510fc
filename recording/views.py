"""Pages of notification settings, recording conditions, the clip link and the demo mail sink.

Objects come through the access functions (another operator's id is a 404). Notification pages
are admin-only even to read (403 for viewers); a camera's conditions are readable by every role
(they are shown beside its live view) and changed by admins only.
"""

import json
from datetime import UTC, date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from buildings.selectors import access_building, access_room, building_list
from devices.media_tokens import camera_access_token
from devices.selectors import camera_list
from devices.services import device_secret_rotate
from portal.web import GET_POST, paginate
from tenants.access import require_admin
from workers.frames import SnapshotError, grab_snapshot
from workers.hls import PLAYLIST

from . import media_services, services, sunk_mails
from .calendar import month_calendar
from .conf import export_max_minutes as export_max_minutes_default
from .conf import ingest_worker_stale_seconds, live_start_wait_seconds, mail_sink_dir, motion_max_gop_seconds
from .file_responses import stored_file_response
from .forms import (
    BulkRecipientsForm,
    BulkTypeForm,
    ConditionRoomForm,
    ConditionSensorForm,
    ExportForm,
    MotionSettingsForm,
    NotificationSettingForm,
    RecordingSettingsForm,
)
from .mail import clip_from_link
from .media_selectors import (
    LIVE_FILE,
    access_clip,
    access_export,
    access_segment,
    camera_stream_url,
    clip_list,
    day_bounds,
    device_for_motion,
    export_list,
    ingest_overview,
    live_file,
    live_media_camera,
    media_blocked_message,
    media_blocked_reason,
    motion_list,
    recording_days,
    recording_settings_for,
    retention_figure,
    segment_list,
)
from .models import MotionEvent, NotificationType
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


BULK_FIELDS = {
    # field → (form, service, the message after saving)
    "recipients": (
        BulkRecipientsForm,
        services.notification_recipients_bulk_update,
        lambda n: ngettext(
            "The recipients of %(count)d room were set; its notification type stayed.",
            "The recipients of %(count)d rooms were set; their notification types stayed.",
            n,
        ),
    ),
    "notification_type": (
        BulkTypeForm,
        services.notification_type_bulk_update,
        lambda n: ngettext(
            "The notification type of %(count)d room was set; its recipients stayed.",
            "The notification type of %(count)d rooms was set; their recipients stayed.",
            n,
        ),
    ),
}


@login_required
@GET_POST
def notification_bulk_recipients_view(request: HttpRequest, building_id: int) -> HttpResponse:
    return _notification_bulk(request, building_id, "recipients")


@login_required
@GET_POST
def notification_bulk_type_view(request: HttpRequest, building_id: int) -> HttpResponse:
    return _notification_bulk(request, building_id, "notification_type")


def _notification_bulk(request: HttpRequest, building_id: int, field: str) -> HttpResponse:
    """One field for the whole building (docs/product.md §5.2): edit (the rooms' current values shown, the
    differing ones marked) → confirm (the rooms that change, with their current value) → saved. The other
    field of every room stays. `back` returns to the edit keeping the input."""
    building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
    form_class, service, done_message = BULK_FIELDS[field]
    back_url = reverse("recording:notification_building", kwargs={"building_id": building.pk})
    rooms = list(rooms_with_notification_settings(operator=request.operator, building=building))
    values = {_bulk_value(room, field) for room in rooms}
    context = {"building": building, "rooms": rooms, "back_url": back_url, "field": field, "differ": len(values) > 1}
    form = form_class(request.POST or None, initial=_bulk_initial(values, field))
    if request.method == "POST" and "back" not in request.POST and form.is_valid():
        value = form.cleaned_data[field]
        try:
            changing = service(
                user=request.user, building=building, dry_run="confirm" not in request.POST, **{field: value}
            )
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            if "confirm" in request.POST:
                messages.success(request, done_message(len(changing)) % {"count": len(changing)})
                return redirect(back_url)
            ids = {room.pk for room in changing}
            context.update(
                form=form,
                value=value,
                changing=[room for room in rooms if room.pk in ids],
                unchanged=[room for room in rooms if room.pk not in ids],
                type_label=NotificationType(value).label if field == "notification_type" else "",
            )
            return render(request, "recording/notification_bulk_confirm.html", context)
    elif request.method == "POST" and "back" in request.POST:
        form = form_class(initial={field: request.POST.get(field, "").replace(",", "\n")})
    context["form"] = form
    return render(request, "recording/notification_bulk_form.html", context)


def _bulk_value(room, field: str):
    value = getattr(room.notification, field)
    return tuple(value) if field == "recipients" else value


def _bulk_initial(values: set, field: str) -> dict:
    """Prefill with the rooms' value when they all share one; when they differ, the form starts empty
    (the page lists each room's value) and saving changes only this one field."""
    if len(values) != 1:
        return {}
    (value,) = values
    return {field: "\n".join(value) if field == "recipients" else value}


def apply_form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


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
    return stored_file_response(request, clip_path, "video/mp4", clip_path.rsplit("/", 1)[-1])


@login_required
@require_http_methods(["GET"])
def staff_mails_view(request: HttpRequest) -> HttpResponse:
    """Mails received by the demo SMTP sink (`manage.py mail_sink`). Platform staff only."""
    if not request.user.is_staff:
        raise PermissionDenied
    folder = mail_sink_dir()
    shown = sunk_mails.find_mail(folder, request.GET["mail"]) if request.GET.get("mail") else None
    if request.GET.get("mail") and shown is None:
        raise Http404
    body = ""
    if shown is not None:
        part = shown.message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
    page = paginate(request, sunk_mails.list_mails(folder))
    return render(request, "recording/staff_mails.html", {"page": page, "shown": shown, "body": body, "folder": folder})


# ----------------------------------------------------------------------------- media: live, player, files
# Every file is served by a view that re-checks access (or by a short-lived signed token that is
# re-checked on each request); nothing is reachable at a public media URL.


def _camera_for_media(request: HttpRequest, camera_id: int):
    """The camera, and why its media is blocked ("" when it is not)."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id)
    return camera, media_blocked_reason(camera)


def _require_media(camera) -> None:
    if reason := media_blocked_reason(camera):
        raise PermissionDenied(media_blocked_message(reason))


def _stored_file_response(request: HttpRequest, name: str, content_type: str, download: str = "") -> HttpResponse:
    """A stored file, streamed in bounded chunks, with HTTP Range support (recording/file_responses.py)."""
    return stored_file_response(request, name, content_type, download)


@login_required
@require_http_methods(["GET"])
def live_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """Live view: hls.js on an HLS stream by stream copy, with a snapshot fallback."""
    camera, blocked = _camera_for_media(request, camera_id)
    context = {"camera": camera, "blocked": blocked, "stream_url": camera_stream_url(camera) != ""}
    if not blocked:
        media_services.live_request(camera=camera)
        token = camera_access_token(camera, request.operator, user=request.user)
        context["playlist_url"] = reverse("recording:live_media", kwargs={"media_token": token, "filename": PLAYLIST})
        context["token"] = token
        context["start_wait"] = live_start_wait_seconds()
    if camera.operator_id == request.operator.pk:
        context["conditions"] = conditions_in_force(operator=request.operator, camera=camera)
    context["settings_row"] = recording_settings_for(camera)
    return render(request, "recording/live.html", context)


@login_required
@require_http_methods(["GET"])
def live_token_view(request: HttpRequest, camera_id: int) -> JsonResponse:
    """A fresh media token for a page that stays open longer than a token lives."""
    camera, blocked = _camera_for_media(request, camera_id)
    if blocked:
        raise Http404
    media_services.live_request(camera=camera)
    return JsonResponse({"token": camera_access_token(camera, request.operator, user=request.user)})


@require_http_methods(["GET", "HEAD"])
def live_media_view(request: HttpRequest, media_token: str, filename: str) -> HttpResponse:
    """HLS playlist and segments. The signed token (camera_access_token) is the authorization and is
    re-checked against the camera's visibility and license on every request; a bad one is a 404.
    Under portal.asgi these URLs never reach Django: recording/live_http.py serves them with the same
    decision (live_media_camera) and files (live_file), kept per token for LIVE_RECHECK_SECONDS."""
    camera = live_media_camera(media_token) if LIVE_FILE.match(filename) else None
    if camera is None:
        raise Http404
    if filename == PLAYLIST:
        # Renewed even while the playlist does not exist yet: the worker may have taken the camera
        # after the page asked (a restart, a new lease), and it starts HLS only on a fresh request.
        media_services.live_request(camera=camera)
    found = live_file(camera.pk, filename)
    if found is None:
        raise Http404
    body, content_type = found
    if isinstance(body, bytes):  # the playlist
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "no-store"
        return response
    return FileResponse(body.open("rb"), content_type=content_type)


@login_required
@require_http_methods(["GET"])
def snapshot_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """A JPEG of the camera now (the live view's fallback where HLS cannot play), cached 2 s."""
    camera, blocked = _camera_for_media(request, camera_id)
    url = camera_stream_url(camera)
    if blocked or not url:
        raise Http404
    key = f"recording:snapshot:{camera.pk}"
    jpeg = cache.get(key)
    if jpeg is None:
        try:
            jpeg = grab_snapshot(url, width=640, timeout=5.0)
        except SnapshotError:
            raise Http404 from None
        cache.set(key, jpeg, 2)
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET"])
def thumbnail_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """The camera-list thumbnail (updated on motion)."""
    camera, blocked = _camera_for_media(request, camera_id)
    row = recording_settings_for(camera)
    if blocked or not row.thumbnail:
        raise Http404
    return _stored_file_response(request, row.thumbnail, "image/jpeg")


def _parse_day(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@login_required
@require_http_methods(["GET"])
def player_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """The player: a calendar day's 1-minute files (continuous) or event clips, with motion marks."""
    camera, blocked = _camera_for_media(request, camera_id)
    day = _parse_day(request.GET.get("day"))
    view = "event" if request.GET.get("view") == "event" else "continuous"
    start, end = day_bounds(day)
    context = {"camera": camera, "blocked": blocked, "day": day, "view": view}
    context["calendar"] = month_calendar(day, recording_days(camera=camera, month_start=day.replace(day=1)))
    context["prev_day"], context["next_day"] = day - timedelta(days=1), day + timedelta(days=1)
    if not blocked:
        segs = list(segment_list(camera=camera, start=start, end=end))
        motions = list(motion_list(camera=camera, start=start, end=end))
        clips = list(clip_list(camera=camera, start=start, end=end))
        context.update(segments=segs, clips=clips, motions=motions)
        context["player_data"] = {
            "dayStart": start.timestamp(),
            "segments": [
                {"id": s.pk, "start": s.start.timestamp(), "duration": s.duration,
                 "url": reverse("recording:segment_file", kwargs={"segment_id": s.pk}),
                 "download": reverse("recording:segment_file", kwargs={"segment_id": s.pk}) + "?download=1",
                 "audio": s.has_audio}  # False: no sound (the mute button is disabled); None: not known
                for s in segs
            ],
            "clips": [
                {"id": c.pk, "start": c.start.timestamp(), "duration": c.duration, "motion": c.motion_at.timestamp(),
                 "url": reverse("recording:clip_file", kwargs={"clip_id": c.pk}),
                 "download": reverse("recording:clip_file", kwargs={"clip_id": c.pk}) + "?download=1"}
                for c in clips
            ],
            "motions": [m.at.timestamp() for m in motions],
            "leadSeconds": 2,
            "view": view,
        }  # fmt: skip
        if camera.operator_id == request.operator.pk:  # docs/product.md §4.2: a receiver does not see the retention
            context["retention"] = retention_figure(camera)
        context["export_form"] = ExportForm(initial={"day": day})
    return render(request, "recording/player.html", context)


@login_required
@require_http_methods(["GET"])
def segment_file_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = access_segment(operator=request.operator, user=request.user, pk=segment_id)
    _require_media(segment.camera)
    # ?download=1: the player's "download this file", the 1-minute file as it is (no conversion).
    start = timezone.localtime(segment.start)
    download = f"{start:%Y%m%d-%H%M%S}.mp4" if request.GET.get("download") else ""
    return _stored_file_response(request, segment.storage_name, "video/mp4", download)


@login_required
@require_http_methods(["GET"])
def clip_file_view(request: HttpRequest, clip_id: int) -> HttpResponse:
    clip = access_clip(operator=request.operator, user=request.user, pk=clip_id)
    _require_media(clip.camera)
    download = f"{clip.motion_at:%Y%m%d-%H%M%S}.mp4" if request.GET.get("download") else ""
    return _stored_file_response(request, clip.storage_name, "video/mp4", download)


@login_required
@require_http_methods(["POST"])
def export_create_view(request: HttpRequest) -> HttpResponse:
    camera, _blocked = _camera_for_media(request, request.POST.get("camera"))
    form = ExportForm(request.POST)
    player_url = reverse("recording:player", kwargs={"camera_id": camera.pk})
    if form.is_valid():
        start, end = form.span()
        try:
            media_services.export_create(user=request.user, camera=camera, start=start, end=end)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(f"{player_url}?day={form.cleaned_data['day']}")
        messages.success(request, _("The export was started. It appears in the converted files when ready."))
        return redirect("recording:exports")
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect(player_url)


@login_required
@require_http_methods(["GET"])
def export_list_view(request: HttpRequest) -> HttpResponse:
    exports = export_list(operator=request.operator, user=request.user)
    return render(request, "recording/exports.html", {"exports": exports})


@login_required
@require_http_methods(["GET"])
def export_progress_view(request: HttpRequest, export_id: int) -> JsonResponse:
    export = access_export(operator=request.operator, user=request.user, pk=export_id)
    return JsonResponse(
        {"status": export.status, "status_label": export.get_status_display(), "progress": export.progress}
    )


@login_required
@require_http_methods(["GET"])
def export_download_view(request: HttpRequest, export_id: int) -> HttpResponse:
    export = access_export(operator=request.operator, user=request.user, pk=export_id)
    _require_media(export.camera)
    if export.status != export.Status.DONE:
        raise Http404
    return _stored_file_response(request, export.storage_name, "video/mp4", f"{export.start:%Y%m%d-%H%M}.mp4")


@login_required
@GET_POST
def export_delete_view(request: HttpRequest, export_id: int) -> HttpResponse:
    export = access_export(operator=request.operator, user=request.user, pk=export_id)
    if request.method == "POST":
        media_services.export_delete(user=request.user, export=export)
        messages.success(request, _("The converted file was deleted."))
        return redirect("recording:exports")
    return render(request, "recording/export_delete_confirm.html", {"export": export})


@login_required
@require_http_methods(["GET"])
def staff_ingest_view(request: HttpRequest) -> HttpResponse:
    """Every ingest (camera, worker, state, last segment, bitrate) and every worker's heartbeat. Staff only."""
    if not request.user.is_staff:
        raise PermissionDenied
    leases, workers = ingest_overview()
    stale = timezone.now() - timedelta(seconds=ingest_worker_stale_seconds())
    return render(
        request,
        "recording/staff_ingest.html",
        {"page": paginate(request, leases), "workers": workers, "stale_before": stale},
    )


@csrf_exempt
@require_http_methods(["POST"])
def motion_endpoint_view(request: HttpRequest, device_id: int) -> JsonResponse:
    """A camera's own motion sensor reports a detection. Machine-to-machine: the device's secret in
    `Authorization: Device <secret>` is the only authorization; any mismatch is the same 404 as an
    unknown device, so the endpoint tells nothing about which ids exist."""
    device = device_for_motion(device_id=device_id)
    secret = request.headers.get("Authorization", "").removeprefix("Device ").strip()
    if device is None or not secret or not constant_time_compare(secret, device.ingest_secret):
        raise Http404
    try:
        body = json.loads(request.body or b"{}")
        at = parse_datetime(body["at"]) if body.get("at") else timezone.now()
        ended = parse_datetime(body["ended_at"]) if body.get("ended_at") else at
        if at is None or ended is None:
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"error": "at / ended_at must be ISO 8601 date-times"}, status=400)
    at = at if timezone.is_aware(at) else at.replace(tzinfo=UTC)
    ended = ended if timezone.is_aware(ended) else ended.replace(tzinfo=UTC)
    events = media_services.motion_record(trigger=device, at=at, ended_at=ended, source=MotionEvent.Source.SENSOR)
    return JsonResponse({"events": len(events)}, status=202)


@login_required
@require_http_methods(["GET", "POST"])
def motion_settings_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """Where motion comes from (server-side or the camera's sensor), the sub-stream, and what the recorder
    found (keyframes only or full decode, the GOP, a stopped sub-stream)."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    row = recording_settings_for(camera)
    initial = {"motion_source": row.motion_source, "record_audio": row.record_audio}
    form = MotionSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.motion_settings_update(
                user=request.user,
                camera=camera,
                motion_source=data["motion_source"],
                sub_stream_url=data["sub_stream_url"] or None,
                clear_sub_stream=data["clear_sub_stream"],
                record_audio=data["record_audio"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The settings were saved. The recorder uses them within a few seconds."))
            return redirect("recording:motion_settings", camera_id=camera.pk)
    context = {"camera": camera, "row": row, "form": form, "max_gop": f"{motion_max_gop_seconds():g}"}
    return render(request, "recording/motion_settings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def recording_settings_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """The owner's quota (with how many days it holds) and export-length limit. A receiver of a shared
    camera gets a 404 (docs/product.md §4.2)."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    row = recording_settings_for(camera)
    initial = {
        "quota_gb": None if row.quota_bytes is None else round(row.quota_bytes / 10**9, 2),
        "export_max_minutes": row.export_max_minutes,
    }
    form = RecordingSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.recording_settings_update(
                user=request.user,
                camera=camera,
                quota_bytes=form.quota_bytes(),
                export_max_minutes=form.cleaned_data["export_max_minutes"],
                confirm_deletion=form.cleaned_data["confirm_deletion"],
            )
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            messages.success(request, _("The recording settings were saved."))
            return redirect("recording:recording_settings", camera_id=camera.pk)
    context = {
        "camera": camera,
        "form": form,
        "retention": retention_figure(camera),
        "default_export_minutes": export_max_minutes_default(),
        "motion_url": request.build_absolute_uri(reverse("recording:motion_endpoint", kwargs={"device_id": camera.pk})),
    }
    return render(request, "recording/recording_settings.html", context)


@login_required
@require_http_methods(["POST"])
def motion_secret_rotate_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """A new secret for the camera's motion endpoint, shown on this answer only (never stored in a message)."""
    camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
    secret = device_secret_rotate(user=request.user, device=camera)
    context = {
        "camera": camera,
        "form": RecordingSettingsForm(initial={}),
        "retention": retention_figure(camera),
        "default_export_minutes": export_max_minutes_default(),
        "motion_url": request.build_absolute_uri(reverse("recording:motion_endpoint", kwargs={"device_id": camera.pk})),
        "new_secret": secret,
    }
    response = render(request, "recording/recording_settings.html", context)
    response["Cache-Control"] = "no-store"
    return response
