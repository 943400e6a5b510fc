"""A local SMTP sink for the demo and the tests: every message received becomes one .eml file.

Django-free on purpose: the `mail_sink` management command runs it for the demo, the tests
start it on a free port. Only loopback is served; it relays nothing. The staff page reads the
folder with recording/sunk_mails.py, which knows the file names written here.
"""

import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlFolderHandler:
    """aiosmtpd handler writing each message to `folder` atomically (temp file, then rename), so
    a reader never sees half a message."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.eml"  # recording.sunk_mails.EML_NAME
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
