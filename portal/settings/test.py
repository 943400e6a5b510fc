"""Test settings: the same stack; DATABASE_URL / REDIS_URL decide PostgreSQL and Redis."""

import os
import tempfile

# pytest-xdist: each worker process (gw0, gw1, ...) gets its own Redis database, so the caches, leases
# and counters of two tests running side by side never meet (pytest-django already gives each worker its
# own test database). Subprocesses a test starts (run_ingest) inherit the rewritten variable.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and os.environ.get("REDIS_URL") and "PORTAL_XDIST_REDIS_BASE" not in os.environ:
    from urllib.parse import urlsplit, urlunsplit

    _url = urlsplit(os.environ["REDIS_URL"])
    _base_db = int((_url.path or "/0").lstrip("/") or 0)
    os.environ["PORTAL_XDIST_REDIS_BASE"] = str(_base_db)
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{(_base_db - 1 - int(_xdist_worker[2:])) % 16}"))

from .base import *  # noqa: E402, F403

if _xdist_worker and CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["LOCATION"] += f"-{_xdist_worker}"  # noqa: F405

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
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # The embedded default's test database is a file, not pytest-django's shared-cache memory database:
    # there a second connection (a racing worker thread) gets "database table is locked" at once instead
    # of waiting for the write lock, and a subprocess (`run_ingest`) could not open it at all. One file
    # per test run, so two runs side by side do not delete each other's database.
    _test_db = os.path.join(tempfile.gettempdir(), f"portal-test-{os.getpid()}.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": _test_db}  # noqa: F405
# The tests' cameras are simulators on loopback, and stored-only addresses come from TEST-NET-1
# (192.0.2.0/24, RFC 5737): allowed explicitly, as a deployment allows its cameras' private network.
CAMERA_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "192.0.2.0/24"]
# The tests' world: seed_demo, the simulators and the mail sink (demo/), and the licensing clock the
# tests move with PORTAL_FAKE_NOW.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405
PORTAL_CONTROLLABLE_CLOCK = "demo.clock.fake_now"
# Terms-of-use consent is asked only by the tests about it (tests/tenants/test_terms.py set a version):
# every other test's users reach their pages directly.
PORTAL_TERMS_VERSION = ""
