"""The session's browser and the async tests share a worker (tests/conftest.py,
no_browser_loop_outside_browser_tests). pytest runs a module's tests in order and xdist keeps a
module in one worker, so the second test here always runs after a browser test."""

import asyncio

from asgiref.sync import async_to_sync


def test_a_browser_test_runs_beside_playwrights_event_loop(browser):
    page = browser.new_page()
    try:
        page.set_content("<p>ready</p>")
        assert page.text_content("p") == "ready"
    finally:
        page.close()
    assert asyncio._get_running_loop() is not None  # what the next test must not see


def test_a_later_test_can_start_its_own_event_loop():
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert asyncio._get_running_loop() is None
    assert asyncio.run(answer()) == 42
    assert async_to_sync(answer)() == 42


def test_the_browser_still_answers_after_that(browser):
    page = browser.new_page()
    try:
        page.set_content("<p>still here</p>")
        assert page.text_content("p") == "still here"
    finally:
        page.close()
