"""Device pages: detail with trouble state and exchange history, add to a room (a camera or an edge
recorder), a recorder's channels, rename, delete, exchange (new MAC) and stream settings.

Objects come through `access_device` / `access_room`: another operator's id is a 404; changes
ask for `write=True`, so a viewer or device operator gets 403 even on the form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from buildings.selectors import access_room, room_list
from portal.web import GET_POST, RenamePage, delete_flow, rename_flow
from tenants.access import require_admin

from . import hooks
from .forms import ChannelAddForm, DeviceAddForm, DeviceExchangeForm, DeviceRenameForm, StreamSettingsForm
from .models import DeviceKind
from .selectors import access_device, device_exchange_list
from .services import (
    MAX_CHANNELS,
    camera_register,
    channel_add,
    device_delete,
    device_delete_summary,
    device_exchange,
    device_rename,
    device_set_stream,
    device_trouble_refresh,
    recorder_register,
)


def _room_url(room) -> str:
    return reverse("buildings:room_detail", kwargs={"room_id": room.pk})


def _device_url(device) -> str:
    return reverse("devices:detail", kwargs={"device_id": device.pk})


@login_required
@require_http_methods(["GET"])
def device_detail_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = access_device(operator=request.operator, user=request.user, pk=device_id)
    context = {"device": device, "exchanges": device_exchange_list(operator=request.operator, device=device)}
    if device.kind == DeviceKind.RECORDER:
        context["channels"] = device.children.filter(kind=DeviceKind.CAMERA).order_by("channel")
    if device.kind == DeviceKind.CAMERA and device.operator_id == request.operator.pk:
        # Own cameras only: a shared camera's triggers would reveal the owner's rooms and sensors.
        context["camera"] = device
        context.update(hooks.camera_context(operator=request.operator, camera=device))  # recording's conditions
    return render(request, "devices/device_detail.html", context)


@login_required
@require_POST
def trouble_refresh_view(request: HttpRequest, device_id: int) -> HttpResponse:
    # Open to every role of the owner, as on the manual's room list ("トラブル情報更新"). It probes the
    # camera and may mail the owner's recipients, so a receiver of a shared camera gets the 404 of a write.
    device = access_device(operator=request.operator, user=request.user, pk=device_id)
    if device.operator_id != request.operator.pk:
        raise Http404
    device_trouble_refresh(device=device)
    check = hooks.trouble_probe(camera=device)  # recording's stream check (devices/hooks.py)
    messages.success(request, _("The trouble information was refreshed."))
    if check is not None and check.message:
        (messages.info if check.checked and not check.problem else messages.warning)(request, check.message)
    return redirect(_device_url(device))


@login_required
@require_http_methods(["GET"])
def device_add_select_view(request: HttpRequest) -> HttpResponse:
    """'Add device' from the menu: choose the room first (rooms exist only through the wizard)."""
    require_admin(request.user)
    if request.GET.get("room"):
        room = access_room(operator=request.operator, user=request.user, pk=request.GET["room"], write=True)
        return redirect("devices:add", room_id=room.pk)
    return render(request, "devices/add_select.html", {"rooms": room_list(operator=request.operator)})


@login_required
@GET_POST
def device_add_view(request: HttpRequest, room_id: int) -> HttpResponse:
    """Kind (camera or edge recorder), MAC + name → confirm → registered (a camera with its sensor)."""
    room = access_room(operator=request.operator, user=request.user, pk=room_id, write=True)
    stage = "edit"
    if request.method == "POST" and "back" in request.POST:
        form = DeviceAddForm(initial={key: request.POST.get(key, "") for key in ("kind", "mac", "name")})
    elif request.method == "POST":
        form = DeviceAddForm(request.POST)
        if form.is_valid():
            if "confirm" in request.POST:
                data = form.cleaned_data
                try:
                    if data["kind"] == DeviceKind.RECORDER:
                        device = recorder_register(user=request.user, room=room, name=data["name"], mac=data["mac"])
                    else:
                        device = camera_register(user=request.user, room=room, name=data["name"], mac=data["mac"])
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    if device.kind == DeviceKind.RECORDER:
                        text = _("The edge recorder %(name)s was added to %(room)s.") + " "
                        text += _("Now set its stream and add its channels.")
                        messages.success(request, text % {"name": device.name, "room": room.name})
                        return redirect(_device_url(device))
                    messages.success(
                        request,
                        _("The camera %(name)s and its motion sensor were added to %(room)s.")
                        % {"name": device.name, "room": room.name},
                    )
                    return redirect("buildings:detail", building_id=room.building_id)
            else:
                stage = "confirm"
    else:
        form = DeviceAddForm()
    return render(request, "devices/add.html", {"room": room, "form": form, "stage": stage})


@login_required
@GET_POST
def channel_add_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """Register one channel of an edge recorder as a camera (it needs a camera license)."""
    recorder = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
    if recorder.kind != DeviceKind.RECORDER:
        raise Http404
    if request.method == "POST":
        form = ChannelAddForm(request.POST, recorder=recorder)
        if form.is_valid():
            try:
                camera = channel_add(
                    user=request.user,
                    recorder=recorder,
                    channel=form.cleaned_data["channel"],
                    name=form.cleaned_data["name"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Channel %(channel)d was added as the camera %(name)s.")
                    % {"channel": camera.channel, "name": camera.name},
                )
                return redirect(_device_url(recorder))
    else:
        used = set(recorder.children.values_list("channel", flat=True))
        free = next((n for n in range(1, MAX_CHANNELS + 1) if n not in used), None)
        form = ChannelAddForm(recorder=recorder, initial={"channel": free})
    return render(request, "devices/channel_add.html", {"recorder": recorder, "form": form})


@login_required
@GET_POST
def device_rename_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
    return rename_flow(
        request,
        form_class=DeviceRenameForm,
        form_kwargs={},
        page=RenamePage(
            title=_("Rename device"),
            facts=[(_("Building"), device.room.building.name), (_("Room"), device.room.name)],
            before=device.name,
            cancel_url=_device_url(device),
        ),
        save=lambda name: device_rename(user=request.user, device=device, name=name),
        success_message=_("The device was renamed."),
        success_url=_device_url(device),
    )


@login_required
@GET_POST
def device_delete_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
    name, room = device.name, device.room
    return delete_flow(
        request,
        title=_("Delete device"),
        facts=[(_("Building"), room.building.name), (_("Room"), room.name), (_("Device"), name)],
        summary=device_delete_summary(device),
        cancel_url=_device_url(device),
        delete=lambda: device_delete(user=request.user, device=device),
        success_message=_("The device %(name)s was deleted.") % {"name": name},
        success_url=_room_url(room),
    )


@login_required
@GET_POST
def device_exchange_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """New MAC → confirm (old → new) → exchanged; room, name, settings and history stay."""
    device = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
    stage = "edit"
    if request.method == "POST" and "back" in request.POST:
        form = DeviceExchangeForm(initial={"mac": request.POST.get("mac", "")}, device=device)
    elif request.method == "POST":
        form = DeviceExchangeForm(request.POST, device=device)
        if form.is_valid():
            if "confirm" in request.POST:
                old_mac = device.mac
                try:
                    device_exchange(user=request.user, device=device, new_mac=form.cleaned_data["mac"])
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(
                        request,
                        _("The camera was exchanged: %(old)s → %(new)s.")
                        % {"old": old_mac, "new": form.cleaned_data["mac"]},
                    )
                    return redirect(_device_url(device))
            else:
                stage = "confirm"
    else:
        form = DeviceExchangeForm(device=device)
    return render(request, "devices/exchange.html", {"device": device, "form": form, "stage": stage})


@login_required
@GET_POST
def device_stream_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
    if device.kind == DeviceKind.SENSOR:
        messages.error(request, _("Only a camera has stream settings."))
        return redirect(_device_url(device))
    if request.method == "POST":
        form = StreamSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                device_set_stream(
                    user=request.user,
                    device=device,
                    source=data["source"],
                    rtsp_url=data["rtsp_url"] or None,
                    onvif_host=data["onvif_host"],
                    onvif_port=data["onvif_port"],
                    onvif_user=data["onvif_user"],
                    onvif_password=data["onvif_password"] or None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The stream settings were saved."))
                return redirect(_device_url(device))
    else:
        # Secrets are never put back into the form: only their "set" / "not set" state is shown.
        form = StreamSettingsForm(
            initial={
                "source": device.stream_source,
                "onvif_host": device.onvif_host,
                "onvif_port": device.onvif_port,
                "onvif_user": device.onvif_user,
            }
        )
    return render(request, "devices/stream.html", {"device": device, "form": form})
