"""The recorder's cutting rule (ffmpeg's -segment_atclocktime) on synthetic timestamps: where files start,
whatever the machine's load. The real-ffmpeg recording is in test_segmenter.py."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.segmenter import Packet, clock_cuts

EPOCH = 1_750_000_020.0  # a Unix time on a whole minute, so every grid has a boundary on it


def steady(*, start: float, seconds: float, fps: int, gop: float, lag: float = 0.0) -> list[Packet]:
    """A camera sending `fps` frames a second with a keyframe every `gop` seconds, handled `lag` late."""
    per_gop = round(gop * fps)
    return [Packet(at=start + lag + i / fps, keyframe=i % per_gop == 0) for i in range(int(seconds * fps))]


def boundaries(packets: list[Packet], segment_time: int) -> list[float]:
    """The grid boundaries passed between the first packet and the last keyframe."""
    first, last = packets[0].at, max(p.at for p in packets if p.keyframe)
    k = math.floor(first / segment_time) + 1
    return [b * segment_time for b in range(k, math.floor(last / segment_time) + 1)]


def expected_cuts(packets: list[Packet], segment_time: int) -> list[int]:
    """The rule in terms of time: a packet handled in a later grid slot than the one before it means a
    boundary passed; the next keyframe (that packet or later) starts the new file. Valid while no two
    packets are a whole interval or more apart (see the pause test below)."""

    def slot(at: float) -> float:
        return (at - at % segment_time) / segment_time  # exact, and consistent with ffmpeg's modulo

    cuts, pending = [], False
    for i, packet in enumerate(packets):
        if i and slot(packet.at) > slot(packets[i - 1].at):
            pending = True
        if pending and packet.keyframe:
            cuts.append(i)
            pending = False
    return cuts


PHASES = [p / 10 for p in range(0, 50, 3)]  # where in the 5 s grid the camera happened to start


@pytest.mark.parametrize("segment_time", [5, 60])
@pytest.mark.parametrize(("fps", "gop"), [(10, 2.0), (25, 1.0), (30, 4.0), (1, 1.0), (5, 0.2)])
@pytest.mark.parametrize("lag", [0.0, 0.35, 3.0])
def test_with_video_flowing_evenly_every_boundary_gets_one_file_less_than_a_gop_after_it(segment_time, fps, gop, lag):
    for phase in PHASES:
        packets = steady(start=EPOCH + phase, seconds=3 * segment_time + 7, fps=fps, gop=gop, lag=lag)
        cuts = clock_cuts(packets, segment_time)
        grid = boundaries(packets, segment_time)
        assert len(cuts) == len(grid), f"one file per boundary, none between (phase {phase})"
        for cut, boundary in zip(cuts, grid, strict=True):
            assert packets[cut].keyframe
            assert boundary <= packets[cut].at < boundary + gop  # a constant lag only shifts the phase
            assert math.floor(packets[cut].at) - boundary <= gop  # the file name, to the second
            # The first keyframe handled after the boundary: none earlier at or after it.
            assert not [p for p in packets[:cut] if p.keyframe and p.at >= boundary]


@pytest.mark.parametrize("pause_at", [-1.5, -0.5, -0.05, 0.0, 0.5])
@pytest.mark.parametrize("pause", [0.5, 2.0, 3.9])
def test_a_pause_in_the_video_around_a_boundary_makes_the_file_start_later_by_at_most_the_pause(pause_at, pause):
    """Nothing handled for `pause` seconds from `pause_at` (relative to the boundary), then the backlog at
    once: a loaded recorder, or a camera whose packets were held up on the way."""
    boundary, gop = EPOCH + 60, 2.0
    packets = []
    for packet in steady(start=EPOCH + 50.05, seconds=20, fps=10, gop=gop):
        held = boundary + pause_at <= packet.at < boundary + pause_at + pause
        packets.append(Packet(at=boundary + pause_at + pause if held else packet.at, keyframe=packet.keyframe))
    [cut] = clock_cuts(packets, 60)
    assert boundary <= packets[cut].at < boundary + gop + pause
    assert cut == expected_cuts(packets, 60)[0]


def test_a_pause_of_a_whole_interval_or_more_makes_one_cut_or_none():
    """ffmpeg compares positions in the grid, not times: from 1.0 s into one interval to 1.5 s into the
    next it sees no boundary and the file goes on; from 4.0 s to 0.5 s it cuts once for two boundaries."""

    def with_gap(position_before: float, position_after: float, intervals: int) -> list[int]:
        before = [Packet(at=EPOCH + position_before - 0.2, keyframe=True), Packet(EPOCH + position_before, False)]
        after_at = EPOCH + intervals * 5 + position_after
        after = [Packet(at=after_at, keyframe=True), Packet(at=after_at + 0.1, keyframe=False)]
        return clock_cuts(before + after, 5)

    assert with_gap(1.0, 1.5, intervals=1) == []
    assert with_gap(4.0, 0.5, intervals=2) == [2]
    assert with_gap(4.0, 0.5, intervals=1) == [2]


def test_the_first_packet_and_frames_between_keyframes_never_start_a_file():
    on_the_boundary = [Packet(at=EPOCH, keyframe=True), Packet(at=EPOCH + 0.1, keyframe=False)]
    assert clock_cuts(on_the_boundary, 5) == []
    no_keyframe_after = [Packet(at=EPOCH + 4.9, keyframe=True)] + [
        Packet(at=EPOCH + 5 + i / 10, keyframe=False) for i in range(20)
    ]
    assert clock_cuts(no_keyframe_after, 5) == [], "the cut waits for a keyframe"
    assert clock_cuts([*no_keyframe_after, Packet(at=EPOCH + 7.0, keyframe=True)], 5) == [21]


def test_a_packet_exactly_on_the_boundary_is_after_it():
    packets = [Packet(at=EPOCH + 4.9, keyframe=True), Packet(at=EPOCH + 5.0, keyframe=True)]
    assert clock_cuts(packets, 5) == [1]


@settings(deadline=None, max_examples=300, database=None)  # no deadline: this checks the rule, not the speed
@given(
    phase=st.floats(0, 60, allow_nan=False),
    segment_time=st.sampled_from([2, 5, 60]),
    steps=st.lists(st.tuples(st.floats(0, 0.99, allow_nan=False), st.booleans()), max_size=300),
)
def test_any_delivery_cuts_at_the_first_keyframe_after_each_slot_change(phase, segment_time, steps):
    """Random gaps (bursts of 0 s included, each under a whole interval) and keyframes anywhere."""
    packets, at = [], EPOCH + phase
    for gap, keyframe in steps:
        at += gap * segment_time
        packets.append(Packet(at=at, keyframe=keyframe))
    cuts = clock_cuts(packets, segment_time)
    assert cuts == expected_cuts(packets, segment_time)
    # Every file spans a boundary: it starts in a later grid slot than the file before it.
    starts = [0, *cuts] if packets else []
    slots = [(packets[i].at - packets[i].at % segment_time) / segment_time for i in starts]
    assert slots == sorted(set(slots))
