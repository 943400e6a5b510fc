"""Settings for `manage.py run_ingest` processes started by the fault tests: the test settings with short
segments, leases and timeouts (the paths come from the environment, as in production)."""

from portal.settings.test import *  # noqa: F403

RECORDING_LEASE_SECONDS = 4
RECORDING_TICK_SECONDS = 1
# Not 5 s: a loaded machine's ffmpeg that writes nothing that long would restart the recording, and the gap
# before the motion would cut the dead worker's pre-roll out of the clip the test asks for.
RECORDING_STALL_SECONDS = 30
RECORDING_PRE_ROLL_SECONDS = 5
RECORDING_POST_ROLL_SECONDS = 2
