"""Proxy login ("act as customer") and the temporary-password expiry, once per request.

Installed after tenants.middleware.OperatorMiddleware: while a partner admin acts as one of its
customers, `request.operator` becomes that customer for every app (their access functions then
scope to it), `request.proxy_session` is set for the banner, and every change is written to the
audit trail the customer can read.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .auth import temporary_password_expired, temporary_password_refusal
from .models import ProxySession

SESSION_KEY = "licensing_proxy_session"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


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
                message = temporary_password_refusal(user)
                logout(request)
                messages.error(request, message)
                return redirect(reverse("tenants:login"))
            proxy = proxy_session_for(request)
            if proxy is not None:
                request.proxy_session = proxy
                request.operator = proxy.customer
        response = self.get_response(request)
        proxy = request.proxy_session
        if proxy is not None and request.method in WRITE_METHODS and not request.path.startswith("/i18n/"):
            from .services import proxy_record_action

            proxy_record_action(session=proxy, method=request.method, path=request.path, status=response.status_code)
        return response
