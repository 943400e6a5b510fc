"""This app's settings, read lazily so tests (the `settings` fixture) and the demo can point them
at the fake provider servers.

Each value comes from the Django setting of the same name when one is set, else from the
environment variable of that name, else a safe default. A malformed value is an error at use,
with the variable's name in the message.
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _url(name: str, default: str) -> str:
    value = getattr(settings, name, None) or os.environ.get(name, "") or default
    if value.split("://", 1)[0] not in ("http", "https"):
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _str(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    return value if value is not None else os.environ.get(name, default)


def _float(name: str, default: float) -> float:
    raw = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name, "")
    if raw in ("", None):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be > 0, got {value}")
    return value


def ubiregi_base_url() -> str:
    """Ubiregi's site: OAuth2 at /oauth2/…, the REST API at /api/3/…"""
    return _url("POS_UBIREGI_BASE_URL", "https://ubiregi.com")


def ubiregi_client_id() -> str:
    return _str("POS_UBIREGI_CLIENT_ID", "portal-dev")


def ubiregi_client_secret() -> str:
    return _str("POS_UBIREGI_CLIENT_SECRET", "portal-dev-secret")


def smaregi_base_url() -> str:
    """Smaregi's API receiving endpoint lives at <base>/access/ (API受信 Ver.2)."""
    return _url("POS_SMAREGI_BASE_URL", "https://webapi.smaregi.jp")


def smaregi_platform_api_url() -> str:
    """The Platform API's REST host (`<host>/<contract_id>/pos/…`); https://api.smaregi.dev for the sandbox."""
    return _url("POS_SMAREGI_PLATFORM_API_URL", "https://api.smaregi.jp")


def smaregi_platform_id_url() -> str:
    """The Platform API's authorization host (`<host>/app/<contract_id>/token`);
    https://id.smaregi.dev for the sandbox."""
    return _url("POS_SMAREGI_PLATFORM_ID_URL", "https://id.smaregi.jp")


def webhook_base_url() -> str:
    """The portal's public address as the providers reach it, for the webhook URL the link page
    shows (empty: the address of the request that drew the page)."""
    value = _str("POS_WEBHOOK_BASE_URL", "")
    if value and value.split("://", 1)[0] not in ("http", "https"):
        raise ImproperlyConfigured(f"POS_WEBHOOK_BASE_URL must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def http_timeout() -> float:
    """Seconds before a provider call counts as a timeout (a provider error, retried with backoff)."""
    return _float("POS_HTTP_TIMEOUT", 15.0)
