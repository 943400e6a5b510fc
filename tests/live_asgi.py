"""An ASGI live server for browser tests: daphne serving portal.asgi (pages, static files and the live
view's WebSocket) on a free loopback port.

It runs in a thread of the test process, like pytest-django's `live_server`, so it uses the test
database and sees the test's settings overrides (`settings` fixture) and its in-process recorders
(tests/recording/media.py `Running`). Twisted's reactor runs once per process: the server starts with
the first test that asks and serves the rest of the session (each xdist worker has its own).

    def test_something(page, live_asgi):
        page.goto(live_asgi.url + "/...")      # live_asgi.ws_url for a socket
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass

import pytest

from tests.waiting import wait_for


@dataclass
class AsgiServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"


_server: AsgiServer | None = None
_lock = threading.Lock()


def _application():
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from portal.asgi import django_application, websocket_application

    # Static files as `runserver` and pytest-django's live_server serve them.
    return ProtocolTypeRouter(
        {"http": ASGIStaticFilesHandler(django_application), "websocket": websocket_application()}
    )


def asgi_server() -> AsgiServer:
    """The process's daphne, started on first use."""
    global _server
    with _lock:
        if _server is not None:
            return _server
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import reactor

        server = Server(
            application=_application(),
            endpoints=build_endpoint_description_strings(host="127.0.0.1", port=0),
            signal_handlers=False,
            # A test page's socket may sit idle; the default cuts it after 24 h anyway.
            application_close_timeout=5,
        )
        failed: list[BaseException] = []

        def serve() -> None:
            try:
                server.run()
            except BaseException as error:  # reported to the test that waits
                failed.append(error)

        thread = threading.Thread(target=serve, name="daphne-live-asgi", daemon=True)
        thread.start()
        wait_for(lambda: server.listening_addresses or failed, timeout=20, interval=0.05)
        if failed or not server.listening_addresses:
            raise RuntimeError(f"daphne did not start: {failed}")
        host, port = server.listening_addresses[0][:2]
        _server = AsgiServer(host=host, port=int(port))
        atexit.register(_stop, reactor)
        return _server


def _stop(reactor) -> None:
    import logging

    logging.getLogger("daphne").disabled = True  # the streams pytest captured are closed by now
    reactor.callFromThread(reactor.stop)


@pytest.fixture
def live_asgi(transactional_db) -> AsgiServer:
    """The ASGI live server (module docstring); the test's data is committed so it can see it."""
    return asgi_server()
