"""The wall clock a simulated camera burns into its picture (demo/sim_clock.py), read back from frames
decoded off its RTSP stream (tests/live_clock.py), as the latency tests and bench/live_bench.py do."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from demo import sim_clock
from demo.rtsp_sim import SimCamera
from tests.live_clock import read_clock
from tests.waiting import patience


@pytest.mark.parametrize("ms", [0, 1, 1796206929739, 2**42 - 1])
def test_the_block_code_round_trips_and_a_flipped_block_is_noticed(ms):
    cells = sim_clock.cell_values(ms)
    assert len(cells) == sim_clock.CELLS
    assert sim_clock.decode_cells(cells) == ms
    flipped = list(cells)
    flipped[sim_clock.DATA_START + 20] ^= 1
    assert sim_clock.decode_cells(flipped) is None
    assert sim_clock.decode_cells([0, *cells[1:]]) is None  # no white marker: no clock in the picture


def test_a_picture_without_the_clock_reads_as_none():
    assert read_clock(np.full((576, 768), 128, np.uint8)) is None
    assert read_clock(np.zeros((10, 10, 3), np.uint8)) is None


def test_a_clock_mount_shows_the_wall_clock_of_each_frame(vtest, tmp_path):
    sim = SimCamera(mounts={"cam1": vtest}, clock=["cam1"], log_path=tmp_path / "sim.log").start()
    try:
        asked = time.time()
        raw = subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", sim.url("cam1"),
             "-frames:v", "15", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
            capture_output=True, check=True, timeout=patience(30),
        ).stdout  # fmt: skip
        done = time.time()
    finally:
        sim.stop()
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 576, 768)
    shown = [read_clock(frame) for frame in frames]
    assert None not in shown, shown
    # The camera's clock is this machine's: every frame was made while ffmpeg read the stream (none
    # none buffered from long before it asked), 10 frames a second apart.
    assert all(asked - 5 <= ms / 1000 <= done for ms in shown), (asked, shown, done)
    steps = np.diff(shown)
    # The clock never runs backwards. A frame is stamped when the filter sees it (RTCTIME, in ms), so
    # after a stall of the machine the frames that queued meanwhile are stamped in the same millisecond
    # (a step of 0 after one of 277 ms was seen under load): an equal stamp is allowed, but most frames
    # still step by about a frame's time.
    assert (steps >= 0).all(), shown
    assert np.count_nonzero(steps) >= len(steps) * 2 // 3, steps
    assert 80 <= np.median(steps) <= 120, steps
