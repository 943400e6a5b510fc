"""Recordings leave the machine: with MEDIA_STORAGE=s3 (portal/settings/storage.py) the segments go to
a real S3-compatible server on loopback (moto's server mode), are listed, streamed through the
authorized media view (with Range), and deleted from the bucket by the quota."""

from __future__ import annotations

import importlib.util
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer

from demo.rtsp_sim import free_tcp_port
from devices.services import device_delete
from recording import media_services
from recording.media_selectors import segment_list
from recording.models import CameraRecording, RecordingSegment
from tests.conftest import client_for
from tests.recording.media import VTEST
from workers.segmenter import Segment

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "recordings-test"
STORAGE_SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings" / "storage.py"


@pytest.fixture
def s3(monkeypatch, settings):
    """moto on 127.0.0.1 and STORAGES computed by portal/settings/storage.py from the S3 variables."""
    port = free_tcp_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    spec = importlib.util.spec_from_file_location("portal.settings._storage_s3_probe", STORAGE_SETTINGS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = module.STORAGES  # Django resets default_storage on this change
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="t"
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def _keys(client) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _spool_segments(folder: Path, count: int) -> list[Path]:
    """`count` 2 s fragmented MP4s cut from the footage by stream copy, as the recorder spools them."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(VTEST), "-t", str(2 * count), "-map", "0:v:0",
            "-c", "copy", "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", "-segment_format", "mp4",
            "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof",
            str(folder / "seg%03d.mp4"),
        ],
        check=True,
    )  # fmt: skip
    return sorted(folder.glob("seg*.mp4"))[:count]


def test_segments_go_to_s3_are_listed_served_and_deleted_by_the_quota(alpha, s3, tmp_path, settings):
    settings.RECORDING_SEGMENT_SECONDS = 2
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    rows = []
    for i, path in enumerate(_spool_segments(tmp_path, 3)):
        segment = Segment(path=path, start=start + timedelta(seconds=2 * i), duration=2.0, size=path.stat().st_size)
        rows.append(media_services.segment_store(camera=alpha.camera, segment=segment))
        assert not path.exists()  # the spool file goes once the object is stored
    # Stored: one object per indexed segment, under the camera's prefix, and nothing on local disk.
    assert _keys(s3) == {r.storage_name for r in rows}
    assert all(r.storage_name.startswith(f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/continuous/") for r in rows)
    assert not Path(settings.MEDIA_ROOT, rows[0].storage_name).exists()
    # Listed: the player's day listing finds them.
    listed = segment_list(camera=alpha.camera, start=start, end=start + timedelta(minutes=1))
    assert [r.pk for r in listed] == [r.pk for r in rows]

    # Served through the authorized view, whole and by Range, bytes equal to the object in the bucket.
    url = reverse("recording:segment_file", kwargs={"segment_id": rows[0].pk})
    body = s3.get_object(Bucket=BUCKET, Key=rows[0].storage_name)["Body"].read()
    response = client_for(alpha.viewer).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == body
    ranged = client_for(alpha.viewer).get(url, HTTP_RANGE="bytes=0-99")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == body[:100]
    assert ranged["Content-Range"] == f"bytes 0-99/{len(body)}"

    # The quota deletes the oldest objects from the bucket and their rows; the newest stays.
    CameraRecording.objects.update_or_create(
        camera=alpha.camera, defaults={"operator_id": alpha.operator.pk, "quota_bytes": rows[-1].size + 1}
    )
    assert media_services.quota_enforce(camera=alpha.camera) == 2
    assert _keys(s3) == {rows[-1].storage_name}
    assert list(RecordingSegment.objects.filter(camera=alpha.camera)) == [rows[-1]]


def test_deleting_a_camera_deletes_its_objects_and_nothing_else(alpha, bravo, s3, django_capture_on_commit_callbacks):
    ours = [f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/continuous/2026/11/20/0900.mp4"]
    ours.append(f"pos/{alpha.operator.pk}/{alpha.camera.pk}/17.jpg")
    theirs = f"recordings/{bravo.operator.pk}/{bravo.camera.pk}/continuous/2026/11/20/0900.mp4"
    for key in [*ours, theirs]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    before = _keys(s3)
    with django_capture_on_commit_callbacks(execute=True):
        device_delete(user=alpha.admin, device=alpha.camera)
    assert _keys(s3) == before - set(ours)
    assert theirs in before - set(ours)
