"""A small JSON-over-HTTP helper on the standard library (no extra dependency).

Transport failures become ProviderUnavailable; callers map HTTP statuses to the other errors,
because what a 401 means differs (a revoked token while polling, a refused login while linking).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message

from .base import MalformedResponse, ProviderUnavailable

# A provider's answer is read up to this many bytes; a longer one is refused before parsing
# (a page of 1,000 TransactionHead rows is well under 2 MiB).
MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    def looks_like_html(self) -> bool:
        kind = (self.headers.get("Content-Type") if self.headers else "") or ""
        return "html" in kind.lower() or self.body.lstrip()[:1] == b"<"

    def json(self):
        if self.looks_like_html():
            # A maintenance page, a login page or a proxy's error page instead of the API's JSON.
            raise MalformedResponse(f"the provider answered an HTML page instead of JSON (HTTP {self.status})")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedResponse(f"not JSON (HTTP {self.status})") from exc

    def retry_after(self) -> float | None:
        raw = self.headers.get("Retry-After") if self.headers else None
        try:
            return max(0.0, float(raw)) if raw is not None else None
        except ValueError:
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # An API answering with a redirect is not following its documentation; never follow it
    # (it could send the bearer token elsewhere).
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _bounded(stream) -> bytes:
    body = stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise MalformedResponse(f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    return body


def call(
    method: str, url: str, *, headers: dict[str, str] | None = None, data: bytes | None = None, timeout: float
) -> Response:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"refusing a non-HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, _bounded(answer))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers, _bounded(exc) if exc.fp else b"")
    except TimeoutError as exc:
        raise ProviderUnavailable(f"timed out after {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise ProviderUnavailable(f"timed out after {timeout:g} s") from exc
        raise ProviderUnavailable(f"cannot connect: {exc.reason}") from exc
    except (ConnectionError, OSError) as exc:
        raise ProviderUnavailable(f"connection failed: {exc}") from exc
