"""Settings for bench/embed_bench.py: the development stack with DEBUG off and WhiteNoise's index built
once at start (as in production), plus a folder holding the same image as a static file."""

import os

from portal.settings.dev import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
WHITENOISE_AUTOREFRESH = False
STATICFILES_DIRS = [*STATICFILES_DIRS, ("bench", os.environ["EMBED_BENCH_STATIC"])]  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": [], "level": "WARNING"}}
