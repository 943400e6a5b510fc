"""POS link pages: the link list (add Smaregi by hand through either interface, connect Ubiregi by
OAuth2, update a row, unlink several rows after a confirmation), the per-camera dashboard with
live video, and Smaregi's webhook (API送信).

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
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from devices.media_tokens import camera_access_token
from devices.models import Device
from devices.selectors import access_device
from portal.web import GET_POST, paginate
from recording import media_services
from recording.media_selectors import camera_stream_url, media_blocked_reason
from tenants.access import require_admin
from workers.hls import PLAYLIST

from . import conf, ingestion, services
from .forms import LinkUpdateForm, SmaregiLinkForm, TransactionFilterForm, UbiregiLinkForm
from .models import Provider, ThumbnailState, TransactionKind, WebhookState
from .selectors import (
    access_link,
    access_transaction,
    camera_holds_pos_option,
    connection_for_webhook,
    connection_list,
    link_list,
    linked_cameras,
    links_by_ids,
    pos_camera_choices_for_links,
    pos_option_count,
    transaction_list,
)
from .thumbnails import covering_segment, thumbnails_for, transaction_thumbnail_make

PAGE_SIZE = 20  # transactions beside the timeline
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
    choices = pos_camera_choices_for_links(operator=operator, links=links)
    rows = [(link, LinkUpdateForm(operator=operator, link=link, prefix=f"link{link.pk}", cameras=choices[link.pk],
                                  initial={"terminal_id": link.terminal_id, "camera": link.camera_id}))
            for link in links]  # fmt: skip
    smaregi = list(connection_list(operator=operator, provider=Provider.SMAREGI))
    if request.user.is_admin:  # the URL carries the secret: admins only
        for connection in smaregi:
            connection.webhook_url = webhook_url(request, connection)
    context = {
        "rows": rows,
        "ubiregi_accounts": connection_list(operator=operator, provider=Provider.UBIREGI),
        "smaregi_contracts": smaregi,
        "option_count": pos_option_count(operator=operator),
        "linked_count": len({link.camera_id for link in links}),
    }
    return render(request, "pos_link/links.html", context)


def webhook_url(request: HttpRequest, connection) -> str:
    """The address to paste into Smaregi's API送信 settings (送信先URL) for this contract."""
    path = reverse("pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret})
    base = conf.webhook_base_url()
    return base + path if base else request.build_absolute_uri(path)


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
        create=lambda data: services.ubiregi_link_create(
            operator=request.operator,
            user=request.user,
            connection=data["connection"],
            terminal_id=data["terminal_id"],
            camera=data["camera"],
        ),  # fmt: skip
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
    page = paginate(request, rows, per_page=PAGE_SIZE)

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
    thumbnails = thumbnails_for(page, blocked=blocked)
    items = [{"tx": tx, "thumbnail": thumbnails[tx.pk]} for tx in page]
    seek_left = round((seek - start).total_seconds() / span * 100, 3) if seek and start <= seek <= end else None
    links = link_list(operator=request.operator, camera=camera)
    context = {
        **_live_context(request, camera, blocked),
        "option_ended": links.exists() and not camera_holds_pos_option(camera=camera),
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
        "links": links,
        "blocked": blocked,
    }
    return render(request, "pos_link/dashboard.html", context)


def _live_context(request: HttpRequest, camera: Device, blocked: bool) -> dict:
    """What recording's live player (recording/live.js) needs, as the camera's live page gives it:
    the HLS playlist behind a short-lived media token, the token refresh URL and the snapshot."""
    if blocked or not camera_stream_url(camera):
        return {"live_playlist": ""}
    media_services.live_request(camera=camera)
    token = camera_access_token(camera, request.operator, user=request.user)
    return {
        "live_playlist": reverse("recording:live_media", kwargs={"media_token": token, "filename": PLAYLIST}),
        "live_token": token,
    }


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

MAX_PUSH_BYTES = 2 * 1024 * 1024


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, connection_id: int, secret: str) -> HttpResponse:
    """Smaregi's API送信 pushes here, form-encoded `proc_name` and `params` (JSON
    {"data": [{"table_name": "TransactionHead", "rows": [...]}]}), to the URL the link page shows.

    The Platform API's webhook (JSON {"contractId", "event": "pos:transactions", "action",
    "transactionHeadIds"} with a `Smaregi-Event` header; IDs only) makes the contract's links poll
    at once instead.

    Authentication: the URL's secret (compared in constant time), and the contract ID when the push
    names one (an `X-Contract-Id` / `Smaregi-Contract-Id` header, a `contract_id` field or the
    body's `contractId`). A wrong one and an unknown contract are the same bare 404; the link page
    says a push was refused."""
    connection = connection_for_webhook(connection_id=connection_id)
    if connection is None:
        raise Http404
    named = request.META.get("HTTP_X_CONTRACT_ID", "") or request.META.get("HTTP_SMAREGI_CONTRACT_ID", "")
    if not hmac.compare_digest(secret.encode(), connection.webhook_secret.encode()):
        ingestion.webhook_refused(connection=connection, state=WebhookState.REFUSED, detail="wrong secret in the URL")
        raise Http404
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_PUSH_BYTES:
            raise RequestDataTooBig
        if request.headers.get("Smaregi-Event"):
            return _platform_push(request, connection, named)
        form = request.POST
        named = named or form.get("contract_id", "")
        proc_name, params = form.get("proc_name", ""), form.get("params", "")
    except (RequestDataTooBig, ValueError):
        ingestion.webhook_refused(connection=connection, state=WebhookState.MALFORMED, detail="body too large")
        return JsonResponse({"detail": "body too large"}, status=413)
    if named and named != connection.contract_id:
        ingestion.webhook_refused(connection=connection, state=WebhookState.REFUSED, detail="another contract ID")
        raise Http404
    try:
        result = ingestion.webhook_receive(connection=connection, proc_name=proc_name, params=params)
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages}, status=400)
    return JsonResponse({"stored": result.stored, "ignored": result.ignored})


def _platform_push(request: HttpRequest, connection, named: str) -> HttpResponse:
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        ingestion.webhook_refused(connection=connection, state=WebhookState.MALFORMED, detail="not the webhook JSON")
        return JsonResponse({"detail": "not the documented webhook body"}, status=400)
    if str(body.get("contractId") or named or connection.contract_id) != connection.contract_id:
        ingestion.webhook_refused(connection=connection, state=WebhookState.REFUSED, detail="another contract ID")
        raise Http404
    queued = ingestion.webhook_poll_now(connection=connection) if body["event"] == "pos:transactions" else 0
    return JsonResponse({"queued": queued})
