"""Settings for bench/live_bench.py: bench/list_settings.py (the development stack with DEBUG off) with
a recorder that ticks every second, so a viewer's HLS starts within a second of the page asking."""

from bench.list_settings import *  # noqa: F403

RECORDING_TICK_SECONDS = 1
LIVE_SOCKETS_PER_CLIENT = 64  # the bench's 50 viewers are one user at one address
