"""A camera's password never reaches logs, IngestLease.message or an exception's text (issue 13): ffmpeg
prints its input URL in full, and every path that keeps that text goes through workers/redaction.py."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest

from demo.rtsp_sim import free_tcp_port
from recording.ingest import CameraIngest
from recording.models import IngestLease
from workers.frames import FrameSource, FrameSourceError, SnapshotError, grab_snapshot
from workers.redaction import redact, url_secrets
from workers.segmenter import RecorderState, Segmenter, StateChange

PASSWORD = "S3cret-pw"  # noqa: S105


def _dead_url(password: str = PASSWORD) -> str:
    return f"rtsp://admin:{password}@127.0.0.1:{free_tcp_port()}/cam1"


def test_redact_hides_url_credentials_and_known_secrets():
    text = "rtsp://admin:S3cret@10.0.0.5:554/s: Connection refused; retrying rtsps://u:p%40ss@cam/x"
    assert redact(text) == "rtsp://admin:***@10.0.0.5:554/s: Connection refused; retrying rtsps://u:***@cam/x"
    assert redact("auth failed for password p@ss!", ["p@ss!"]) == "auth failed for password ***"
    assert redact("sent p%40ss%21", url_secrets("rtsp://u:p%40ss%21@cam/")) == "sent ***"
    assert redact("rtsp://cam.example/s") == "rtsp://cam.example/s"


def test_the_password_is_not_in_a_frame_source_or_snapshot_error():
    url = _dead_url()
    with pytest.raises(FrameSourceError) as frames:
        list(FrameSource(url, io_timeout=2))
    with pytest.raises(SnapshotError) as snapshot:
        grab_snapshot(url, timeout=5)
    for exc in (frames.value, snapshot.value):
        assert PASSWORD not in str(exc)
        assert "admin:***@" in str(exc) or "127.0.0.1" in str(exc)  # still says what failed


def test_the_password_is_not_in_the_recorders_outage_reason(tmp_path):
    url = _dead_url()
    segmenter = Segmenter(url=url, out_dir=tmp_path, on_segment=lambda s: None, connect_timeout=3, io_timeout=2)
    reason = segmenter._run_once(threading.Event())
    assert reason and PASSWORD not in reason


@pytest.mark.django_db
def test_the_password_is_not_stored_in_the_lease_message_nor_logged(alpha, tmp_path, caplog):
    url = _dead_url()
    IngestLease.objects.create(camera=alpha.camera, operator=alpha.operator, worker_id="w1")
    ingest = CameraIngest(camera_id=alpha.camera.pk, url=url, spool=tmp_path, worker_id="w1")
    stderr = f"[rtsp @ 0x55] {url}: Connection refused"  # what ffmpeg prints, before redaction
    with caplog.at_level(logging.DEBUG):
        ingest.on_state(StateChange(state=RecorderState.OUTAGE, at=datetime.now(UTC), message=stderr))
    message = IngestLease.objects.get(camera=alpha.camera).message
    assert "Connection refused" in message and PASSWORD not in message
    assert caplog.records and PASSWORD not in caplog.text
