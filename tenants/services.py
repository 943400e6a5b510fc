"""Writes for operators and accounts: user management, invitations, API tokens, login records.

The password-attempt and two-step rules are in tenants.security.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from . import tasks
from .access import require_admin
from .models import ApiToken, KnownEnvironment, LoginHistory, Operator, Role, RoleChange, TwoFactorMode, User

INVITATION_SALT = "tenants.invitation"


# ---------------------------------------------------------------- operators


@transaction.atomic
def operator_create(
    *,
    name: str,
    admin_email: str,
    password: str | None,
    kind: str = Operator.Kind.CUSTOMER,
    partner: Operator | None = None,
    admin_name: str = "",
) -> tuple[Operator, User]:
    """A new operator with its first admin. The admin must change the password at first login."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Enter the operator name."), code="required")
    operator = Operator.objects.create(name=name, kind=kind, partner=partner)
    admin = user_create(
        operator=operator,
        actor=None,
        email=admin_email,
        name=admin_name or name,
        role=Role.ADMIN,
        password=password,
    )
    return operator, admin


# ---------------------------------------------------------------- users


def _refuse_for_another_operator(actor: User | None, operator_id: int) -> None:
    """Account changes are for the operator's own admins. An actor of another operator is a partner
    acting as its customer (proxy login, docs/product.md §1.2): its job is licenses, so it may not add, promote,
    edit or delete the customer's accounts (pages and API both end here)."""
    if actor is not None and actor.operator_id != operator_id:
        raise PermissionDenied(
            _(
                "While you act as a customer you cannot add, change or delete its accounts, their "
                "email addresses, passwords or security settings. Proxy login is for licenses."
            )
        )


def _refuse_admin_role(*, old_role: str | None, new_role: str) -> None:
    """Administrator accounts come with the contract (docs/product.md §1.3): the portal's pages and API
    never make one, nor take the role away. Only platform staff move it (`role_set_by_staff`)."""
    if new_role == Role.ADMIN and old_role != Role.ADMIN:
        raise ValidationError(
            {
                "role": [
                    _(
                        "Administrator accounts are issued with the contract; no further administrator can "
                        "be added or promoted here. Contact support to change who is the administrator."
                    )
                ]
            },
            code="admin_role",
        )
    if old_role == Role.ADMIN and new_role != Role.ADMIN:
        raise ValidationError(
            {
                "role": [
                    _(
                        "An administrator's role is changed only by support, with the contract. "
                        "Contact support to change who is the administrator."
                    )
                ]
            },
            code="admin_role",
        )


def _check_email_free(email: str, exclude: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": [_("Enter a valid email address.")]})
    taken = User.objects.filter(email__iexact=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        taken = ValidationError(_("This email address is already used by another account."), code="email_taken")
        raise ValidationError({"email": [taken]})
    return email


@transaction.atomic
def user_create(
    *,
    operator: Operator,
    actor: User | None,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    send_invitation: bool = False,
) -> User:
    """Add an account. With `password` it is an initial password (changed at first login);
    without one the account gets an invitation mail valid for 72 hours."""
    _refuse_for_another_operator(actor, operator.pk)
    # Lock the operator row so that two admins adding users at once cannot pass the limit together.
    Operator.objects.select_for_update().get(pk=operator.pk)
    limit = settings.PORTAL_MAX_ACCOUNTS_PER_OPERATOR
    if User.objects.for_operator(operator).count() >= limit:
        raise ValidationError(
            _("An operator can have at most %(limit)d accounts. Delete an account before adding one.")
            % {"limit": limit},
            code="account_limit",
        )
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    if actor is not None:  # actor None: the contract's first admin (operator_create)
        _refuse_admin_role(old_role=None, new_role=role)
    email = _check_email_free(email)
    user = User(operator=operator, email=email, name=(name or "").strip()[:100], role=role)
    if password:
        _validate_password(password, user)
        user.set_password(password)
        user.must_change_password = True
    else:
        user.set_unusable_password()
    user.save()
    if not password or send_invitation:
        language = translation.get_language()
        transaction.on_commit(lambda: tasks.send_invitation.delay(user.pk, language))
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    target: User,
    name: str,
    email: str,
    role: str | None = None,
    current_password: str | None = None,
) -> User:
    """Name, email and role of an account. A new email address needs the acting user's current
    password (whoever holds the address can reset the password, so changing it is taking the
    account), and the old address is told."""
    _refuse_for_another_operator(actor, target.operator_id)
    old_email = target.email
    target.name = (name or "").strip()[:100]
    target.email = _check_email_free(email, exclude=target)
    if target.email != old_email.lower() and not actor.check_password(current_password or ""):
        target.email = old_email
        raise ValidationError(
            {"current_password": [_("Enter your current password to change the email address.")]},
            code="password_required",
        )
    if role is not None and role != target.role:
        if role not in Role.values:
            raise ValidationError({"role": [_("Choose a valid role.")]})
        if target.pk == actor.pk:
            raise ValidationError({"role": [_("You cannot change your own role.")]})
        _refuse_admin_role(old_role=target.role, new_role=role)
        target.role = role
    target.save()
    if target.email != old_email.lower():
        _notify_email_change(target, old_email=old_email, actor=actor)
    return target


def _notify_email_change(user: User, *, old_email: str, actor: User) -> None:
    context = {"old_email": old_email, "new_email": user.email, "actor": actor, "at": timezone.localtime()}
    language = translation.get_language()

    def send() -> None:
        with translation.override(language):
            mail_user(user, "tenants/email/email_changed", context, to=old_email)

    transaction.on_commit(send)


@transaction.atomic
def role_set_by_staff(*, target: User, role: str, staff: User | None, via: str, reason: str) -> RoleChange | None:
    """Platform staff move an account's role, the administrator role included (docs/product.md §1.3),
    from the admin site or `manage.py set_user_role`. Every change is audited in RoleChange; a reason
    is required. Returns None when the role is already `role`."""
    if staff is not None and not staff.is_staff:
        raise PermissionDenied(_("Only platform staff change administrator roles."))
    if role not in Role.values:
        raise ValidationError({"role": [_("Choose a valid role.")]})
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the role change (e.g. the contract change).")]})
    if via not in RoleChange.Via.values:
        raise ValidationError({"via": [_("Choose how the role is changed.")]})
    locked = User.objects.select_for_update().get(pk=target.pk)
    if locked.role == role:
        return None
    change = RoleChange.objects.create(
        operator_id=locked.operator_id,
        user=locked,
        old_role=locked.role,
        new_role=role,
        changed_by=staff,
        via=via,
        reason=reason,
    )
    User.objects.filter(pk=locked.pk).update(role=role)
    target.role = role
    return change


@transaction.atomic
def user_password_set(*, actor: User, target: User, new_password: str) -> None:
    """An admin sets another account's password (docs/product.md §1.3). It is a temporary password
    like an initial one: the user must change it at the next login, and their API tokens stop."""
    require_admin(actor)
    _refuse_for_another_operator(actor, target.operator_id)
    if target.pk == actor.pk:
        raise ValidationError(
            {"new_password1": [_("Change your own password on your account page, with your current password.")]}
        )
    _validate_password(new_password, target, field="new_password1")
    target.set_password(new_password)
    target.must_change_password = True
    target.save(update_fields=["password", "must_change_password"])
    api_tokens_revoke(user=target)


def user_password_reset_send(*, actor: User, target: User) -> None:
    """Mail `target` the same one-use, 24-hour link as "forgot password", to choose a new password."""
    require_admin(actor)
    _refuse_for_another_operator(actor, target.operator_id)
    site = settings.PORTAL_SITE_URL
    context = {
        "protocol": site.split("://", 1)[0],
        "domain": site.split("://", 1)[-1].rstrip("/"),
        "uid": urlsafe_base64_encode(force_bytes(target.pk)),
        "token": default_token_generator.make_token(target),
    }
    mail_user(target, "tenants/email/password_reset", context)


@transaction.atomic
def user_email_correct(*, target: User, email: str) -> User:
    """A partner fixes the mistyped address of a customer's first admin it has just created;
    licensing.services.customer_email_correct holds that rule (no license assigned yet). The old
    address was wrong, so it gets no notice."""
    target.email = _check_email_free(email, exclude=target)
    target.save(update_fields=["email"])
    return target


@transaction.atomic
def user_delete(*, actor: User, target: User) -> None:
    _refuse_for_another_operator(actor, target.operator_id)
    if target.pk == actor.pk:
        raise ValidationError(_("You cannot delete your own account."), code="self_delete")
    target.delete()


def _validate_password(password: str, user: User, field: str = "password") -> None:
    # Re-raised against the field so that forms and the API show the message next to it.
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def user_security_update(*, user: User, two_factor_mode: str, login_notification: bool) -> User:
    """Own two-step verification mode and login-notification choice."""
    if two_factor_mode not in TwoFactorMode.values:
        raise ValidationError({"two_factor_mode": [_("Choose a valid two-step verification mode.")]})
    user.two_factor_mode = two_factor_mode
    user.login_notification = bool(login_notification)
    user.save(update_fields=["two_factor_mode", "login_notification"])
    return user


@transaction.atomic
def password_change(*, user: User, new_password: str) -> None:
    """A new own password; it also ends a first-login / temporary-password obligation."""
    _validate_password(new_password, user, field="new_password1")
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.save(update_fields=["password", "must_change_password", "temporary_password_expires_at"])
    api_tokens_revoke(user=user)


@transaction.atomic
def password_reset_complete(*, user: User, new_password: str) -> None:
    """Password set through an emailed reset link: proof of the mailbox, so the lock and any
    first-login obligation go too (otherwise a locked-out user could not get back in)."""
    _validate_password(new_password, user, field="new_password1")
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.failed_login_count = 0
    user.two_factor_failures = 0
    user.locked_until = None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "temporary_password_expires_at",
            "failed_login_count",
            "two_factor_failures",
            "locked_until",
        ]
    )
    api_tokens_revoke(user=user)


# ---------------------------------------------------------------- API tokens

API_TOKEN_TOUCH_SECONDS = 60  # last use is written at most once a minute per token


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> str:
    """A new personal token. Only its hash is stored, so the key is returned once, here."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": [_("Give the token a name, e.g. the program that uses it.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_in_days": [_("Choose an expiry in the future.")]})
    key = secrets.token_hex(20)
    ApiToken.objects.create(
        operator_id=user.operator_id,
        user=user,
        name=name,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        expires_at=expires_at,
    )
    return key


@transaction.atomic
def api_token_delete(*, user: User, token: ApiToken) -> None:
    ApiToken.objects.for_operator(user.operator).filter(user=user, pk=token.pk).delete()


def api_tokens_revoke(*, user: User) -> int:
    """Every token of `user` stops working: on a password change or reset, and when a temporary
    password expires (a token must not outlive the password it was created under)."""
    deleted, _rows = ApiToken.objects.filter(user_id=user.pk).delete()
    return deleted


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Remember the last use, cheaply: one UPDATE at most once a minute per token."""
    now = now or timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - timedelta(seconds=API_TOKEN_TOUCH_SECONDS):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# ---------------------------------------------------------------- invitations


def invitation_token(user: User) -> str:
    # Bound to the password hash: the link stops working once a password is set (single use).
    # The issue time comes from timezone.now(), the clock every other rule here uses.
    issued = int(timezone.now().timestamp())
    return signing.dumps({"u": user.pk, "p": user.password[-12:], "t": issued}, salt=INVITATION_SALT)


def invitation_user(token: str) -> User | None:
    """The user an invitation link is for, or None if it is invalid, used or older than 72 h."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return None
    age = timezone.now().timestamp() - data["t"]
    if age < 0 or age > settings.PORTAL_INVITATION_HOURS * 3600:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.password[-12:] != data.get("p") or user.has_usable_password():
        return None
    return user


def invitation_send(*, user: User) -> None:
    url = settings.PORTAL_SITE_URL + reverse("tenants:invitation_accept", args=[invitation_token(user)])
    mail_user(user, "tenants/email/invitation", {"url": url, "hours": settings.PORTAL_INVITATION_HOURS})


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> None:
    _validate_password(password, user, field="new_password1")
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])


# ---------------------------------------------------------------- mails, login records


def mail_user(user: User, template: str, context: dict, *, to: str | None = None) -> None:
    """Mail `user` (or the address `to`, e.g. the old one after an email change)."""
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        context = {"user": user, "site": settings.PORTAL_SITE_URL, **context}
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to or user.email])


def environment_is_known(*, user: User, device_key: str | None, ip: str | None) -> bool:
    """Known = this browser has logged in before AND this IP has been used before."""
    envs = KnownEnvironment.objects.for_operator(user.operator).filter(user=user)
    known_browser = bool(device_key) and envs.filter(device_key=device_key).exists()
    known_ip = ip is not None and envs.filter(ip=ip).exists()
    return known_browser and known_ip


def login_record(*, user: User, ip: str | None, user_agent: str, succeeded: bool, detail: str = "") -> None:
    LoginHistory.objects.create(
        operator_id=user.operator_id,
        user=user,
        ip=ip,
        user_agent=(user_agent or "")[:400],
        succeeded=succeeded,
        detail=detail,
    )


def login_succeeded(*, user: User, ip: str | None, user_agent: str, device_key: str) -> None:
    """After password (and code, if asked): history, remembered environment, notification mail."""
    is_new = not environment_is_known(user=user, device_key=device_key, ip=ip)
    login_record(user=user, ip=ip, user_agent=user_agent, succeeded=True)
    env, created = KnownEnvironment.objects.get_or_create(
        operator_id=user.operator_id, user=user, device_key=device_key, ip=ip
    )
    if not created:
        KnownEnvironment.objects.filter(pk=env.pk).update(last_seen=timezone.now())
    has_history = LoginHistory.objects.for_operator(user.operator).filter(user=user, succeeded=True).count() > 1
    if is_new and has_history and user.login_notification:
        mail_user(
            user,
            "tenants/email/login_notification",
            {"ip": ip or "-", "user_agent": user_agent or "-", "at": timezone.localtime()},
        )


def login_history_purge(*, now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PORTAL_LOGIN_HISTORY_DAYS)
    deleted, _ = LoginHistory.objects.filter(at__lt=cutoff).delete()
    return deleted
