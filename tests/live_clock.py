"""Reading the wall clock a simulated camera burns into its picture (demo/sim_clock.py).

- ``read_clock(frame)``: the epoch milliseconds shown in a decoded frame (numpy BGR or gray), for tests
  on recorded files and HLS segments.
- ``JS_READER``: the same reader for a page, as a JavaScript function expression. Called in the page with
  the <video> element, it draws the strip of the frame being shown onto a canvas (getImageData) and
  returns ``{shown: ms, now: Date.now()}``, or null when no readable clock is on screen (not playing yet,
  the video hidden while the page starts, a frame smeared by compression). ``now - shown`` is the
  glass-to-glass delay: the camera and the browser run on the same machine, so one clock.

Both sample the middle of each cell and threshold between the two marker cells' levels.
``page_ages(page, samples)`` collects delays from a Playwright page (one per newly shown frame).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from demo import sim_clock

JS_READER = f"""
(video) => {{
  const CELLS = {sim_clock.CELLS}, STRIP = {sim_clock.STRIP_HEIGHT}, BITS = {sim_clock.BITS};
  const CHECK_BITS = {sim_clock.CHECK_BITS}, MODULUS = {sim_clock.CHECK_MODULUS};
  if (!video || video.readyState < 2 || !video.videoWidth) return null;
  // Only what is on screen: the page hides the video until it plays at the live edge.
  if (video.hidden || getComputedStyle(video).visibility === "hidden" || !video.offsetParent) return null;
  const now = Date.now();
  const w = video.videoWidth;
  const canvas = window.__liveClockCanvas || (window.__liveClockCanvas = document.createElement("canvas"));
  canvas.width = w; canvas.height = STRIP;
  const ctx = canvas.getContext("2d", {{ willReadFrequently: true }});
  ctx.drawImage(video, 0, 0, w, STRIP, 0, 0, w, STRIP);
  const data = ctx.getImageData(0, 0, w, STRIP).data;
  const cell = w / CELLS;
  const levels = [];
  for (let c = 0; c < CELLS; c++) {{
    let sum = 0, n = 0;
    const x0 = Math.floor(c * cell + cell * 0.3), x1 = Math.ceil(c * cell + cell * 0.7);
    for (let y = Math.floor(STRIP * 0.3); y < Math.ceil(STRIP * 0.7); y++) {{
      for (let x = x0; x < x1; x++) {{
        const i = (y * w + x) * 4;
        sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]; n++;
      }}
    }}
    levels.push(sum / n);
  }}
  if (levels[0] - levels[1] < 80) return null;
  const mid = (levels[0] + levels[1]) / 2;
  let ms = 0;
  for (let i = 0; i < BITS; i++) ms = ms * 2 + (levels[2 + i] > mid ? 1 : 0);
  let check = 0;
  for (let i = 0; i < CHECK_BITS; i++) check = check * 2 + (levels[2 + BITS + i] > mid ? 1 : 0);
  if (check !== ms % MODULUS) return null;
  return {{ shown: ms, now: now }};
}}
"""


def read_clock(frame: np.ndarray) -> int | None:
    """The epoch milliseconds burned into ``frame`` (H × W × 3 BGR, or H × W gray), or None."""
    gray = frame if frame.ndim == 2 else frame[..., :3] @ np.array([0.114, 0.587, 0.299])
    height, width = gray.shape[:2]
    if height < sim_clock.STRIP_HEIGHT or width < sim_clock.CELLS:
        return None
    cell = width / sim_clock.CELLS
    y0, y1 = int(sim_clock.STRIP_HEIGHT * 0.3), int(np.ceil(sim_clock.STRIP_HEIGHT * 0.7))
    levels = []
    for c in range(sim_clock.CELLS):
        x0, x1 = int(c * cell + cell * 0.3), int(np.ceil(c * cell + cell * 0.7))
        levels.append(float(gray[y0:y1, x0:x1].mean()))
    if levels[0] - levels[1] < 80:
        return None
    middle = (levels[0] + levels[1]) / 2
    return sim_clock.decode_cells([1 if level > middle else 0 for level in levels])


def page_ages(page, *, samples: int, selector: str = "video", timeout: float = 60.0) -> list[float]:
    """Glass-to-glass delays (seconds) of ``samples`` distinct frames shown by the page's ``selector``
    video, read on the page (JS_READER) every ~50 ms. Raises TimeoutError with what it has so far."""
    ages: list[float] = []
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(ages) < samples:
        if time.monotonic() > deadline:
            raise TimeoutError(f"read {len(ages)} of {samples} clock frames: {ages}")
        reading = page.evaluate(f"() => ({JS_READER})(document.querySelector({selector!r}))")
        if reading and reading["shown"] not in seen:
            seen.add(reading["shown"])
            ages.append((reading["now"] - reading["shown"]) / 1000)
        page.wait_for_timeout(50)
    return ages


def summary(ages: list[float]) -> dict[str, float]:
    """Median and p95 (nearest rank) of delays in seconds."""
    ordered = sorted(ages)
    p95 = ordered[min(len(ordered) - 1, max(0, int(np.ceil(0.95 * len(ordered))) - 1))]
    return {"n": len(ordered), "median": statistics.median(ordered), "p95": p95, "max": ordered[-1]}
