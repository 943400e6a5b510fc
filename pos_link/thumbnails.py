"""The camera image at a transaction's moment.

Recording (event clips, continuous segments, live snapshots) is being built in the recording app
and offers no frame lookup yet. `thumbnail_for` is the one place the dashboard and the API ask;
it returns None today and the pages show a placeholder. When recording can answer "the frame of
camera C at time T", plug it in here and nothing else changes.
"""

from __future__ import annotations

from datetime import datetime

from devices.models import Device


def thumbnail_for(camera: Device, at: datetime) -> str | None:
    """URL of the camera's image nearest to `at`, or None while no recording can provide one."""
    return None
