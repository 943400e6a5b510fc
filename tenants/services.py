"""Writes for operators and accounts: user management, invitations, two-step codes, login records."""

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from .models import KnownEnvironment, LoginHistory, Operator, Role, TwoFactorMode, User

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


def _check_email_free(email: str, exclude: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": [_("Enter a valid email address.")]})
    taken = User.objects.filter(email__iexact=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"email": [_("This email address is already used by another account.")]})
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
        from .tasks import send_invitation

        language = translation.get_language()
        transaction.on_commit(lambda: send_invitation.delay(user.pk, language))
    return user


@transaction.atomic
def user_update(*, actor: User, target: User, name: str, email: str, role: str | None = None) -> User:
    target.name = (name or "").strip()[:100]
    target.email = _check_email_free(email, exclude=target)
    if role is not None and role != target.role:
        if role not in Role.values:
            raise ValidationError({"role": [_("Choose a valid role.")]})
        if target.pk == actor.pk:
            raise ValidationError({"role": [_("You cannot change your own role.")]})
        target.role = role
    target.save()
    return target


@transaction.atomic
def user_delete(*, actor: User, target: User) -> None:
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


@transaction.atomic
def password_reset_complete(*, user: User, new_password: str) -> None:
    """Password set through an emailed reset link: proof of the mailbox, so the lock and any
    first-login obligation go too (otherwise a locked-out user could not get back in)."""
    _validate_password(new_password, user, field="new_password1")
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.failed_login_count = 0
    user.locked_until = None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "temporary_password_expires_at",
            "failed_login_count",
            "locked_until",
        ]
    )


# ---------------------------------------------------------------- API tokens


@transaction.atomic
def api_token_create(*, user: User) -> str:
    """A fresh DRF token for `user` (any old one stops working). The key is returned once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


@transaction.atomic
def api_token_delete(*, user: User) -> bool:
    deleted, _rows = Token.objects.filter(user=user).delete()
    return bool(deleted)


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
    _send(user, "tenants/email/invitation", {"url": url, "hours": settings.PORTAL_INVITATION_HOURS})


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> None:
    _validate_password(password, user, field="new_password1")
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])


# ---------------------------------------------------------------- login, two-step, history


def _send(user: User, template: str, context: dict) -> None:
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        context = {"user": user, "site": settings.PORTAL_SITE_URL, **context}
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def environment_is_known(*, user: User, device_key: str | None, ip: str | None) -> bool:
    """Known = this browser has logged in before AND this IP has been used before."""
    envs = KnownEnvironment.objects.for_operator(user.operator).filter(user=user)
    known_browser = bool(device_key) and envs.filter(device_key=device_key).exists()
    known_ip = ip is not None and envs.filter(ip=ip).exists()
    return known_browser and known_ip


def two_factor_required(*, user: User, device_key: str | None, ip: str | None) -> bool:
    if user.two_factor_mode == TwoFactorMode.ALWAYS:
        return True
    if user.two_factor_mode == TwoFactorMode.RISK:
        return not environment_is_known(user=user, device_key=device_key, ip=ip)
    return False


@dataclass
class TwoFactorChallenge:
    user_id: int
    code_hash: str
    expires_at: float
    attempts: int = 0

    MAX_ATTEMPTS = 5

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(self.code_hash, _hash_code(self.user_id, (code or "").strip()))

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()).timestamp() > self.expires_at

    def attempts_left(self) -> int:
        return max(0, self.MAX_ATTEMPTS - self.attempts)

    def to_session(self) -> dict:
        return asdict(self)

    @classmethod
    def from_session(cls, data) -> "TwoFactorChallenge | None":
        # The session is JSON; anything malformed is treated as "no pending challenge".
        try:
            return cls(
                user_id=int(data["user_id"]),
                code_hash=str(data["code_hash"]),
                expires_at=float(data["expires_at"]),
                attempts=int(data.get("attempts", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _hash_code(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{user_id}:{code}".encode()).hexdigest()


def two_factor_start(*, user: User) -> TwoFactorChallenge:
    """Mail a fresh 6-digit code; the challenge (only a hash of it) goes into the session."""
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.PORTAL_TWO_FACTOR_CODE_MINUTES
    _send(user, "tenants/email/two_factor_code", {"code": code, "minutes": minutes})
    expires = (timezone.now() + timedelta(minutes=minutes)).timestamp()
    return TwoFactorChallenge(user_id=user.pk, code_hash=_hash_code(user.pk, code), expires_at=expires)


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
        _send(
            user,
            "tenants/email/login_notification",
            {"ip": ip or "-", "user_agent": user_agent or "-", "at": timezone.localtime()},
        )


def login_history_purge(*, now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PORTAL_LOGIN_HISTORY_DAYS)
    deleted, _ = LoginHistory.objects.filter(at__lt=cutoff).delete()
    return deleted
