"""Pages for buildings and rooms: the registration wizard, lists, rename and delete.

Every object comes through `access_building` / `access_room` (another operator's id is a 404);
every page that changes something asks for `write=True` or `require_admin` (others get 403),
even on GET, so a viewer never sees a settings form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from devices.selectors import device_list
from portal.web import GET_POST, RenamePage, delete_flow, paginate, rename_flow
from tenants.access import require_admin

from .forms import (
    BuildingRenameForm,
    RegistrationBuildingForm,
    RegistrationRoomForm,
    RegistrationStartForm,
    RoomRenameForm,
)
from .selectors import access_building, access_room, building_list, room_list
from .services import (
    Registration,
    building_delete,
    building_delete_summary,
    building_rename,
    registration_complete,
    room_delete,
    room_delete_summary,
    room_rename,
)

# --- lists ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def building_list_view(request: HttpRequest) -> HttpResponse:
    page = paginate(request, building_list(operator=request.operator, user=request.user))
    return render(request, "buildings/building_list.html", {"page": page})


@login_required
@require_http_methods(["GET"])
def building_detail_view(request: HttpRequest, building_id: int) -> HttpResponse:
    building = access_building(operator=request.operator, user=request.user, pk=building_id)
    page = paginate(request, room_list(operator=request.operator, building=building, user=request.user))
    return render(request, "buildings/building_detail.html", {"building": building, "page": page})


@login_required
@require_http_methods(["GET"])
def room_detail_view(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access_room(operator=request.operator, user=request.user, pk=room_id)
    devices = device_list(operator=request.operator, user=request.user, room=room)
    return render(request, "buildings/room_detail.html", {"room": room, "devices": devices})


# --- rename and delete: the shared flows of portal.web (edit → confirm → saved) -------------------


@login_required
@GET_POST
def building_rename_view(request: HttpRequest, building_id: int) -> HttpResponse:
    building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
    detail_url = reverse("buildings:detail", kwargs={"building_id": building.pk})
    return rename_flow(
        request,
        form_class=BuildingRenameForm,
        form_kwargs={"building": building},
        page=RenamePage(title=_("Rename building"), facts=[], before=building.name, cancel_url=detail_url),
        save=lambda name: building_rename(user=request.user, building=building, name=name),
        success_message=_("The building was renamed."),
        success_url=detail_url,
    )


@login_required
@GET_POST
def room_rename_view(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access_room(operator=request.operator, user=request.user, pk=room_id, write=True)
    detail_url = reverse("buildings:detail", kwargs={"building_id": room.building_id})
    return rename_flow(
        request,
        form_class=RoomRenameForm,
        form_kwargs={"room": room},
        page=RenamePage(
            title=_("Rename room"), facts=[(_("Building"), room.building.name)], before=room.name, cancel_url=detail_url
        ),
        save=lambda name: room_rename(user=request.user, room=room, name=name),
        success_message=_("The room was renamed."),
        success_url=detail_url,
    )


@login_required
@GET_POST
def building_delete_view(request: HttpRequest, building_id: int) -> HttpResponse:
    building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
    name = building.name
    return delete_flow(
        request,
        title=_("Delete building"),
        facts=[(_("Building"), name)],
        summary=building_delete_summary(building),
        cancel_url=reverse("buildings:detail", kwargs={"building_id": building.pk}),
        delete=lambda: building_delete(user=request.user, building=building),
        success_message=_("The building %(name)s was deleted.") % {"name": name},
        success_url=reverse("buildings:list"),
    )


@login_required
@GET_POST
def room_delete_view(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access_room(operator=request.operator, user=request.user, pk=room_id, write=True)
    name = room.name
    building_url = reverse("buildings:detail", kwargs={"building_id": room.building_id})
    return delete_flow(
        request,
        title=_("Delete room"),
        facts=[(_("Building"), room.building.name), (_("Room"), name)],
        summary=room_delete_summary(room),
        cancel_url=building_url,
        delete=lambda: room_delete(user=request.user, room=room),
        success_message=_("The room %(name)s was deleted.") % {"name": name},
        success_url=building_url,
    )


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
