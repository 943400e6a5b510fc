"""The HTTP plumbing shared by the fakes: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread.

`fail_next(fault, times)` queues faults answered before the real handler runs:
"401" (revoked token), "402" (subscription ended), "429" (rate limited, with Retry-After),
"500" / "503" (server error), "timeout" (answers only after `timeout_seconds`, longer than the
client waits), "malformed" / "html" (HTTP 200 with an HTML page instead of the documented JSON)
and "short" (the provider's own handler answers one row fewer than it counts: see the fakes).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

FAULTS = ("401", "402", "429", "500", "503", "timeout", "malformed", "html", "short")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode(), {"Content-Type": "application/json"})


def html_reply(status: int, html: str) -> Reply:
    return Reply(status, html.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Reply:
    return Reply(302, b"", {"Location": location})


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePOS/1"
    fake: FakeServer  # set on the subclass made per server

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        form = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        request = Request(self.command, split.path, dict(parse_qsl(split.query)), headers, body, form)
        reply = self.fake.dispatch(request)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the "timeout" fault): nothing to answer to

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        if self.fake.verbose:
            super().log_message(format, *args)


class FakeServer:
    """Start with `start()` (or as a context manager); `url` is its base URL."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        self.host, self.port, self.verbose = host, port, verbose
        self.timeout_seconds = 2.0
        self.lock = threading.RLock()
        self.faults: deque[str] = deque()
        self.requests: list[tuple[str, str]] = []
        self.short = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---------------------------------------------------------------- faults

    def fail_next(self, fault: str, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self.lock:
            self.faults.extend([fault] * times)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def faultable(self, request: Request) -> bool:
        """Which requests a queued fault applies to (the API, not the consent page)."""
        return True

    def _fault_reply(self, fault: str) -> Reply | None:
        if fault == "401":
            return json_reply(401, {"error": "invalid_token", "error_description": "The access token was revoked."})
        if fault == "402":
            return json_reply(402, {"errors": [{"object": {}, "messages": ["subscription expired"]}]})
        if fault == "429":
            return Reply(429, b'{"error": "rate_limited"}', {"Content-Type": "application/json", "Retry-After": "30"})
        if fault in ("500", "503"):
            return Reply(int(fault), b"<html><body>Internal Server Error</body></html>", {"Content-Type": "text/html"})
        if fault in ("malformed", "html"):
            return Reply(200, b"<!DOCTYPE html><html><body>maintenance</body></html>", {"Content-Type": "text/html"})
        if fault == "timeout":
            time.sleep(self.timeout_seconds)
        return None  # after the delay, the real answer (the client has gone by then)

    def dispatch(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append((request.method, request.path))
            fault = self.faults.popleft() if self.faults and self.faultable(request) else None
        if fault is not None and fault != "short":
            reply = self._fault_reply(fault)
            if reply is not None:
                return reply
        with self.lock:
            self.short = fault == "short"
            return self.handle(request)

    def handle(self, request: Request) -> Reply:  # pragma: no cover - overridden
        return json_reply(404, {"error": "not_found"})
