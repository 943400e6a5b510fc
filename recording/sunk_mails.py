"""The mails a local SMTP sink stored, one .eml file each (demo/mail_sink.py writes them): read for
the staff page that lists the demo's mails. Django-free; file names are checked, so no path tricks."""

import email
import email.message
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

# The names demo/mail_sink.py gives the files: received-at (UTC), then a random hex id.
EML_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{32}\.eml$")


@dataclass(frozen=True)
class SunkMail:
    name: str
    subject: str
    to: str
    sender: str
    received_at: datetime
    message: email.message.EmailMessage


def read_mail(path: Path) -> SunkMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    try:
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    received = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return SunkMail(
        name=path.name,
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or message["X-Sink-Rcpt-To"] or ""),
        sender=str(message["From"] or ""),
        received_at=sent or received,
        message=message,
    )


def list_mails(folder: Path) -> list[SunkMail]:
    """Received mails, newest first. Files not named by the sink are ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    paths = sorted(
        (p for p in folder.iterdir() if EML_NAME.match(p.name)),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
        reverse=True,
    )
    return [read_mail(p) for p in paths]


def find_mail(folder: Path, name: str) -> SunkMail | None:
    """One mail by its file name; None for a name the sink could not have made (no path tricks)."""
    if not EML_NAME.match(name):
        return None
    path = Path(folder) / name
    return read_mail(path) if path.is_file() else None
