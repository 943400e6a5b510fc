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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from buildings.hooks import media_summary
from buildings.selectors import access_building, access_room, room_list
from portal.web import GET_POST, RenamePage, delete_flow, rename_flow
from tenants.access import require_admin

from . import hooks
from .forms import (
    ChannelAddForm,
    DeviceAddForm,
    DeviceExchangeForm,
    DeviceRenameForm,
    RegistrationBuildingForm,
    RegistrationRoomForm,
    RegistrationStartForm,
    StreamSettingsForm,
)
from .models import DeviceKind
from .registration import Registration, registration_complete
from .selectors import access_device, device_exchange_list, device_list
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
    try:
        check = device_trouble_refresh(device=device)  # recording's stream check (devices/hooks.py)
    except ValidationError as exc:  # the license stops remote maintenance
        messages.error(request, " ".join(exc.messages))
        return redirect(_device_url(device))
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
        media=media_summary(device=device),
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
    context = {"device": device, "form": form, "stage": stage}
    context["maintenance_refusal"] = hooks.maintenance_refusal(device=device)
    return render(request, "devices/exchange.html", context)


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
    context = {"device": device, "form": form, "maintenance_refusal": hooks.maintenance_refusal(device=device)}
    return render(request, "devices/stream.html", context)


# --- pages under /buildings/ in the `buildings:` namespace (devices/building_urls.py) --------------


@login_required
@require_http_methods(["GET"])
def room_detail_view(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access_room(operator=request.operator, user=request.user, pk=room_id)
    devices = device_list(operator=request.operator, user=request.user, room=room)
    return render(request, "buildings/room_detail.html", {"room": room, "devices": devices})


# --- registration wizard: contract number + MAC → building → room + camera → confirm --------------

SESSION_KEY = "buildings.registration"
STEPS = [
    ("buildings:register", gettext_lazy("Contract number and MAC address")),
    ("buildings:register_building", gettext_lazy("Building")),
    ("buildings:register_room", gettext_lazy("Room and camera")),
    ("buildings:register_confirm", gettext_lazy("Confirm")),
]


class Wizard:
    """The wizard's state in the session: entered values plus `done`, the last step submitted valid.

    A step can only be opened once the steps before it are done; going back keeps what was typed.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.data: dict = request.session.get(SESSION_KEY) or {"done": 0}

    def save(self, done: int | None = None, **values) -> None:
        self.data.update(values)
        if done is not None:
            self.data["done"] = done
        self.request.session[SESSION_KEY] = self.data

    def clear(self) -> None:
        self.request.session.pop(SESSION_KEY, None)

    def guard(self, step: int) -> HttpResponse | None:
        """Redirect to the first unfinished step when `step` (1-based) is not reachable yet."""
        if self.data.get("done", 0) >= step - 1:
            return None
        return redirect(STEPS[self.data.get("done", 0)][0])

    def render(self, step: int, template: str, context: dict) -> HttpResponse:
        steps = [{"label": label, "current": i + 1 == step, "number": i + 1} for i, (_url, label) in enumerate(STEPS)]
        return render(self.request, template, {"steps": steps, "step": step, "wizard": self.data, **context})

    def building(self):
        """The existing building chosen in step 2 (None for a new one). Raises Http404 when it was
        deleted meanwhile (or never was this operator's)."""
        if self.data.get("choice") != RegistrationBuildingForm.EXISTING or not self.data.get("building_id"):
            return None
        return access_building(operator=self.request.operator, user=self.request.user, pk=self.data["building_id"])

    def building_or_restart(self):
        """(building, None), or (None, redirect to step 2 with a message) when it is gone."""
        try:
            return self.building(), None
        except Http404:
            self.save(done=1, building_id=None)
            messages.error(self.request, _("The selected building no longer exists. Choose the building again."))
            return None, redirect("buildings:register_building")


@login_required
@GET_POST
def register_start_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    wizard = Wizard(request)
    if request.method == "GET" and "restart" in request.GET:
        wizard.clear()
        wizard = Wizard(request)
    if request.method == "POST":
        form = RegistrationStartForm(request.POST, operator=request.operator)
        if form.is_valid():
            wizard.save(done=1, contract_number=form.cleaned_data["contract_number"], mac=form.cleaned_data["mac"])
            return redirect("buildings:register_building")
    else:
        initial = {k: wizard.data.get(k, "") for k in ("contract_number", "mac")}
        form = RegistrationStartForm(initial=initial, operator=request.operator)
    return wizard.render(1, "buildings/register_step.html", {"form": form})


@login_required
@GET_POST
def register_building_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    wizard = Wizard(request)
    if response := wizard.guard(2):
        return response
    if request.method == "POST" and "back" in request.POST:
        wizard.save(
            done=1,
            choice=request.POST.get("choice", "new"),
            building_id=request.POST.get("building") or None,
            building_name=request.POST.get("building_name", ""),
        )
        return redirect("buildings:register")
    if request.method == "POST":
        form = RegistrationBuildingForm(request.POST, operator=request.operator)
        if form.is_valid():
            building = form.cleaned_data["building"]
            wizard.save(
                done=2,
                choice=form.cleaned_data["choice"],
                building_id=building.pk if building else None,
                building_name=form.cleaned_data["building_name"],
            )
            return redirect("buildings:register_room")
    else:
        initial = {
            "choice": wizard.data.get("choice", RegistrationBuildingForm.NEW),
            "building": wizard.data.get("building_id"),
            "building_name": wizard.data.get("building_name", ""),
        }
        form = RegistrationBuildingForm(initial=initial, operator=request.operator)
    return wizard.render(2, "buildings/register_step.html", {"form": form, "back": True})


@login_required
@GET_POST
def register_room_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    wizard = Wizard(request)
    if response := wizard.guard(3):
        return response
    if request.method == "POST" and "back" in request.POST:
        wizard.save(
            done=2, room_name=request.POST.get("room_name", ""), camera_name=request.POST.get("camera_name", "")
        )
        return redirect("buildings:register_building")
    building, restart = wizard.building_or_restart()
    if restart:
        return restart
    if request.method == "POST":
        form = RegistrationRoomForm(request.POST, building=building)
        if form.is_valid():
            wizard.save(done=3, room_name=form.cleaned_data["room_name"], camera_name=form.cleaned_data["camera_name"])
            return redirect("buildings:register_confirm")
    else:
        initial = {k: wizard.data.get(k, "") for k in ("room_name", "camera_name")}
        form = RegistrationRoomForm(initial=initial, building=building)
    return wizard.render(3, "buildings/register_step.html", {"form": form, "back": True, "building": building})


@login_required
@GET_POST
def register_confirm_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    wizard = Wizard(request)
    if response := wizard.guard(4):
        return response
    if request.method == "POST" and "back" in request.POST:
        return redirect("buildings:register_room")
    building, restart = wizard.building_or_restart()
    if restart:
        return restart
    errors: list[str] = []
    if request.method == "POST":
        registration = Registration(
            contract_number=wizard.data["contract_number"],
            mac=wizard.data["mac"],
            building_id=building.pk if building else None,
            building_name=wizard.data.get("building_name", ""),
            room_name=wizard.data["room_name"],
            camera_name=wizard.data["camera_name"],
        )
        try:
            camera = registration_complete(operator=request.operator, user=request.user, registration=registration)
        except ValidationError as exc:
            # Something changed since the steps were checked; nothing was saved. Say what, let them fix it.
            errors = exc.messages
        else:
            wizard.clear()
            messages.success(
                request,
                _("The building and room were added and the camera %(name)s was registered with its sensor.")
                % {"name": camera.name},
            )
            return redirect("buildings:detail", building_id=camera.room.building_id)
    return wizard.render(4, "buildings/register_confirm.html", {"building": building, "errors": errors})
