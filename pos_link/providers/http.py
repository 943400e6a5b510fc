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


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    def json(self):
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


def call(
    method: str, url: str, *, headers: dict[str, str] | None = None, data: bytes | None = None, timeout: float
) -> Response:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"refusing a non-HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers, exc.read() if exc.fp else b"")
    except TimeoutError as exc:
        raise ProviderUnavailable(f"timed out after {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise ProviderUnavailable(f"timed out after {timeout:g} s") from exc
        raise ProviderUnavailable(f"cannot connect: {exc.reason}") from exc
    except (ConnectionError, OSError) as exc:
        raise ProviderUnavailable(f"connection failed: {exc}") from exc
