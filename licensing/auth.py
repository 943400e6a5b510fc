"""Login check for the random password a partner had mailed to a new customer (valid 24 hours).

`temporary_password_refusal(user)` is a tenants login check (registered in licensing/apps.py): the
login view asks it after the password matched and before logging in, API token authentication on
every call; a non-empty message means "refuse, show this". LicensingMiddleware also logs out a
session whose temporary password expires while it is open, so the rule holds even for a login
path that forgets the call. The password-reset flow clears the expiry (tenants.services.password_change).
"""

from datetime import datetime

from django.utils.translation import gettext as _

from tenants.models import User

from . import clock


def temporary_password_expired(user: User, at: datetime | None = None) -> bool:
    expires = getattr(user, "temporary_password_expires_at", None)
    return bool(user.must_change_password and expires is not None and expires <= (at or clock.now()))


def temporary_password_refusal(user: User, at: datetime | None = None) -> str:
    """'' when `user` may log in; otherwise the message the login page shows."""
    if temporary_password_expired(user, at):
        return _(
            'Your temporary password expired 24 hours after it was sent. Use "Forgot your password?" '
            "to set a new password."
        )
    return ""
