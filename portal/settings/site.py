"""The footer's links and the contact page (docs/product.md §1.9): each operator of the portal sets its own.

A link left empty is not shown. The contact address must be a valid email address (checked at start)."""

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

from .env import env, env_url

PORTAL_TERMS_URL = env_url("PORTAL_TERMS_URL", "", schemes=("http", "https"))
PORTAL_PRIVACY_URL = env_url("PORTAL_PRIVACY_URL", "", schemes=("http", "https"))
# The manual's アクセス情報の取り扱い: how access information (cookies, logs) is handled.
PORTAL_ACCESS_INFO_URL = env_url("PORTAL_ACCESS_INFO_URL", "", schemes=("http", "https"))
PORTAL_CONTACT_EMAIL = env.str("PORTAL_CONTACT_EMAIL", default="support@example.com").strip()
PORTAL_CONTACT_PHONE = env.str("PORTAL_CONTACT_PHONE", default="").strip()
PORTAL_CONTACT_HOURS = env.str("PORTAL_CONTACT_HOURS", default="").strip()

try:
    validate_email(PORTAL_CONTACT_EMAIL)
except ValidationError as exc:
    raise ImproperlyConfigured(f"PORTAL_CONTACT_EMAIL must be an email address, got {PORTAL_CONTACT_EMAIL!r}") from exc
