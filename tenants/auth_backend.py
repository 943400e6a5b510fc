"""Email + password authentication with the lockout rule, for every password entry point.

Five consecutive wrong passwords lock the account for 30 minutes (SPEC §1). The lock is
enforced here, in the backend, so the portal login, the Django admin login and anything
else that calls `authenticate()` obey the same rule.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils import timezone

from .models import User


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
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.failed_login_count or user.locked_until:
                User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
                user.failed_login_count, user.locked_until = 0, None
            return user
        register_failure(user, now)
        user.refresh_from_db(fields=["locked_until"])
        if request is not None and user.is_locked(now):
            request.login_locked_until = user.locked_until
        return None


def register_failure(user: User, now) -> None:
    """Count one wrong password atomically; the fifth in a row sets the lock."""
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    limit = settings.PORTAL_LOCKOUT_FAILURES
    locked = User.objects.filter(pk=user.pk, failed_login_count__gte=limit).update(
        failed_login_count=0, locked_until=now + timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)
    )
    if locked and user.operator_id:
        from .services import login_record

        login_record(user=user, ip=None, user_agent="", succeeded=False, detail="locked")
