"""A local SMTP sink for the demo and the tests: every message received becomes one .eml file.

Django-free on purpose: the `mail_sink` management command runs it for the demo, the tests
start it on a free port. Only loopback is served; it relays nothing.
"""

import email
import email.policy
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from aiosmtpd.controller import Controller

EML_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{32}\.eml$")


class EmlFolderHandler:
    """aiosmtpd handler writing each message to `folder` atomically (temp file, then rename), so
    a reader never sees half a message."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.eml"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        # Keep the envelope recipients (Bcc included) where a reader of the demo can see them.
        header = f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        temp = self.folder / f".{name}.tmp"
        temp.write_bytes(header + content)
        os.replace(temp, self.folder / name)
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MailSink:
    """Start / stop an SMTP server on `host:port` storing mails in `folder`. Usable as a context manager."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port or free_port(host)
        self._controller = Controller(EmlFolderHandler(self.folder), hostname=host, port=self.port)

    def start(self) -> "MailSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


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
