"""Development and demo: embedded defaults, DEBUG on unless DEBUG=false."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The demo's own app (seed_demo, the simulators' arguments, mail_sink, license_clock) and its
# controllable licensing clock, moved with `manage.py license_clock`. Production has neither.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405
PORTAL_CONTROLLABLE_CLOCK = "demo.clock.fake_now"
