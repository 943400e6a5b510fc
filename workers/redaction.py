"""The one redaction of secrets in text that goes to logs, the database or a page.

ffmpeg and ffprobe print the input URL with its password ("rtsp://admin:S3cret@…: Connection refused"),
ONVIF errors can echo an address with credentials, and a camera's password may appear on its own.
Every such text passes ``redact`` before it is logged, stored (IngestLease.message) or raised in an
exception: credentials in any URL become ``user:***@``, and each known secret (the camera's passwords,
as typed and percent-encoded) becomes ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
# scheme://userinfo@ — the userinfo runs to the last '@' before the host (a raw '@' in a password).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/?#]*)@")


def _mask_userinfo(match: re.Match) -> str:
    user, colon, _password = match.group("userinfo").partition(":")
    return f"{match.group('scheme')}{user}:{MASK}@" if colon else match.group(0)


def url_secrets(url: str) -> tuple[str, ...]:
    """The password a URL carries, as written and decoded (to redact either form)."""
    try:
        password = urlsplit(str(url)).password
    except ValueError:
        return ()
    return (password, unquote(password)) if password else ()


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without URL credentials and without any of ``secrets`` (typed or percent-encoded)."""
    text = _URL_CREDENTIALS.sub(_mask_userinfo, str(text))
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= {secret, quote(secret, safe=""), quote(secret), unquote(secret)}
    for form in sorted((f for f in forms if f and f != MASK), key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
