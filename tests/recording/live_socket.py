"""Helpers for the live view's WebSocket tests: a socket on portal.asgi's application, with an origin
of this site and optionally a logged-in session, driven from sync tests (channels' communicator)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import connections

from tests.waiting import patience

ORIGIN = (b"origin", b"http://localhost")


def socket_path(camera_id: int, token: str | None) -> str:
    return f"/ws/live/{camera_id}/" + (f"?token={token}" if token is not None else "")


def open_socket(path: str, *, cookie: str = "", client: tuple[str, int] = ("127.0.0.1", 50000), origin=ORIGIN):
    from portal.asgi import application

    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["client"] = client
    return communicator


@dataclass
class Received:
    texts: list[dict]
    binaries: list[bytes]
    close_code: int | None
    accepted: bool = True


async def receive_until(
    communicator, predicate: Callable[[Received], bool], *, timeout: float = 10, accepted: bool = True
) -> Received:
    """Collect what the server sends until `predicate` holds or the socket closes (then `close_code`)."""
    got = Received([], [], None)
    if not accepted:
        connected, code = await communicator.connect(timeout=patience(timeout))
        if not connected:
            got.close_code, got.accepted = code, False
            return got
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience(timeout)
    while not predicate(got):
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"the socket did not get there in time: {got.texts}, {len(got.binaries)} binaries")
        output = await communicator.receive_output(timeout=left)
        if output["type"] == "websocket.close":
            got.close_code = output.get("code", 1000)
            return got
        if output.get("text") is not None:
            got.texts.append(json.loads(output["text"]))
        elif output.get("bytes") is not None:
            got.binaries.append(output["bytes"])
    return got


def has_state(state: str) -> Callable[[Received], bool]:
    return lambda got: any(m.get("type") == "status" and m.get("state") == state for m in got.texts)


def run(coroutine_function: Callable[[], Awaitable]):
    """Run an async test body from a sync (pytest-django) test.

    Once a browser test has run in this process, Playwright's sync API (the session's browser) keeps its
    event loop set as running in the main thread, where async_to_sync refuses to start: the body then
    runs in a thread of its own (every caller's test is transactional, so that thread's database
    connection sees the test's rows)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(coroutine_function)()

    def in_thread():
        try:
            return async_to_sync(coroutine_function)()
        finally:
            connections.close_all()  # this thread's own, before it ends

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(in_thread).result()
