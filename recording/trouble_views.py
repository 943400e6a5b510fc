"""The page of "refresh trouble info" for a whole building (トラブル情報更新): start a run, see its progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from buildings.selectors import access_building
from portal.web import GET_POST

from . import trouble


@login_required
@GET_POST
def building_trouble_refresh_view(request: HttpRequest, building_id: int) -> HttpResponse:
    # Every role of the owner may refresh, as for one camera; it probes the cameras and may mail.
    building = access_building(operator=request.operator, user=request.user, pk=building_id)
    if request.method == "POST":
        try:
            trouble.building_trouble_refresh_start(user=request.user, operator=request.operator, building=building)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The cameras of this building are being checked."))
        return redirect("recording:building_trouble_refresh", building_id=building.pk)
    run = trouble.latest_building_refresh(operator=request.operator, building=building)
    skipped = [(entry["name"], trouble.skipped_reason(entry["reason"])) for entry in (run.skipped if run else [])]
    context = {"building": building, "run": run, "skipped": skipped}
    return render(request, "recording/building_trouble_refresh.html", context)
