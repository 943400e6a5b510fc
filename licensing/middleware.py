"""Proxy login ("act as customer") and the temporary-password expiry, once per request.

Installed after tenants.middleware.OperatorMiddleware: while a partner admin acts as one of its
customers, `request.operator` becomes that customer for every app (their access functions then
scope to it), `request.proxy_session` is set for the banner, and the audit trail the customer can
read gets every change and every look at its recordings, clips and exports.

A partner acting as a customer is there for licenses (docs/product.md §1.2): account pages and the account
API refuse its writes here, and tenants.services refuses account changes by an actor of another
operator whatever the entry point.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .auth import temporary_password_expired, temporary_password_refusal
from .models import ProxySession

SESSION_KEY = "licensing_proxy_session"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_METHODS = {"GET", "HEAD"}
# Pages and files that show a customer's video: each look during a proxy session is audited.
# (By URL name, so the recording app needs no change; tests/licensing/test_proxy_limits.py keeps
# the list in step with recording/urls.py.)
AUDITED_READS = {
    "recording:index",
    "recording:player",
    "recording:segment_file",
    "recording:clip_file",
    "recording:clip_download",
    "recording:exports",
    "recording:export_progress",
    "recording:export_download",
}
# Account writes a proxy session may not make: own or the customer's accounts, passwords, email
# addresses, security settings and API tokens.
ACCOUNT_API_ROUTES = {"api-me", "api-user-list", "api-user-detail"}
ALLOWED_ACCOUNT_PAGES = {"tenants:logout"}


def _is_account_write(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None or request.method not in WRITE_METHODS:
        return False
    if match.url_name in ACCOUNT_API_ROUTES:
        return True
    return match.namespace == "tenants" and match.view_name not in ALLOWED_ACCOUNT_PAGES


def _refusal(request):
    message = _(
        "While you act as a customer you cannot add, change or delete its accounts, their email "
        "addresses, passwords or security settings. Proxy login is for licenses."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    messages.error(request, message)
    return redirect("licensing:licenses")


def proxy_session_for(request) -> ProxySession | None:
    """The open proxy session of this browser session, re-checked on every request.

    Security guarantee: only a session started by this very user, still open, whose customer
    still belongs to the user's partner operator, and only while the user is a partner admin."""
    session_id = request.session.get(SESSION_KEY)
    user = request.user
    if not session_id or not user.is_authenticated:
        return None
    proxy = (
        ProxySession.objects.select_related("customer")
        .filter(pk=session_id, user=user, partner=user.operator, ended_at__isnull=True)
        .first()
    )
    if proxy is None or proxy.customer.partner_id != user.operator_id or not user.is_admin:
        request.session.pop(SESSION_KEY, None)
        return None
    return proxy


class LicensingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        request.proxy_session = None
        if user is not None and user.is_authenticated:
            if temporary_password_expired(user):
                from tenants.services import api_tokens_revoke

                message = temporary_password_refusal(user)
                api_tokens_revoke(user=user)
                logout(request)
                messages.error(request, message)
                return redirect(reverse("tenants:login"))
            proxy = proxy_session_for(request)
            if proxy is not None:
                request.proxy_session = proxy
                request.operator = proxy.customer
        response = self.get_response(request)
        proxy = request.proxy_session
        if proxy is not None and self._audited(request):
            from .services import proxy_record_action

            proxy_record_action(session=proxy, method=request.method, path=request.path, status=response.status_code)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(request, "proxy_session", None) is not None and _is_account_write(request):
            return _refusal(request)  # still audited: the attempt is in the customer's trail
        return None

    @staticmethod
    def _audited(request) -> bool:
        if request.method in WRITE_METHODS:
            return not request.path.startswith("/i18n/")
        match = getattr(request, "resolver_match", None)
        return request.method in READ_METHODS and match is not None and match.view_name in AUDITED_READS
