"""This app's settings with their defaults, read lazily so tests can override them."""

from pathlib import Path

from django.conf import settings


def mail_sink_dir() -> Path:
    """Where the demo SMTP sink stores received mails (and the staff page reads them)."""
    return Path(getattr(settings, "RECORDING_MAIL_SINK_DIR", settings.BASE_DIR / "var" / "mail-sink"))
