"""Test settings: the same stack; DATABASE_URL / REDIS_URL decide PostgreSQL and Redis."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LANGUAGE_CODE = "en"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - live_server threads must not hold connections open
# The tests' cameras are simulators on loopback, and stored-only addresses come from TEST-NET-1
# (192.0.2.0/24, RFC 5737): allowed explicitly, as a deployment allows its cameras' private network.
CAMERA_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "192.0.2.0/24"]
