"""Production: everything must be set explicitly; `manage.py check --deploy` is clean."""

from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env, env_bool, env_int

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
if SECRET_KEY.startswith("dev-insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters")
if REDIS_URL and not (urlsplit(REDIS_URL).password or parse_qs(urlsplit(REDIS_URL).query).get("password")):  # noqa: F405
    # Redis holds the cache, the broker and the quota counters: whoever reaches it unauthenticated can
    # rewrite them. docker-compose.yml sets REDIS_PASSWORD; see docs/deployment.md.
    raise ImproperlyConfigured("REDIS_URL must carry a password (redis://:PASSWORD@host:6379/0) in production")
if not env.str("FIELD_ENCRYPTION_KEY", default=""):
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set (a Fernet key) in production")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
