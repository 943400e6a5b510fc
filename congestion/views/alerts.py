"""Congestion alert settings of a camera or a group."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.web import GET_POST
from tenants.access import require_admin

from .. import selectors, services
from ..forms import (
    AlertForm,
    AlertSenderForm,
)
from ..models import CongestionCamera, Group
from .common import (
    _render,
)

# ----------------------------------------------------------------------------- alerts


def _alert_page(request: HttpRequest, *, cc: CongestionCamera | None = None, group: Group | None = None):
    setting = selectors.alert_setting_for(congestion_camera=cc, group=group)
    initial = {"steps": 2}
    if setting:
        initial = {
            "steps": setting.steps,
            "image_enabled": setting.image_enabled,
            "mail_enabled": setting.mail_enabled,
            "recipients": "\n".join(setting.recipients),
            **{f"threshold_{i + 1}": t for i, t in enumerate(setting.thresholds)},
        }
    form = AlertForm(request.POST or None, request.FILES or None, initial=initial)
    back = (
        reverse("congestion:camera_detail", kwargs={"congestion_camera_id": cc.pk})
        if cc
        else reverse("congestion:group_detail", kwargs={"group_id": group.pk})  # type: ignore[union-attr]
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if form.is_valid():
            try:
                services.alert_update(user=request.user, congestion_camera=cc, group=group, **kwargs)
            except ValidationError as exc:
                for errors in exc.message_dict.values():
                    form.add_error(None, errors)
            else:
                messages.success(request, _("The congestion alert settings were saved."))
                return redirect(back)
    owner = cc or group
    context = {"form": form, "setting": setting, "owner": owner, "cc": cc, "group": group, "back": back}
    return _render(request, "congestion/alerts.html", context, status=400 if form.errors else 200)


@login_required
@GET_POST
def camera_alerts_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=True
    )
    return _alert_page(request, cc=cc)


@login_required
@GET_POST
def group_alerts_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    return _alert_page(request, group=group)


@login_required
@GET_POST
def alert_sender_view(request: HttpRequest) -> HttpResponse:
    """The operator's own sender address of alert mails (admins); empty: DEFAULT_FROM_EMAIL."""
    require_admin(request.user)
    current = selectors.alert_sender_of(operator=request.operator)
    form = AlertSenderForm(request.POST or None, initial={"from_email": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_sender_set(
                user=request.user, operator=request.operator, from_email=form.cleaned_data["from_email"]
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                form.add_error("from_email", errors)
        else:
            messages.success(request, _("The sender address of alert mails was saved."))
            return redirect("congestion:alert_sender")
    context = {"form": form, "current": current, "default_from": settings.DEFAULT_FROM_EMAIL}
    return _render(request, "congestion/alert_sender.html", context, status=400 if form.errors else 200)
