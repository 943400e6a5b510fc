"""The wall clock burned into a simulated camera's picture, to measure live latency honestly.

A camera mount with the clock is re-encoded (the others are stream copies): each frame is stamped with
the wall clock at the moment ffmpeg's filter sees it (``setpts=RTCTIME``, i.e. when the "sensor"
delivers it, before encoding, sending, recording, packaging and playing), written twice:

- as text, ``HH:MM:SS.mmm`` (local time, ffmpeg ``drawtext``), for people and screenshots;
- as a row of ``CELLS`` black or white blocks across the top ``STRIP_HEIGHT`` pixels, for programs
  (no OCR): cell 0 white and cell 1 black (the reader's levels, and the proof that the row is there),
  then the epoch milliseconds in ``BITS`` bits (most significant first, white = 1), then
  ``CHECK_BITS`` bits of ``ms % CHECK_MODULUS`` so that a block that compression smeared is noticed.

Blocks of 16 × 32 pixels (a 768-wide picture) survive H.264 and H.265 at any sane bitrate.
Readers: tests/live_clock.py (a decoded frame in Python, and the same in JavaScript for a page's
<video>). Standard library only: demo/sim_camera.py runs under Debian's python3.
"""

from __future__ import annotations

CELLS = 48
BITS = 42  # 2**42 ms is 139 years after 1970
CHECK_BITS = 4
CHECK_MODULUS = 13
STRIP_HEIGHT = 32
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"  # Debian's fonts-dejavu-core
DATA_START = 2  # cells 0 and 1 are the white and black markers
CHECK_START = DATA_START + BITS
assert CHECK_START + CHECK_BITS == CELLS


def check_value(ms: int) -> int:
    return ms % CHECK_MODULUS


def cell_values(ms: int) -> list[int]:
    """What each cell shows (1 white, 0 black) for the epoch milliseconds ``ms``."""
    data = [(ms >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    check = [(check_value(ms) >> (CHECK_BITS - 1 - i)) & 1 for i in range(CHECK_BITS)]
    return [1, 0, *data, *check]


def decode_cells(values: list[int]) -> int | None:
    """The epoch milliseconds of a row of cells read as 0/1, or None when the markers or check disagree."""
    if len(values) != CELLS or values[0] != 1 or values[1] != 0:
        return None
    ms = 0
    for bit in values[DATA_START:CHECK_START]:
        ms = (ms << 1) | bit
    check = 0
    for bit in values[CHECK_START:]:
        check = (check << 1) | bit
    return ms if check == check_value(ms) else None


def _strip_expression() -> str:
    # geq, per pixel of the strip: ld(0) the frame's epoch ms (its pts is RTCTIME in ms), ld(1) the cell.
    last = CELLS - 1
    return (
        "st(0,floor(T*1000+0.5));"
        f"st(1,floor(X*{CELLS}/W));"
        "255*if(lt(ld(1),1),1,if(lt(ld(1),2),0,"
        f"if(lt(ld(1),{CHECK_START}),mod(floor(ld(0)/pow(2,{CHECK_START - 1}-ld(1))),2),"
        f"mod(floor(mod(ld(0),{CHECK_MODULUS})/pow(2,{last}-ld(1))),2))))"
    )


def filtergraph(font: str = FONT) -> str:
    """An ffmpeg -filter_complex from input 0's video to ``[clocked]``: the picture with the clock on it,
    its timestamps back to starting at 0 for the encoder."""
    text = r"%{pts\:localtime\:0\:%H\\\:%M\\\:%S}.%{eif\:mod(t*1000\,1000)\:d\:3}"
    return (
        # The frame's pts becomes the wall clock now, in ms (RTCTIME is microseconds since 1970).
        "[0:v]settb=1/1000,setpts=RTCTIME/1000,split[picture][row];"
        f"[row]crop=iw:{STRIP_HEIGHT}:0:0,geq=lum='{_strip_expression()}':cb=128:cr=128[strip];"
        "[picture][strip]overlay=0:0,"
        f"drawtext=fontfile={font}:fontsize=32:fontcolor=white:box=1:boxcolor=black@0.8"
        f":x=8:y={STRIP_HEIGHT + 8}:text='{text}',"
        "setpts=PTS-STARTPTS[clocked]"
    )
