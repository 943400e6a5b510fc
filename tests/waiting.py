"""How tests wait: on the event itself, with deadlines that only guard against a hang.

A deadline reached is a failure, never a measurement, so it is generous: every one is multiplied by
TEST_TIMEOUT_FACTOR (default 3) so that a loaded machine or a slow CI runner passes where a quiet
laptop does. A passing test never waits for a deadline: it goes on as soon as the event happens.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _factor() -> float:
    raw = os.environ.get("TEST_TIMEOUT_FACTOR", "3")
    try:
        value = float(raw)
    except ValueError:
        raise RuntimeError(f"TEST_TIMEOUT_FACTOR must be a number ≥ 1, not {raw!r}") from None
    if not value >= 1:
        raise RuntimeError(f"TEST_TIMEOUT_FACTOR must be a number ≥ 1, not {raw!r}")
    return value


TIMEOUT_FACTOR = _factor()


def patience(seconds: float) -> float:
    """A deadline of `seconds` on a quiet machine, stretched for this one."""
    return seconds * TIMEOUT_FACTOR


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true (True) or `patience(timeout)` has passed (its last answer)."""
    deadline = time.monotonic() + patience(timeout)
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def returns_within(call: Callable[[], T], timeout: float) -> T:
    """`call()`'s result or exception; fails the test if it has not returned after `patience(timeout)`
    (it hangs). For code that promises to give up by itself: the guard is not how long it may take."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(patience(timeout))
    if thread.is_alive():
        raise AssertionError(f"{call!r} had not returned after {patience(timeout):.0f} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
