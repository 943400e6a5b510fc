"""Async test bodies run in any order beside the session's browser. Playwright's sync API runs its event
loop in the xdist worker's main thread, so after a browser test asyncio.run and async_to_sync refuse to
start there; `tests.recording.live_socket.run` then runs the body in a thread of its own. pytest runs a
module's tests in order and xdist keeps a module in one worker, so the second test here always runs
after a browser test."""

import asyncio

import pytest

from tests.recording.live_socket import run


async def answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_a_browser_test_leaves_playwrights_event_loop_running(browser):
    page = browser.new_page()
    try:
        page.set_content("<p>ready</p>")
        assert page.text_content("p") == "ready"
    finally:
        page.close()
    assert asyncio._get_running_loop() is not None  # what the next test meets


def test_a_later_async_body_runs_through_live_socket_run():
    if asyncio._get_running_loop() is not None:  # after the browser test above (not when run alone)
        coroutine = answer()
        with pytest.raises(RuntimeError):
            asyncio.run(coroutine)
        coroutine.close()
    assert run(answer) == 42
