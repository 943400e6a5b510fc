"""`manage.py license_clock`: move the demo's licensing clock (demo/clock.py)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from demo import clock
from licensing.services import licenses_process_expiries, reminders_send


class Command(BaseCommand):
    help = (
        "Demo clock for licensing: show it, set it, move it forward, or reset it to real time. "
        "Runs the expiry and reminder jobs afterwards (unless --no-run), as beat would within a minute."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--set", dest="at", help="ISO datetime, e.g. 2026-03-01T09:00+09:00")
        group.add_argument("--advance-days", type=float)
        group.add_argument("--reset", action="store_true")
        parser.add_argument("--no-run", action="store_true")

    def handle(self, *args, at=None, advance_days=None, reset=False, no_run=False, **options):
        if getattr(settings, "PORTAL_CONTROLLABLE_CLOCK", None) != "demo.clock.fake_now":
            raise CommandError("PORTAL_CONTROLLABLE_CLOCK is not demo.clock.fake_now: licensing reads the real clock")
        if reset:
            clock.set_fake_now(None)
        elif at:
            parsed = parse_datetime(at)
            if parsed is None:
                raise CommandError(f"Not a datetime: {at!r}")
            clock.set_fake_now(parsed)
        elif advance_days is not None:
            clock.advance(timedelta(days=advance_days))
        self.stdout.write(f"Licensing clock: {clock.now().isoformat()} ({'fake' if clock.fake_now() else 'real'})")
        if not no_run and (reset or at or advance_days is not None):
            moved = licenses_process_expiries()
            mailed = reminders_send()
            self.stdout.write(f"Auto-assigned or re-bound {moved} licenses; sent {mailed} reminder mails.")
