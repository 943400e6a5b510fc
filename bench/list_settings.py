"""Settings for bench/list_bench.py: the development stack with DEBUG off (no query log kept, no debug
pages), as in production."""

from portal.settings.dev import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
WHITENOISE_AUTOREFRESH = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": [], "level": "WARNING"}}
PORTAL_TERMS_VERSION = ""  # the bench's users measure their pages, not the terms-of-use consent page
# Production has no controllable licensing clock (dev's reads the cache, a Redis round trip, each time a
# page asks for today's date): the bench pays what production pays.
PORTAL_CONTROLLABLE_CLOCK = None
