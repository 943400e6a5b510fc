"""Embed admin pages (per camera / group, the generated site, the quota notice) and the public pages.

Admin pages: every object through congestion.selectors (another operator's id is a 404); everyone of
the operator reads the embed code, only admins change settings (403).

Public pages (/e/<key>/, /s/<key>/): no login, no cookie, no session, no storage in the browser, so
they work in a private window with third-party cookies blocked. They may be framed by any site
(CSP frame-ancestors *, no X-Frame-Options); the portal's own pages stay DENY. An unknown or
malformed key is a bare 404. Every image or prediction shown is one call of the operator's quota;
when the quota is used up they show the "limit reached" image with 200.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from congestion.selectors import access_congestion_camera, access_group
from portal.client_ip import client_ip

from . import quota, selectors, services
from .models import LinkMode, SizeMode, View

GET = require_http_methods(["GET", "HEAD"])
GET_POST = require_http_methods(["GET", "POST"])
PUBLIC_CSP = (
    "default-src 'none'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'"
)
# Snippet sizes: the prediction graph needs at least 360×281 px (docs/product.md §6.10).
FIXED_SIZE = (480, 440)


# ----------------------------------------------------------------------------- forms


class ViewsFormMixin(forms.Form):
    show_visualization = forms.BooleanField(label=gettext_lazy("Show the congestion image"), required=False)
    show_prediction = forms.BooleanField(label=gettext_lazy("Show the congestion prediction"), required=False)
    initial_view = forms.ChoiceField(label=gettext_lazy("First view"), choices=View.choices, widget=forms.RadioSelect)
    auto_refresh = forms.TypedChoiceField(
        label=gettext_lazy("Refresh"),
        choices=[("1", gettext_lazy("Automatically every minute")), ("0", gettext_lazy("With a refresh button"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )


class EmbedForm(ViewsFormMixin):
    size_mode = forms.ChoiceField(label=gettext_lazy("Size"), choices=SizeMode.choices, widget=forms.RadioSelect)
    show_count = forms.BooleanField(label=gettext_lazy("Show the number of people"), required=False)


class SiteForm(ViewsFormMixin):
    enabled = forms.BooleanField(label=gettext_lazy("Generate the web site"), required=False)
    name = forms.CharField(label=gettext_lazy("Site name"), max_length=64, required=False)
    link_mode = forms.ChoiceField(label=gettext_lazy("External link"), choices=LinkMode.choices)
    link_title = forms.CharField(label=gettext_lazy("Link title"), max_length=64, required=False)
    link_description = forms.CharField(
        label=gettext_lazy("Link description"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Without a description the QR code is shown inside the title box."),
    )
    link_url = forms.CharField(label=gettext_lazy("Link URL"), max_length=500, required=False)


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _initial(setting, defaults: dict) -> dict:
    if setting is None:
        return defaults
    return {name: getattr(setting, name, value) for name, value in defaults.items()} | {
        "auto_refresh": "1" if setting.auto_refresh else "0"
    }


EMBED_DEFAULTS = {
    "show_visualization": True, "show_prediction": True, "initial_view": View.VISUALIZATION,
    "size_mode": SizeMode.FIXED, "auto_refresh": "1", "show_count": True,
}  # fmt: skip


# ----------------------------------------------------------------------------- snippet


def public_url(request: HttpRequest, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


def snippet_url(request: HttpRequest, owner, options: selectors.Options) -> str:
    """The public page of `owner` with `options` signed into it (?o=): what a snippet points at."""
    url = public_url(request, "embed_public:page", embed_key=owner.embed_key)
    return f"{url}?{selectors.OPTIONS_PARAM}={quote(selectors.options_token(owner.embed_key, options), safe=':')}"


def snippet(url: str, options: selectors.Options) -> str:
    """The HTML the operator pastes into its page: an iframe, sized by the chosen mode."""
    title = _("Congestion")
    if options.size_mode == SizeMode.SCALE_HD:
        style = "width:100%;max-width:1280px;aspect-ratio:12/11;border:0"
        return f'<iframe src="{url}" title="{title}" style="{style}" loading="lazy"></iframe>'
    if options.size_mode == SizeMode.SCALE:
        style = "width:100%;aspect-ratio:12/11;border:0"
        return f'<iframe src="{url}" title="{title}" style="{style}" loading="lazy"></iframe>'
    width, height = FIXED_SIZE
    size = f'width="{width}" height="{height}"'
    return f'<iframe src="{url}" title="{title}" {size} style="border:0" loading="lazy"></iframe>'


# ----------------------------------------------------------------------------- admin pages


def _save_values(options: selectors.Options) -> dict:
    """The chosen options as the hidden fields of the "save as the default" form."""
    values = {
        "initial_view": options.initial_view, "size_mode": options.size_mode,
        "auto_refresh": "1" if options.auto_refresh else "0",
    }  # fmt: skip
    return values | {n: "on" for n in ("show_visualization", "show_prediction", "show_count") if getattr(options, n)}


def _embed_page(request: HttpRequest, *, congestion_camera=None, group=None) -> HttpResponse:
    """The embed code page. Everyone of the operator picks options and makes the HTML for them (a GET
    form: nothing is saved, the options are signed into the snippet's URL); admins may then save the
    chosen options as the default, which the page starts from and the bare URL shows (POST)."""
    owner = congestion_camera or group
    setting = selectors.embed_setting_of(congestion_camera=congestion_camera, group=group)
    options = selectors.options_of(setting)
    made = request.method == "GET" and "make" in request.GET
    form = EmbedForm(request.POST or (request.GET if made else None), initial=_initial(setting, EMBED_DEFAULTS))
    if made and form.is_valid():
        try:
            options = services.snippet_options(**form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
            made = False
    elif made:
        made = False
    if request.method == "POST":
        if not request.user.is_admin:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(_("Only administrators can do this."))
        if form.is_valid():
            try:
                services.embed_setting_save(
                    user=request.user, congestion_camera=congestion_camera, group=group, **form.cleaned_data
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The embed settings of %(name)s were saved.") % {"name": owner})
                return redirect(request.path)
    url = snippet_url(request, owner, options)
    context = {
        "owner": owner, "group": group, "cc": congestion_camera, "form": form, "url": url,
        "snippet": snippet(url, options), "made": made, "save_values": _save_values(options),
        "can_write": request.user.is_admin,
        "site": selectors.site_of(group=group) if group is not None else None,
    }  # fmt: skip
    return render(request, "embeds/embed_code.html", context)


@login_required
@GET_POST
def camera_embed_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
    return _embed_page(request, congestion_camera=cc)


@login_required
@GET_POST
def group_embed_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = access_group(operator=request.operator, user=request.user, pk=group_id)
    return _embed_page(request, group=group)


def _rotate_page(request: HttpRequest, *, congestion_camera=None, group=None) -> HttpResponse:
    """GET: what changing the URL breaks; POST (admins): a new key, the old URL is a 404 at once."""
    owner = congestion_camera or group
    back = (
        reverse("embeds:group_embed", kwargs={"group_id": group.pk})
        if group
        else reverse("embeds:camera_embed", kwargs={"congestion_camera_id": congestion_camera.pk})
    )
    if request.method == "POST":
        services.embed_key_rotate(user=request.user, congestion_camera=congestion_camera, group=group)
        messages.success(
            request,
            _("The embed URL of %(name)s was changed. The old URL no longer works: paste the new HTML into your pages.")
            % {"name": owner},
        )
        return redirect(back)
    url = public_url(request, "embed_public:page", embed_key=owner.embed_key)
    return render(request, "embeds/rotate_confirm.html", {"owner": owner, "url": url, "back": back})


@login_required
@GET_POST
def camera_embed_rotate_view(request: HttpRequest, congestion_camera_id: int) -> HttpResponse:
    cc = access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id, write=True)
    return _rotate_page(request, congestion_camera=cc)


@login_required
@GET_POST
def group_embed_rotate_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
    return _rotate_page(request, group=group)


SITE_DEFAULTS = {
    "enabled": False, "name": "", "link_mode": LinkMode.NONE, "link_title": "", "link_description": "",
    "link_url": "", "show_visualization": True, "show_prediction": True, "initial_view": View.VISUALIZATION,
    "auto_refresh": "1",
}  # fmt: skip


@login_required
@GET_POST
def group_site_view(request: HttpRequest, group_id: int) -> HttpResponse:
    group = access_group(operator=request.operator, user=request.user, pk=group_id)
    site = selectors.site_of(group=group)
    initial = _initial(site, SITE_DEFAULTS) | {"enabled": site is not None}
    if site is None:
        initial["name"] = group.name
    form = SiteForm(request.POST or None, initial=initial)
    if request.method == "POST":
        group = access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        if form.is_valid():
            data = form.cleaned_data
            if site is not None and not data["enabled"] and "confirm" not in request.POST:
                url = public_url(request, "embed_public:site", site_key=site.key)
                return render(request, "embeds/site_off_confirm.html", {"group": group, "url": url})
            try:
                saved = services.site_save(user=request.user, group=group, **data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if saved is None:
                    messages.success(request, _("The web site of %(name)s was turned off and its URL deleted.")
                                     % {"name": group.name})  # fmt: skip
                else:
                    messages.success(request, _("The web site of %(name)s was saved.") % {"name": group.name})
                return redirect("embeds:group_site", group_id=group.pk)
    context = {
        "group": group, "site": site, "form": form, "can_write": request.user.is_admin,
        "url": public_url(request, "embed_public:site", site_key=site.key) if site else "",
        "cameras": group.cameras.count(),
    }  # fmt: skip
    return render(request, "embeds/site_settings.html", context)


@login_required
@GET_POST
def notice_dismiss_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notice_dismiss(user=request.user)
        messages.success(request, _("The notice is hidden until the end of the month."))
        return redirect("licensing:licenses")
    usage = quota.usage(request.operator.pk)
    return render(request, "embeds/notice_dismiss.html", {"usage": usage})


# ----------------------------------------------------------------------------- public pages


def _not_found() -> HttpResponse:
    # The same bare answer for malformed, unknown and deleted keys: nothing to probe.
    return HttpResponseNotFound(b"Not found", content_type="text/plain; charset=utf-8")


def public(view):
    """Headers of every public page: framable by any site, never a cookie, nothing cacheable by others."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.xframe_options_exempt = True  # no X-Frame-Options here; CSP says who may frame us
        response["Content-Security-Policy"] = PUBLIC_CSP
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        # A visitor who is also logged in to the portal sends its session cookie; the middlewares read
        # it. The answer does not depend on it, so the session must not add "Vary: Cookie" nor be saved.
        session = getattr(request, "session", None)
        if session is not None:
            session.accessed = False
            session.modified = False
        response.cookies.clear()
        return response

    return wrapped


def rate_limit_key(request: HttpRequest) -> str:
    """The client's address (settings.CLIENT_IP_HEADER behind a proxy); the limit buckets it."""
    return client_ip(request) or "unknown"


def _image_response(data: bytes, *, status: int = 200, extra: dict | None = None) -> HttpResponse:
    kind = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    response = HttpResponse(data, content_type=kind, status=status)
    for name, value in (extra or {}).items():
        response[name] = value
    return response


def _rate_limited_image() -> HttpResponse:
    response = _image_response(
        selectors.static_bytes(str(selectors.LIMIT_IMAGE.with_name("rate-limited.png"))),
        status=429,
        extra={"X-Embed-State": "rate-limited"},
    )
    response["Retry-After"] = "60"
    return response


def _limited(request: HttpRequest, public_key: str) -> bool:
    # Per client (IPv6 by /64) and camera shown, and per public embed: neither one client nor many
    # together may empty the operator's month in minutes, while many visitors behind one NAT are all
    # served (embeds/quota.py). A limited call is not charged.
    return quota.rate_limited(rate_limit_key(request), public_key) or quota.key_rate_limited(public_key)


def _serve_image(request: HttpRequest, target: selectors.Target | None, public_key: str) -> HttpResponse:
    if target is None:
        return _not_found()
    if _limited(request, public_key):
        return _rate_limited_image()
    shown = selectors.shown_now(target)
    if not quota.charge(target.operator_id):
        return _image_response(selectors.limit_image(), extra={"X-Embed-State": "limit"})
    headers = {"X-Embed-State": shown.state, "X-Embed-Label": quote(shown.label)}
    if shown.step:
        headers["X-Embed-Step"] = str(shown.step)  # the label's colour: 1 空, 2 やや混雑, 3 混雑
    if shown.analysed_at is not None:
        headers["X-Embed-Time"] = timezone.localtime(shown.analysed_at).strftime("%Y-%m-%d %H:%M")
    if shown.count is not None:
        headers["X-Embed-Count"] = str(shown.count)
    return _image_response(shown.image, extra=headers)


def _serve_prediction(request: HttpRequest, target: selectors.Target | None, public_key: str) -> HttpResponse:
    if target is None:
        return _not_found()
    if _limited(request, public_key):
        return JsonResponse({"state": "rate-limited"}, status=429)
    payload = selectors.prediction_payload(target)
    if not quota.charge(target.operator_id):
        return JsonResponse({"state": "limit"})
    return JsonResponse({"state": "ok", **payload})


def _strings() -> dict:
    """The texts the page script needs, in the visitor's language (Accept-Language)."""
    return {
        "people": _("%s people"),
        "analysed": _("Analysed at %s"),
        "prediction": _("Congestion prediction"),
        "toPrediction": _("Show the prediction"),
        "toImage": _("Show the congestion image"),
        "earlier": _("Earlier hours"),
        "later": _("Later hours"),
        "closedDay": _("Closed all day"),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }


def _page(template: str, context: dict) -> HttpResponse:
    # Rendered without the request: no context processor may touch the session, user or CSRF cookie.
    context = {"lang": get_language(), "i18n": _strings(), "interval": 60, **context}
    return HttpResponse(render_to_string(template, context))


def _token(request: HttpRequest) -> str | None:
    return request.GET.get(selectors.OPTIONS_PARAM) or None


@public
@GET
def public_embed_view(request: HttpRequest, embed_key: str) -> HttpResponse:
    token = _token(request)
    target = selectors.embed_target(embed_key, token)
    if target is None:
        return _not_found()
    # The image and prediction calls carry the same signed options (the count shown depends on them).
    suffix = f"?{selectors.OPTIONS_PARAM}={quote(token, safe=':')}" if token else ""
    block = {
        "image_url": reverse("embed_public:image", kwargs={"embed_key": embed_key}) + suffix,
        "prediction_url": reverse("embed_public:prediction", kwargs={"embed_key": embed_key}) + suffix,
    }
    return _page(
        "embeds/public_embed.html",
        {"options": target.options, "blocks": [block], "scale": target.options.size_mode != SizeMode.FIXED},
    )


@public
@GET
def public_image_view(request: HttpRequest, embed_key: str) -> HttpResponse:
    return _serve_image(request, selectors.embed_target(embed_key, _token(request)), embed_key)


@public
@GET
def public_prediction_view(request: HttpRequest, embed_key: str) -> HttpResponse:
    return _serve_prediction(request, selectors.embed_target(embed_key, _token(request)), embed_key)


def qr_svg(url: str) -> str:
    """The QR code of the external link, made here (segno), as inline SVG: no outside service sees it."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#1d2733", light="#ffffff")


@public
@GET
def public_site_view(request: HttpRequest, site_key: str) -> HttpResponse:
    site = selectors.site_by_key(site_key)
    if site is None:
        return _not_found()
    cameras = selectors.site_cameras(site)
    blocks = [
        {
            "name": cc.display_name,
            "image_url": reverse("embed_public:site_image", kwargs={"site_key": site_key, "camera_index": i}),
            "prediction_url": reverse("embed_public:site_prediction", kwargs={"site_key": site_key, "camera_index": i}),
        }
        for i, cc in enumerate(cameras)
    ]
    qr = qr_svg(site.link_url) if site.link_mode in (LinkMode.QR_TOP, LinkMode.QR_BOTTOM) and site.link_url else ""
    context = {"site": site, "options": selectors.options_of(site, show_count=True), "blocks": blocks, "qr": qr}
    return _page("embeds/public_site.html", context)


@public
@GET
def public_site_image_view(request: HttpRequest, site_key: str, camera_index: int) -> HttpResponse:
    site = selectors.site_by_key(site_key)
    target = selectors.site_target(site, camera_index) if site else None
    return _serve_image(request, target, f"{site_key}/{camera_index}")


@public
@GET
def public_site_prediction_view(request: HttpRequest, site_key: str, camera_index: int) -> HttpResponse:
    site = selectors.site_by_key(site_key)
    target = selectors.site_target(site, camera_index) if site else None
    return _serve_prediction(request, target, f"{site_key}/{camera_index}")
