"""Login security: password attempts (per-account lock, per-IP throttle) and two-step codes.

Every count here lives in the database and changes under a row lock, never in the session:
parallel requests of one browser share a session, so a count kept there lets ten guesses at
once pass as one. Ten requests at once get exactly the answers ten requests in a row would get
(tests/tenants/test_login_hardening.py).

What an outsider sees must not tell which email addresses have an account (docs/user-guide.md,
"Account security"): an unknown address, a wrong password and a locked account cost the same
password hash and get the same answer; only the account's owner learns of a lock, by mail.
"""

import enum
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import LoginThrottle, TwoFactorChallenge, TwoFactorMode, User
from .services import environment_is_known, login_record, mail_user
from .tasks import send_lock_notice

# ---------------------------------------------------------------- password attempts


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None = None  # set only when the password is right and the account may log in
    throttled: bool = False  # this client IP has too many failures: nothing was checked


def _throttle_key(ip: str | None) -> str | None:
    """The bucket of a client address: itself for IPv4, its /64 for IPv6 (one subscriber's
    line holds a whole /64, so per-address counting would not slow anyone down)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _window_start(now: datetime) -> datetime:
    size = settings.PORTAL_LOGIN_IP_WINDOW_MINUTES * 60
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % size, tz=UTC)


def login_ip_throttled(*, ip: str | None, now: datetime | None = None) -> bool:
    limit = settings.PORTAL_LOGIN_FAILURES_PER_IP
    key = _throttle_key(ip)
    if not limit or key is None:
        return False
    start = _window_start(now or timezone.now())
    return LoginThrottle.objects.filter(ip=key, window_start=start, failures__gte=limit).exists()


def _count_ip_failure(ip: str | None, now: datetime) -> None:
    key = _throttle_key(ip)
    if not settings.PORTAL_LOGIN_FAILURES_PER_IP or key is None:
        return
    start = _window_start(now)
    rows = LoginThrottle.objects.filter(ip=key, window_start=start)
    if rows.update(failures=F("failures") + 1):
        return
    try:
        with transaction.atomic():
            LoginThrottle.objects.create(ip=key, window_start=start, failures=1)
    except IntegrityError:  # a parallel request created the window first
        rows.update(failures=F("failures") + 1)


def _spend_one_hash(password: str) -> None:
    # The same work as checking a real password, so the answer's timing says nothing either.
    User().set_password(password)


def password_attempt(*, email: str, password: str, ip: str | None, user_agent: str) -> PasswordCheck:
    """Check an email + password under the lock rule (docs/product.md §1.4: five wrong in a row lock for 30 min).

    The account row is locked while its password is checked, so parallel wrong passwords are
    counted one by one: the fifth sets the lock and every later one, however parallel, meets it.
    """
    now = timezone.now()
    if login_ip_throttled(ip=ip, now=now):
        return PasswordCheck(throttled=True)
    email = (email or "").strip().lower()
    user_id = User.objects.filter(email__iexact=email).values_list("pk", flat=True).first() if email else None
    if user_id is None:
        _spend_one_hash(password)
        _count_ip_failure(ip, now)
        return PasswordCheck()
    lock_started = False
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if user.is_locked(now):
            _spend_one_hash(password)
            detail = "locked"
        elif user.check_password(password) and user.is_active:
            if user.failed_login_count or user.locked_until:
                user.failed_login_count, user.locked_until = 0, None
                user.save(update_fields=["failed_login_count", "locked_until"])
            return PasswordCheck(user=user)
        else:
            user.failed_login_count += 1
            if user.failed_login_count >= settings.PORTAL_LOCKOUT_FAILURES:
                user.failed_login_count = 0
                user.locked_until = now + timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)
                lock_started = True
            user.save(update_fields=["failed_login_count", "locked_until"])
            detail = "lockout_started" if lock_started else "wrong_password"
    login_record(user=user, ip=ip, user_agent=user_agent, succeeded=False, detail=detail)
    _count_ip_failure(ip, now)
    if lock_started:
        _queue_lock_notice(user, reason="password")
    return PasswordCheck()


def _queue_lock_notice(user: User, *, reason: str) -> None:
    # Through the queue: a mail sent inside the request would make a lock slower to answer than a
    # wrong password, and the difference would tell an outsider the address exists. The lock row
    # is already committed (no request-wide transaction: ATOMIC_REQUESTS is off).
    send_lock_notice.delay(user.pk, reason, translation.get_language())


def lock_notice_send(*, user: User, reason: str) -> None:
    if user.locked_until is None:
        return
    reason_text = (
        _("%(count)d wrong verification codes were entered after your password.")
        % {"count": settings.PORTAL_TWO_FACTOR_MAX_ATTEMPTS}
        if reason == "code"
        else _("%(count)d wrong passwords were entered in a row.") % {"count": settings.PORTAL_LOCKOUT_FAILURES}
    )
    until = timezone.localtime(user.locked_until)
    mail_user(
        user,
        "tenants/email/account_locked",
        {"reason": reason_text, "until": until.strftime("%H:%M"), "until_date": until.strftime("%Y-%m-%d")},
    )


# ---------------------------------------------------------------- two-step verification


def two_factor_required(*, user: User, device_key: str | None, ip: str | None) -> bool:
    if user.two_factor_mode == TwoFactorMode.ALWAYS:
        return True
    if user.two_factor_mode == TwoFactorMode.RISK:
        return not environment_is_known(user=user, device_key=device_key, ip=ip)
    return False


def _hash_code(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{user_id}:{code}".encode()).hexdigest()


def two_factor_start(*, user: User) -> TwoFactorChallenge:
    """Mail a fresh 6-digit code (only its hash is stored); any older code of the user stops working.

    Refused past PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR codes in the last hour, logins and resends
    together: every code is another chance to guess, and another mail in the owner's inbox."""
    now = timezone.now()
    minutes = settings.PORTAL_TWO_FACTOR_CODE_MINUTES
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one start at a time: the cap holds
        mine = TwoFactorChallenge.objects.for_operator(user.operator).filter(user=user)
        sent_last_hour = mine.filter(created_at__gt=now - timedelta(hours=1)).count()
        if sent_last_hour >= settings.PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR:
            raise ValidationError(
                _("Too many verification codes were sent for this account in the last hour. Try again later."),
                code="two_factor_cap",
            )
        mine.filter(closed_at__isnull=True).update(closed_at=now)
        challenge = TwoFactorChallenge.objects.create(
            operator_id=user.operator_id,
            user=user,
            code_hash=_hash_code(user.pk, code),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    mail_user(user, "tenants/email/two_factor_code", {"code": code, "minutes": minutes})
    return challenge


class CodeResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # this guess was the last one allowed: the account is now locked
    EXPIRED = "expired"
    GONE = "gone"  # no open challenge (used, replaced, or the account was locked meanwhile)


@dataclass(frozen=True)
class CodeCheck:
    result: CodeResult
    attempts_left: int = 0


def two_factor_verify(*, user: User, challenge_id: int, code: str, ip: str | None, user_agent: str) -> CodeCheck:
    """Check a code against the user's open challenge.

    Wrong codes are counted per user under the user's row lock, across challenges and password
    logins (a fresh login must not buy more guesses); the PORTAL_TWO_FACTOR_MAX_ATTEMPTS-th wrong
    code locks the account like five wrong passwords do, and its owner is told by mail."""
    now = timezone.now()
    limit = settings.PORTAL_TWO_FACTOR_MAX_ATTEMPTS
    with transaction.atomic():
        locked_user = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        open_challenges = TwoFactorChallenge.objects.for_operator(user.operator).filter(
            user_id=user.pk, closed_at__isnull=True
        )
        challenge = open_challenges.filter(pk=challenge_id).first() if locked_user else None
        if challenge is None:
            return CodeCheck(CodeResult.GONE)
        if locked_user.is_locked(now):
            open_challenges.update(closed_at=now)
            return CodeCheck(CodeResult.GONE)
        if challenge.expires_at <= now:
            open_challenges.update(closed_at=now)
            return CodeCheck(CodeResult.EXPIRED)
        if hmac.compare_digest(challenge.code_hash, _hash_code(user.pk, (code or "").strip())):
            open_challenges.update(closed_at=now)
            User.objects.filter(pk=user.pk).update(two_factor_failures=0)
            return CodeCheck(CodeResult.OK)
        failures = locked_user.two_factor_failures + 1
        if failures < limit:
            User.objects.filter(pk=user.pk).update(two_factor_failures=failures)
            return CodeCheck(CodeResult.WRONG, attempts_left=limit - failures)
        locked_until = now + timedelta(minutes=settings.PORTAL_LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(two_factor_failures=0, failed_login_count=0, locked_until=locked_until)
        open_challenges.update(closed_at=now)
    login_record(user=user, ip=ip, user_agent=user_agent, succeeded=False, detail="two_factor_failed")
    _queue_lock_notice(user, reason="code")
    return CodeCheck(CodeResult.LOCKED)


def login_security_purge(*, now: datetime | None = None) -> int:
    """Drop finished per-IP windows and two-step challenges older than a day (the hourly cap
    looks back one hour only)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    windows, _rows = LoginThrottle.objects.filter(window_start__lt=cutoff).delete()
    challenges, _rows = TwoFactorChallenge.objects.filter(created_at__lt=cutoff).delete()
    return windows + challenges
