"""Operators (tenants), their users, and login security records."""

import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_share_id() -> str:
    # Readable, unambiguous characters: operators read it out to each other to set up sharing.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Operator(models.Model):
    """The tenant: a company or building owner. Partners (resellers) are operators too."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        PARTNER = "partner", _("Partner")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    share_id = models.CharField(_("share ID"), max_length=16, unique=True, default=new_share_id)
    partner = models.ForeignKey(
        "self",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        limit_choices_to={"kind": "partner"},
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("operator")
        verbose_name_plural = _("operators")

    def __str__(self) -> str:
        return self.name

    @property
    def is_partner(self) -> bool:
        return self.kind == self.Kind.PARTNER


class TenantQuerySet(models.QuerySet):
    def for_operator(self, operator: Operator) -> "TenantQuerySet":
        return self.filter(operator=operator)


class TenantModel(models.Model):
    """Base of every tenant-owned model: a non-null, indexed operator and `for_operator()`.

    Request-facing code never uses `.objects` of a subclass directly; it goes through the
    app's selectors / access functions (enforced by tests/test_scoping_rules.py).
    """

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+", db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    VIEWER = "viewer", _("View only")
    DEVICE_OPERATOR = "device_operator", _("Device operation")


class TwoFactorMode(models.TextChoices):
    OFF = "off", _("Off")
    ALWAYS = "always", _("Always")
    RISK = "risk", _("Only from a new browser or IP address")


class UserManager(BaseUserManager.from_queryset(TenantQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        # Platform staff belong to a dedicated operator so that User.operator stays non-null.
        if "operator" not in extra:
            extra["operator"], _ = Operator.objects.get_or_create(name="Platform staff")
        extra.setdefault("role", Role.ADMIN)
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="users", db_index=True)
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("user name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    must_change_password = models.BooleanField(default=False)
    # Set when a password was mailed or given temporarily; it must be changed before this time.
    temporary_password_expires_at = models.DateTimeField(null=True, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(default=0)
    # Wrong two-step codes since the last right one, across challenges and password logins: a fresh
    # login must not buy more guesses. Counted under a row lock (tenants.security.two_factor_verify).
    two_factor_failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    two_factor_mode = models.CharField(
        _("two-step verification"), max_length=10, choices=TwoFactorMode.choices, default=TwoFactorMode.OFF
    )
    login_notification = models.BooleanField(_("mail me when I log in from a new environment"), default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def is_locked(self, now=None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now


class LoginHistory(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_history")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    succeeded = models.BooleanField(default=True)
    detail = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at"]


class KnownEnvironment(TenantModel):
    """A browser (long-lived cookie) and IP from which a user has logged in successfully."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="environments")
    device_key = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)


class TwoFactorChallenge(TenantModel):
    """A mailed 6-digit code (only its hash). Rows stay after use: they count towards the hourly cap."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="two_factor_challenges")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)


class LoginThrottle(models.Model):
    """Failed logins from one IP address in one fixed window: the per-IP limit beside the per-account lock.

    Not tenant-owned: an unknown email address has no operator, and it must count the same."""

    ip = models.GenericIPAddressField()
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ip", "window_start"], name="login_throttle_one_row_per_window")]


class ApiToken(TenantModel):
    """A personal REST API token. Only a SHA-256 of the key is stored: the key is random (160 bits),
    so a fast hash is enough, and a copy of the database gives nobody a working token."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # the key's first characters, so its owner can tell tokens apart
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class RoleChange(TenantModel):
    """Audit of an account's role moving to or from administrator. Administrator accounts come with
    the contract (docs/product.md §1.2), so only platform staff move that role: through the admin
    site or `manage.py set_user_role`, each change written here with who did it and why."""

    class Via(models.TextChoices):
        ADMIN_SITE = "admin_site", _("Admin site")
        COMMAND = "command", _("Management command")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_changes")
    old_role = models.CharField(max_length=20, choices=Role.choices)
    new_role = models.CharField(max_length=20, choices=Role.choices)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=12, choices=Via.choices)
    reason = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("role change")
        verbose_name_plural = _("role changes")


class TermsConsent(models.Model):
    """A user's consent to one version of the terms of use (settings.PORTAL_TERMS_VERSION), with its time.
    A new version asks again at the next page; consents to earlier versions stay as the record."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terms_consents")
    version = models.CharField(_("terms version"), max_length=40)
    consented_at = models.DateTimeField(_("consented at"), default=timezone.now)

    class Meta:
        ordering = ["-consented_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="terms_consent_once_per_version")]
