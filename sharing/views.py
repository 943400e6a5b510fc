"""Sharing pages: the operator's share ID, requests in and out, active shares, the audit log, and the
admin page that limits a viewer / device operator to chosen rooms and cameras.

Shares come through `access_share` (a share between two other operators is a 404); every change asks
for `write=True` / `require_admin`, so a viewer sees the lists and gets 403 on any form. Each change
has a confirmation screen restating what happens; the services re-check the state under a lock.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from buildings.selectors import room_list
from devices.selectors import camera_list
from portal.web import GET_POST, paginate
from tenants.access import access_user, require_admin

from .models import CameraShare, ShareStatus
from .selectors import (
    access_share,
    scopable_user_list,
    share_active_list,
    share_audit_list,
    share_incoming_list,
    share_list,
    share_outgoing_list,
    user_scope_for,
)
from .services import (
    share_approve,
    share_cancel,
    share_decline,
    share_remove,
    share_request,
    share_request_check,
    shareable_cameras,
    user_scope_clear,
    user_scope_set,
)


class ShareRequestForm(forms.Form):
    share_id = forms.CharField(
        label=gettext_lazy("Share ID of the operator to share with"),
        max_length=40,
        help_text=gettext_lazy("Ask the other operator: it is shown on their account page."),
    )


@login_required
@require_http_methods(["GET"])
def sharing_index_view(request: HttpRequest) -> HttpResponse:
    operator = request.operator
    context = {
        "incoming": share_incoming_list(operator=operator),
        "outgoing": share_outgoing_list(operator=operator),
        "active": share_active_list(operator=operator),
        "events": share_audit_list(operator=operator)[:10],
    }
    return render(request, "sharing/index.html", context)


@login_required
@require_http_methods(["GET"])
def sharing_history_view(request: HttpRequest) -> HttpResponse:
    """Every share, given or received, in any state (the full record)."""
    page = paginate(request, share_list(operator=request.operator))
    return render(request, "sharing/history.html", {"page": page})


@login_required
@require_http_methods(["GET"])
def sharing_audit_view(request: HttpRequest) -> HttpResponse:
    page = paginate(request, share_audit_list(operator=request.operator))
    return render(request, "sharing/audit.html", {"page": page})


@login_required
@require_http_methods(["GET"])
def share_detail_view(request: HttpRequest, share_id: int) -> HttpResponse:
    share = access_share(operator=request.operator, user=request.user, pk=share_id)
    events = share_audit_list(operator=request.operator, share=share)
    return render(request, "sharing/detail.html", {"share": share, "events": events})


@login_required
@GET_POST
def share_request_view(request: HttpRequest) -> HttpResponse:
    """Choose own cameras + the other operator's share ID → confirm (who and what) → request sent."""
    require_admin(request.user)
    operator = request.operator
    cameras = shareable_cameras(operator=operator)
    chosen = request.POST.getlist("cameras") if request.method == "POST" else []
    stage, receiver, chosen_cameras, camera_error = "edit", None, [], None
    if request.method == "POST" and "back" in request.POST:
        form = ShareRequestForm(initial={"share_id": request.POST.get("share_id", "")})
    elif request.method == "POST":
        form = ShareRequestForm(request.POST)
        form.is_valid()  # for rendering; the service judges the share ID (and the cameras) itself
        share_id = request.POST.get("share_id", "")
        try:
            if "confirm" in request.POST:
                shares = share_request(operator=operator, user=request.user, camera_ids=chosen, share_id=share_id)
                messages.success(
                    request,
                    _("A share request for %(count)d camera(s) was sent to %(receiver)s. It waits for their approval.")
                    % {"count": len(shares), "receiver": shares[0].receiver.name},
                )
                return redirect("sharing:index")
            receiver, chosen_cameras = share_request_check(operator=operator, camera_ids=chosen, share_id=share_id)
            stage = "confirm"
        except ValidationError as exc:
            errors = exc.message_dict
            form.errors.pop("share_id", None)
            if "share_id" in errors:
                form.add_error("share_id", errors["share_id"])
            camera_error = " ".join(errors.get("cameras", [])) or None
    else:
        form = ShareRequestForm()
    context = {
        "form": form,
        "cameras": cameras,
        "chosen": {str(c) for c in chosen},
        "stage": stage,
        "receiver": receiver,
        "chosen_cameras": chosen_cameras,
        "camera_error": camera_error,
    }
    return render(request, "sharing/request.html", context)


def _share_action(
    request: HttpRequest,
    share_id: int,
    *,
    action: str,
    service: Callable[..., CameraShare],
    success: Callable[[CameraShare], str],
) -> HttpResponse:
    """GET: the confirmation screen restating what happens; POST: do it. Wrong state → message, no change."""
    share = access_share(operator=request.operator, user=request.user, pk=share_id, write=True)
    if request.method == "POST":
        try:
            share = service(operator=request.operator, user=request.user, share=share)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, success(share))
        return redirect("sharing:index")
    is_owner = share.operator_id == request.operator.pk
    return render(
        request,
        "sharing/confirm.html",
        {"share": share, "action": action, "is_owner": is_owner, "allowed": _allowed(share, action, is_owner)},
    )


def _allowed(share: CameraShare, action: str, is_owner: bool) -> bool:
    # Only to hide the button on a screen that cannot succeed; the service is the real check.
    if action in ("approve", "decline"):
        return not is_owner and share.status == ShareStatus.REQUESTED
    if action == "cancel":
        return is_owner and share.is_open
    return not is_owner and share.status == ShareStatus.APPROVED


@login_required
@GET_POST
def share_approve_view(request: HttpRequest, share_id: int) -> HttpResponse:
    return _share_action(
        request,
        share_id,
        action="approve",
        service=share_approve,
        success=lambda s: _("You approved the share: %(camera)s of %(owner)s is now in your camera list.")
        % {"camera": s.camera.name, "owner": s.operator.name},
    )


@login_required
@GET_POST
def share_decline_view(request: HttpRequest, share_id: int) -> HttpResponse:
    return _share_action(
        request,
        share_id,
        action="decline",
        service=share_decline,
        success=lambda s: _("You declined the share request of %(owner)s for %(camera)s.")
        % {"camera": s.camera.name, "owner": s.operator.name},
    )


@login_required
@GET_POST
def share_cancel_view(request: HttpRequest, share_id: int) -> HttpResponse:
    return _share_action(
        request,
        share_id,
        action="cancel",
        service=share_cancel,
        success=lambda s: _("The share was cancelled: %(receiver)s no longer sees %(camera)s.")
        % {"camera": s.camera.name, "receiver": s.receiver.name},
    )


@login_required
@GET_POST
def share_remove_view(request: HttpRequest, share_id: int) -> HttpResponse:
    return _share_action(
        request,
        share_id,
        action="remove",
        service=share_remove,
        success=lambda s: _("%(camera)s of %(owner)s was removed from your camera list.")
        % {"camera": s.camera.name, "owner": s.operator.name},
    )


# --------------------------------------------------------------------------- camera limits per user


@login_required
@require_http_methods(["GET"])
def limit_list_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    page = paginate(request, scopable_user_list(operator=request.operator))
    return render(request, "sharing/limits.html", {"page": page})


@login_required
@GET_POST
def limit_edit_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """Choose the rooms and cameras a viewer / device operator may see; saving sets the limit."""
    target = access_user(operator=request.operator, user=request.user, pk=user_id, write=True)
    operator = request.operator
    scope = user_scope_for(operator=operator, user=target)
    error = None
    if request.method == "POST":
        try:
            user_scope_set(
                operator=operator,
                user=request.user,
                target=target,
                room_ids=request.POST.getlist("rooms"),
                camera_ids=request.POST.getlist("cameras"),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("%(user)s now sees only the chosen rooms and cameras.") % {"user": target})
            return redirect("sharing:limits")
        chosen_rooms, chosen_cameras = set(request.POST.getlist("rooms")), set(request.POST.getlist("cameras"))
    else:
        chosen_rooms = {str(r.pk) for r in scope.rooms.all()} if scope else set()
        chosen_cameras = {str(c.pk) for c in scope.cameras.all()} if scope else set()
    context = {
        "target": target,
        "scope": scope,
        "rooms": room_list(operator=operator),
        "cameras": camera_list(operator=operator),
        "chosen_rooms": chosen_rooms,
        "chosen_cameras": chosen_cameras,
        "error": error,
    }
    return render(request, "sharing/limit_edit.html", context)


@login_required
@GET_POST
def limit_clear_view(request: HttpRequest, user_id: int) -> HttpResponse:
    target = access_user(operator=request.operator, user=request.user, pk=user_id, write=True)
    if request.method == "POST":
        user_scope_clear(operator=request.operator, user=request.user, target=target)
        messages.success(request, _("The limit was lifted: %(user)s sees every camera again.") % {"user": target})
        return redirect("sharing:limits")
    scope = user_scope_for(operator=request.operator, user=target)
    # Only what the operator still sees: a camera whose share ended is not named to the ex-receiver.
    rooms = room_list(operator=request.operator).filter(pk__in=scope.rooms.all()) if scope else []
    cameras = camera_list(operator=request.operator).filter(pk__in=scope.cameras.all()) if scope else []
    context = {
        "target": target,
        "scope": scope,
        "scope_rooms": rooms,
        "scope_cameras": cameras,
        "cancel_url": reverse("sharing:limit_edit", args=[target.pk]),
    }
    return render(request, "sharing/limit_clear.html", context)
