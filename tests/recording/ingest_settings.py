"""Settings for `manage.py run_ingest` processes started by the fault tests: the test settings with short
segments, leases and timeouts (the paths come from the environment, as in production)."""

from portal.settings.test import *  # noqa: F403

RECORDING_LEASE_SECONDS = 4
RECORDING_TICK_SECONDS = 1
RECORDING_STALL_SECONDS = 5
RECORDING_PRE_ROLL_SECONDS = 5
RECORDING_POST_ROLL_SECONDS = 2
