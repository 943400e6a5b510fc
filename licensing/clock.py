"""The one clock every licensing decision reads: expiries, reminders, temporary passwords, proxy logins.

In production it is the real clock, `timezone.now()`. The demo and the tests move time (a license
expiring, a reminder falling due) with a controllable clock, which is active only when the
`PORTAL_CONTROLLABLE_CLOCK` setting names it: the dev and test settings set it to
`demo.clock.fake_now` (demo/clock.py); the base and production settings leave it None, so nothing
but the real clock is ever read there.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


def now() -> datetime:
    source = getattr(settings, "PORTAL_CONTROLLABLE_CLOCK", None)
    if source:
        override = import_string(source)()  # named by the settings, like EMAIL_BACKEND
        if override is not None:
            return override
    return timezone.now()
