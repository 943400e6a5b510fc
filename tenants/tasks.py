"""Background jobs for accounts: invitation and lock-notice mails, the login-history retention purge.

Services import this module at their top and queue a job on commit; a job imports the services it
calls inside its body, so the two never import each other at load time (docs/development.md)."""

from celery import shared_task
from django.utils import translation

from .selectors import user_for_login


@shared_task(name="tenants.purge_login_history")
def purge_login_history() -> int:
    """Drop login records older than 90 days (docs/product.md §1.7), finished per-IP login windows and old
    two-step challenges. Idempotent: a second run deletes nothing."""
    from . import services
    from .security import login_security_purge

    login_security_purge()
    return services.login_history_purge()


@shared_task(
    name="tenants.send_invitation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invitation(user_id: int, language: str | None = None) -> bool:
    """Mail the invitation link, in the language the admin used. Skips accounts that are gone
    or already have a password (the invitation would be useless)."""
    from . import services

    user = user_for_login(user_id=user_id)
    if user is None or user.has_usable_password():
        return False
    with translation.override(language):
        services.invitation_send(user=user)
    return True


@shared_task(
    name="tenants.send_lock_notice",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_lock_notice(user_id: int, reason: str, language: str | None = None) -> bool:
    """Tell an account's owner it was locked, until when, and why ("password" or "code")."""
    from .security import lock_notice_send

    user = user_for_login(user_id=user_id)
    if user is None:
        return False
    with translation.override(language):
        lock_notice_send(user=user, reason=reason)
    return True
