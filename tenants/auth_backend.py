"""Email + password authentication with the lockout rule, for every password entry point.

Five consecutive wrong passwords lock the account for 30 minutes (docs/product.md §1.4), and too many failures
from one client IP refuse that IP for a while. Both are enforced here, in the backend (the rules
are in tenants.security), so anything that calls `authenticate()` obeys them. Failed attempts on
existing accounts are written to the login history there too, so every entry point leaves the
same trace. (The Django admin's own login page is not one of them any more: it sends staff to the
portal's login, with its two-step verification.)
"""

from django.contrib.auth.backends import ModelBackend, UserModel

from portal import query_shapes
from portal.client_ip import client_ip

from .security import password_attempt


def request_ip(request) -> str | None:
    # REMOTE_ADDR unless settings.CLIENT_IP_HEADER names a trusted proxy's header: X-Forwarded-For
    # is client-controlled otherwise, and a forged IP would let an attacker skip risk-based
    # two-step verification.
    return client_ip(request)


def request_user_agent(request) -> str:
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:400]


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = (email or username or "").strip().lower()
        if not email or password is None:
            return None
        check = password_attempt(
            email=email, password=password, ip=request_ip(request), user_agent=request_user_agent(request)
        )
        if request is not None:
            # The login page answers a throttled client differently (the IP is the client's own, so
            # that says nothing about which accounts exist); everything else gets the one answer.
            request.login_throttled = check.throttled
        return check.user

    def get_user(self, user_id):
        # The operator comes in the user's query: OperatorMiddleware reads it on every request, which
        # was a second query each time. Every request asks it, so its SQL is compiled once per process
        # (portal/query_shapes.py): building and compiling it again took 0.6 ms, the database 0.3.
        found = query_shapes.rows(UserModel, "session-user", [user_id], _session_user)
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None


def _session_user(ids: list[int]):
    return UserModel._default_manager.select_related("operator").filter(pk__in=ids).order_by()
