"""Email + password authentication with the lockout rule, for every password entry point.

Five consecutive wrong passwords lock the account for 30 minutes (SPEC §1). The lock is
enforced here, in the backend, so the portal login, the Django admin login and anything
else that calls `authenticate()` obey the same rule. Failed attempts on existing accounts are
written to the login history here too, so every entry point leaves the same trace.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils import timezone

from portal.client_ip import client_ip

from .models import User


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
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            User().set_password(password)  # same cost as a real check: no timing oracle for emails
            return None
        now = timezone.now()
        if user.is_locked(now):
            if request is not None:
                request.login_locked_until = user.locked_until
            _record_failure(user, request, "locked")
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.failed_login_count or user.locked_until:
                User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
                user.failed_login_count, user.locked_until = 0, None
            return user
        locked = register_failure(user, now)
        _record_failure(user, request, "lockout_started" if locked else "wrong_password")
        user.refresh_from_db(fields=["locked_until"])
        if request is not None and user.is_locked(now):
            request.login_locked_until = user.locked_until
        return None


def register_failure(user: User, now) -> bool:
    """Count one wrong password atomically; the fifth in a row sets the lock. True if it did."""
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    limit = settings.PORTAL_LOCKOUT_FAILURES
    locked = User.objects.filter(pk=user.pk, failed_login_count__gte=limit).update(
        failed_login_count=0, locked_until=now + timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)
    )
    return bool(locked)


def _record_failure(user: User, request, detail: str) -> None:
    if not user.operator_id:
        return
    from .services import login_record

    login_record(
        user=user, ip=request_ip(request), user_agent=request_user_agent(request), succeeded=False, detail=detail
    )
