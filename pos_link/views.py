"""POS link pages: the link list (add Smaregi by hand, connect Ubiregi by OAuth2, update a row,
unlink several rows after a confirmation), the per-camera dashboard and the provider webhook.

Objects come through the selectors' access functions: another operator's id is a 404; changes
ask for `write=True` / `require_admin`, so a viewer gets 403 even on a form.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from devices.models import Device
from devices.selectors import access_device
from recording.media_selectors import media_blocked_reason
from tenants.access import require_admin

from . import services
from .forms import LinkUpdateForm, SmaregiLinkForm, TransactionFilterForm, UbiregiLinkForm
from .models import Provider, ThumbnailState, TransactionKind
from .selectors import (
    access_link,
    access_transaction,
    connection_list,
    link_for_webhook,
    link_list,
    linked_cameras,
    links_by_ids,
    pos_option_count,
    transaction_list,
)
from .thumbnails import covering_segment, thumbnail_for, transaction_thumbnail_make

GET_POST = require_http_methods(["GET", "POST"])
PAGE_SIZE = 20
STATE_KEY = "pos_link_oauth_state"
STATE_MAX_AGE = timedelta(minutes=15)
WINDOWS = {"72h": 72 * 3600, "24h": 24 * 3600, "6h": 6 * 3600, "1h": 3600, "10m": 600}
DEFAULT_WINDOW = "24h"


def _links_url() -> str:
    return reverse("pos_link:links")


# ---------------------------------------------------------------- link list


@login_required
@require_GET
def links_view(request: HttpRequest) -> HttpResponse:
    operator = request.operator
    links = list(link_list(operator=operator))
    rows = [(link, LinkUpdateForm(operator=operator, link=link, prefix=f"link{link.pk}",
                                  initial={"terminal_id": link.terminal_id, "camera": link.camera_id}))
            for link in links]  # fmt: skip
    context = {
        "rows": rows,
        "ubiregi_accounts": connection_list(operator=operator, provider=Provider.UBIREGI),
        "option_count": pos_option_count(operator=operator),
        "linked_count": len({link.camera_id for link in links}),
    }
    return render(request, "pos_link/links.html", context)


def _add_flow(request: HttpRequest, *, form_class, provider: str, create) -> HttpResponse:
    require_admin(request.user)
    form = form_class(request.POST or None, operator=request.operator)
    if request.method == "POST" and form.is_valid():
        try:
            link = create(form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Terminal %(terminal)s is linked to %(camera)s.")
                % {"terminal": link.terminal_id, "camera": link.camera.name},
            )
            return redirect(_links_url())
    return render(request, "pos_link/link_add.html", {"form": form, "provider": Provider(provider)})


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@GET_POST
def smaregi_add_view(request: HttpRequest) -> HttpResponse:
    """Contract ID + access token + terminal ID + camera, checked with Smaregi before anything is saved."""
    return _add_flow(
        request,
        form_class=SmaregiLinkForm,
        provider=Provider.SMAREGI,
        create=lambda data: services.smaregi_link_create(operator=request.operator, user=request.user, **data),
    )


@login_required
@GET_POST
def ubiregi_add_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    if not connection_list(operator=request.operator, provider=Provider.UBIREGI).exists():
        messages.info(request, _("Connect a Ubiregi account first."))
        return redirect(_links_url())
    return _add_flow(
        request,
        form_class=UbiregiLinkForm,
        provider=Provider.UBIREGI,
        create=lambda data: services.ubiregi_link_create(operator=request.operator, user=request.user, **data),
    )


@login_required
@require_POST
def link_update_view(request: HttpRequest, link_id: int) -> HttpResponse:
    link = access_link(operator=request.operator, user=request.user, pk=link_id, write=True)
    form = LinkUpdateForm(request.POST, operator=request.operator, link=link, prefix=f"link{link.pk}")
    if form.is_valid():
        try:
            services.link_update(user=request.user, link=link, **form.cleaned_data)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(
                request, _("The link of terminal %(terminal)s was updated.") % {"terminal": link.terminal_id}
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(_links_url())


@login_required
@require_POST
def links_delete_view(request: HttpRequest) -> HttpResponse:
    """Checked rows → a confirmation listing them → unlinked. Nothing else is cancelled."""
    require_admin(request.user)
    links = list(links_by_ids(operator=request.operator, ids=request.POST.getlist("link")))
    if not links:
        messages.error(request, _("Select the links to delete first."))
        return redirect(_links_url())
    if "confirm" in request.POST:
        summary = services.links_delete(user=request.user, links=links)
        messages.success(
            request,
            _("%(count)d link(s) were deleted. The POS service itself was not cancelled.") % {"count": summary.count},
        )
        return redirect(_links_url())
    return render(request, "pos_link/links_delete_confirm.html", {"links": links})


# ---------------------------------------------------------------- Ubiregi OAuth2


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("pos_link:ubiregi_callback"))


@login_required
@require_POST
def ubiregi_connect_view(request: HttpRequest) -> HttpResponse:
    """Send the admin to Ubiregi's consent page with a one-time state bound to this session."""
    state = secrets.token_urlsafe(24)
    url = services.ubiregi_authorize_url(user=request.user, state=state, redirect_uri=_callback_uri(request))
    request.session[STATE_KEY] = {"state": state, "at": timezone.now().isoformat()}
    return redirect(url)


@login_required
@require_GET
def ubiregi_callback_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    expected = request.session.pop(STATE_KEY, None) or {}
    started = parse_datetime(expected.get("at") or "")
    state_ok = (
        bool(expected.get("state"))
        and hmac.compare_digest(str(expected["state"]), request.GET.get("state", ""))
        and started is not None
        and timedelta(0) <= timezone.now() - started <= STATE_MAX_AGE
    )
    if not state_ok:
        messages.error(request, _("The answer from Ubiregi did not match this session. Start the connection again."))
        return redirect(_links_url())
    if request.GET.get("error"):
        messages.error(
            request, _("Ubiregi did not allow the connection (%(reason)s).") % {"reason": request.GET["error"]}
        )
        return redirect(_links_url())
    try:
        connection = services.ubiregi_connect(
            operator=request.operator, user=request.user, code=request.GET.get("code", ""),
            redirect_uri=_callback_uri(request),
        )  # fmt: skip
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(_links_url())
    messages.success(
        request,
        _("The Ubiregi account %(account)s is connected. Choose its terminals and cameras.")
        % {"account": connection.name or connection.contract_id},
    )
    return redirect("pos_link:ubiregi_add")


# ---------------------------------------------------------------- dashboard


@login_required
@require_GET
def dashboard_index_view(request: HttpRequest) -> HttpResponse:
    cameras = linked_cameras(operator=request.operator, user=request.user).select_related("room", "room__building")
    return render(request, "pos_link/dashboard_index.html", {"cameras": cameras})


def _window(request: HttpRequest, now: datetime, seek: datetime | None) -> tuple[str, datetime, datetime]:
    key = request.GET.get("window") if request.GET.get("window") in WINDOWS else DEFAULT_WINDOW
    span = timedelta(seconds=WINDOWS[key])
    end = now
    if seek is not None and not (now - span <= seek <= now):
        end = min(now, seek + span / 2)  # centre an older transaction in the window
    return key, end - span, end


@login_required
@require_GET
def camera_dashboard_view(request: HttpRequest, camera_id: int) -> HttpResponse:
    """Left: the camera's timeline with transaction marks and a seek position; right: transactions."""
    camera = _dashboard_camera(request, camera_id)
    filters = TransactionFilterForm(request.GET)
    filters.is_valid()
    kind = filters.cleaned_data.get("kind") or ""
    kind = kind if kind in TransactionKind.values else ""
    q = filters.cleaned_data.get("q") or ""
    rows = transaction_list(operator=request.operator, camera=camera, kind=kind or None, q=q or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))

    now = timezone.now()
    seek = parse_datetime(request.GET.get("at") or "")
    seek = timezone.make_aware(seek) if seek is not None and timezone.is_naive(seek) else seek
    window, start, end = _window(request, now, seek)
    span = (end - start).total_seconds()
    marks = [
        {"tx": tx, "left": round((tx.occurred_at - start).total_seconds() / span * 100, 3)}
        for tx in transaction_list(operator=request.operator, camera=camera, since=start, until=end)[:500]
    ]
    blocked = bool(media_blocked_reason(camera))
    items = [{"tx": tx, "thumbnail": thumbnail_for(tx, blocked=blocked)} for tx in page]
    seek_left = round((seek - start).total_seconds() / span * 100, 3) if seek and start <= seek <= end else None
    context = {
        "camera": camera,
        "page": page,
        "items": items,
        "marks": marks,
        "kinds": TransactionKind.choices,
        "kind": kind,
        "q": q,
        "windows": list(WINDOWS),
        "window": window,
        "start": start,
        "end": end,
        "seek": seek if seek_left is not None else None,
        "seek_left": seek_left,
        "links": link_list(operator=request.operator, camera=camera),
        "blocked": blocked,
    }
    return render(request, "pos_link/dashboard.html", context)


def _dashboard_camera(request: HttpRequest, camera_id) -> Device:
    camera = access_device(operator=request.operator, user=request.user, pk=camera_id)
    if camera.kind != "camera":
        raise Http404
    return camera


@login_required
@require_GET
def camera_segment_view(request: HttpRequest, camera_id: int) -> JsonResponse:
    """The player's question "what plays at ?at=": the recording segment covering that moment, as
    recording's authorized file URL and the offset into it. 404 when nothing is recorded then; 403
    while the camera's license has expired (no remote playback)."""
    camera = _dashboard_camera(request, camera_id)
    if media_blocked_reason(camera):
        return JsonResponse({"detail": _("The camera's license has expired: playback is stopped.")}, status=403)
    at = parse_datetime(request.GET.get("at") or "")
    if at is None:
        return JsonResponse({"detail": _("Give the time to play as ?at=<ISO 8601 time>.")}, status=400)
    at = timezone.make_aware(at) if timezone.is_naive(at) else at
    segment = covering_segment(camera, at)
    if segment is None:
        return JsonResponse({"detail": _("Nothing is recorded at this time.")}, status=404)
    return JsonResponse(
        {
            "url": reverse("recording:segment_file", kwargs={"segment_id": segment.pk}),
            "offset": round((at - segment.start).total_seconds(), 3),
            "start": segment.start.isoformat(),
            "end": segment.end.isoformat(),
        }
    )


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">'
    '<rect width="320" height="180" fill="#eef2f7"/><text x="160" y="96" font-family="sans-serif" '
    'font-size="20" fill="#5f6368" text-anchor="middle">{text}</text></svg>'
)


def _placeholder() -> HttpResponse:
    response = HttpResponse(PLACEHOLDER_SVG.format(text=escape(_("No image"))), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def transaction_thumbnail_view(request: HttpRequest, transaction_id: int) -> HttpResponse:
    """The transaction's camera image. 404 for another operator's transaction or a camera outside the
    user's view; the placeholder while the license has expired or when no recording covers the time.
    A thumbnail the task has not cut yet is cut here, once."""
    tx = access_transaction(operator=request.operator, user=request.user, pk=transaction_id)
    tx.camera = _dashboard_camera(request, tx.camera_id)
    if media_blocked_reason(tx.camera):
        return _placeholder()
    if tx.thumbnail_state == ThumbnailState.PENDING:
        transaction_thumbnail_make(tx=tx)
    if tx.thumbnail_state != ThumbnailState.READY or not tx.thumbnail:
        return _placeholder()
    try:
        body = default_storage.open(tx.thumbnail, "rb").read()
    except (OSError, ValueError):
        return _placeholder()
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


# ---------------------------------------------------------------- webhook


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, link_id: int) -> HttpResponse:
    """Smaregi's API sending (API送信) pushes TransactionHead rows here. Authenticated by the link's
    own secret in `X-Pos-Webhook-Secret`; a wrong secret and an unknown link are the same 404."""
    link = link_for_webhook(link_id=link_id)
    given = request.headers.get("X-Pos-Webhook-Secret", "")
    if link is None or not given or not hmac.compare_digest(given, link.webhook_secret):
        raise Http404
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"detail": "body is not JSON"}, status=400)
    rows = payload.get("transactions") if isinstance(payload, dict) else payload
    try:
        stored = services.webhook_receive(link=link, rows=rows)
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages}, status=400)
    return JsonResponse({"stored": stored})
