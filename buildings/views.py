"""Pages for buildings and rooms: lists, rename and delete (the registration wizard and the room
page, which show devices, are devices/views.py).

Every object comes through `access_building` / `access_room` (another operator's id is a 404);
every page that changes something asks for `write=True` or `require_admin` (others get 403),
even on GET, so a viewer never sees a settings form.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.web import GET_POST, RenamePage, delete_flow, paginate, rename_flow

from .forms import BuildingRenameForm, RoomRenameForm
from .hooks import media_summary
from .selectors import access_building, access_room, building_list, room_list
from .services import (
    building_delete,
    building_delete_summary,
    building_rename,
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
        media=media_summary(building=building),
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
        media=media_summary(room=room),
        cancel_url=building_url,
        delete=lambda: room_delete(user=request.user, room=room),
        success_message=_("The room %(name)s was deleted.") % {"name": name},
        success_url=building_url,
    )
