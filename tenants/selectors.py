"""Reads of accounts and login records, scoped to one operator."""

import re
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .access import get_scoped_or_404
from .models import ApiToken, LoginHistory, Operator, User


def user_list(*, operator: Operator, search: str = "") -> QuerySet[User]:
    """The operator's accounts, optionally narrowed by a name / email search."""
    users = User.objects.for_operator(operator).order_by("email")
    search = (search or "").strip()
    if search:
        users = users.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return users


def user_count(*, operator: Operator) -> int:
    return User.objects.for_operator(operator).count()


def user_for_login(*, user_id: int) -> User | None:
    """The account a pending (password-checked) login belongs to. Only for the login flow, which
    has no operator yet: the id comes from the server-side session, never from the request."""
    return User.objects.filter(pk=user_id, is_active=True).select_related("operator").first()


def login_history_for(*, user: User) -> QuerySet[LoginHistory]:
    """Own history only, last 90 days."""
    since = timezone.now() - timedelta(days=settings.PORTAL_LOGIN_HISTORY_DAYS)
    return LoginHistory.objects.for_operator(user.operator).filter(user=user, at__gte=since)


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """Own tokens only, newest first."""
    return ApiToken.objects.for_operator(user.operator).filter(user=user)


def access_api_token(*, user: User, pk) -> ApiToken:
    """One of the caller's own tokens. Security guarantee: 404 for anybody else's token."""
    return get_scoped_or_404(api_token_list(user=user), operator=user.operator, pk=pk)


def api_token_by_key(*, key: str) -> ApiToken | None:
    """The token a request presents (only for the API authentication, which has no operator yet:
    the key itself is the proof). Looked up by its hash; the key is never stored."""
    return ApiToken.objects.select_related("user", "user__operator").filter(key_hash=ApiToken.hash_key(key)).first()


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"OPR/(\d+)"),
    ("Samsung Internet", r"SamsungBrowser/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+).*Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
)


def describe_user_agent(user_agent: str) -> str:
    """A short "Chrome 120 / Windows" label for the login history; the raw string stays stored."""
    user_agent = user_agent or ""
    browser = next(
        (f"{name} {m.group(1)}" for name, rx in _BROWSERS if (m := re.search(rx, user_agent))),
        "",
    )
    system = next((name for name, rx in _SYSTEMS if re.search(rx, user_agent)), "")
    label = " / ".join(part for part in (browser, system) if part)
    return label or user_agent[:60]
