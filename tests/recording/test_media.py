"""Recorded media without a live camera: segments of the real footage cut offline and stored through
the same service the ingest uses; then the player, files, clips, exports, the motion endpoint and
every media route's isolation and license rules."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from devices.media_tokens import camera_access_token
from recording import media_services
from recording.models import EventClip, Export, IngestLease, MotionEvent, RecordingCondition
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import VTEST, media_settings
from workers.segmenter import Segment, probe

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)  # 10:00 in Tokyo


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> list[Path]:
    """vtest cut into 2 s fragmented MP4 files by stream copy, as the recorder writes them."""
    out = tmp_path_factory.mktemp("cut")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(VTEST), "-t", "24", "-map", "0:v:0", "-c", "copy",
         "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", "-segment_format", "mp4",
         "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof", str(out / "s%03d.mp4")],
        check=True,
    )  # fmt: skip
    return sorted(out.glob("s*.mp4"))


@pytest.fixture
def recorded(alpha, settings, tmp_path, cut):
    """Alpha's camera with 12 stored 2 s segments from BASE on."""
    media_settings(settings, tmp_path)
    rows = []
    for i, src in enumerate(cut[:12]):
        spool = tmp_path / f"spool-{i}.mp4"
        spool.write_bytes(src.read_bytes())
        info = probe(spool)
        segment = Segment(path=spool, start=BASE + timedelta(seconds=2 * i), duration=info.duration, size=0)
        rows.append(media_services.segment_store(camera=alpha.camera, segment=segment))
    return rows


def motion(camera, at: datetime, seconds: float = 1.0) -> MotionEvent:
    [event] = [
        e
        for e in media_services.motion_record(
            trigger=camera, at=at, ended_at=at + timedelta(seconds=seconds), source="server"
        )
        if e.camera_id == camera.pk
    ]
    return event


def test_stored_segments_are_plain_playable_mp4_files_in_the_storage(alpha, recorded):
    assert len(recorded) == 12
    for row in recorded:
        path = default_storage.path(row.storage_name)
        assert probe(path).ok
        assert row.storage_name.startswith(f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/continuous/2026/03/02/")
        # faststart: the index (moov) comes before the media data, so browsers can seek at once
        head = Path(path).read_bytes()[:4096]
        assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_the_player_lists_the_days_files_and_marks_motion(alpha, recorded):
    motion(alpha.camera, BASE + timedelta(seconds=9))
    response = client_for(alpha.viewer).get(
        reverse("recording:player", kwargs={"camera_id": alpha.camera.pk}), {"day": "2026-03-02"}
    )
    assert response.status_code == 200
    data = response.context["player_data"]
    assert len(data["segments"]) == 12 and data["motions"] == [(BASE + timedelta(seconds=9)).timestamp()]
    assert b"player.js" in response.content and b"timeline" in response.content
    assert response.context["retention"].days is not None  # the figure at the current bitrate


def test_a_segment_is_served_with_byte_ranges_for_seeking(alpha, recorded):
    url = reverse("recording:segment_file", kwargs={"segment_id": recorded[0].pk})
    client = client_for(alpha.viewer)
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    body = b"".join(whole.streaming_content)
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and b"".join(part.streaming_content) == body[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{len(body)}"


def test_an_event_clip_has_at_least_five_seconds_of_pre_roll_and_the_post_roll(alpha, recorded, mailoutbox):
    at = BASE + timedelta(seconds=12)
    event = motion(alpha.camera, at, seconds=2)
    clip = media_services.clip_make(motion_id=event.pk)
    assert clip is not None
    assert clip.start <= at - timedelta(seconds=5)  # pre-roll of 5 s (the cut snaps back to a keyframe)
    assert clip.duration >= 5 + 2 + 2 - 0.2  # pre-roll + motion + post-roll
    assert probe(default_storage.path(clip.storage_name)).ok
    assert media_services.clip_make(motion_id=event.pk) is None  # one clip per event, never two
    assert EventClip.objects.filter(motion=event).count() == 1


def test_a_clip_waits_until_its_post_roll_is_recorded(alpha, recorded):
    last = recorded[-1]
    event = motion(alpha.camera, last.end - timedelta(seconds=0.5))  # post-roll not recorded yet
    assert media_services.clip_make(motion_id=event.pk, now=last.end) is None
    event.refresh_from_db()
    assert event.clip_state == MotionEvent.ClipState.PENDING


def test_exports_convert_a_span_with_progress_and_keep_only_ten(alpha, recorded, django_capture_on_commit_callbacks):
    client = client_for(alpha.viewer)
    local = timezone.localtime(BASE)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("recording:export_create"),
            {
                "camera": alpha.camera.pk,
                "day": local.date().isoformat(),
                "start_time": "10:00:03",
                "end_time": "10:00:15",
            },
        )
    assert response.status_code == 302
    export = Export.objects.get(user=alpha.viewer)
    waiting = client.get(reverse("recording:export_progress", kwargs={"export_id": export.pk})).json()
    assert waiting == {"status": "queued", "status_label": "Waiting", "progress": 0}
    listing = client.get(reverse("recording:exports"))
    assert b"<progress" in listing.content  # the bar that polls the progress URL
    for callback in queued:
        callback()  # the Celery task (eager in tests)
    progress = client.get(reverse("recording:export_progress", kwargs={"export_id": export.pk})).json()
    assert progress == {"status": "done", "status_label": "Ready", "progress": 100}  # eager in tests
    download = client.get(reverse("recording:export_download", kwargs={"export_id": export.pk}))
    assert download.status_code == 200
    export.refresh_from_db()
    info = probe(default_storage.path(export.storage_name))
    assert info.ok and 10 <= info.duration <= 14.5
    for _ in range(10):
        media_services.export_create(
            user=alpha.viewer, camera=alpha.camera, start=BASE, end=BASE + timedelta(seconds=4)
        )
    assert Export.objects.filter(user=alpha.viewer).count() == 10
    assert not Export.objects.filter(pk=export.pk).exists()  # the oldest went
    assert not default_storage.exists(export.storage_name)


def test_an_export_of_nothing_recorded_is_refused_and_nothing_is_saved(alpha, recorded):
    client = client_for(alpha.viewer)
    response = client.post(
        reverse("recording:export_create"),
        {"camera": alpha.camera.pk, "day": "2026-03-05", "start_time": "10:00:00", "end_time": "10:01:00"},
        follow=True,
    )
    assert "Nothing was recorded in this span." in response.content.decode()
    assert not Export.objects.exists()


def test_an_outsider_cannot_export_another_operators_camera(alpha, bravo, recorded):
    response = client_for(bravo.admin).post(
        reverse("recording:export_create"),
        {"camera": alpha.camera.pk, "day": "2026-03-02", "start_time": "10:00:00", "end_time": "10:00:10"},
    )
    assert response.status_code == 404 and not Export.objects.exists()


def test_another_users_export_is_404_even_in_the_same_operator(alpha, recorded):
    export = media_services.export_create(
        user=alpha.viewer, camera=alpha.camera, start=BASE, end=BASE + timedelta(seconds=4)
    )
    for name in ("export_progress", "export_download", "export_delete"):
        url = reverse(f"recording:{name}", kwargs={"export_id": export.pk})
        assert client_for(alpha.admin).get(url).status_code == 404


# ----------------------------------------------------------------------------- motion endpoint


def _post_motion(client, device, secret: str | None, **body):
    headers = {"HTTP_AUTHORIZATION": f"Device {secret}"} if secret is not None else {}
    return client.post(
        reverse("recording:motion_endpoint", kwargs={"device_id": device.pk}),
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_the_motion_endpoint_accepts_only_the_devices_own_secret(alpha, bravo, site):
    from django.test import Client

    client = Client()
    assert _post_motion(client, alpha.sensor, None).status_code == 404
    assert _post_motion(client, alpha.sensor, "wrong").status_code == 404
    assert _post_motion(client, alpha.sensor, bravo.sensor.ingest_secret).status_code == 404
    # Logged in as the other operator's admin changes nothing: the device secret is the authorization.
    assert _post_motion(client_for(bravo.admin), alpha.sensor, None).status_code == 404
    assert client.get(reverse("recording:motion_endpoint", kwargs={"device_id": alpha.sensor.pk})).status_code == 405
    assert not MotionEvent.objects.exists()


def test_a_sensor_event_records_its_rooms_camera_and_cross_room_conditions(alpha, site, settings, tmp_path):
    media_settings(settings, tmp_path)
    RecordingCondition.objects.create(operator=alpha.operator, camera=site.camera2, sensor=alpha.sensor)
    at = "2026-03-02T01:00:10+00:00"
    response = _post_motion(
        client_for(alpha.viewer), alpha.sensor, alpha.sensor.ingest_secret, at=at, ended_at="2026-03-02T01:00:12Z"
    )
    assert response.status_code == 202 and response.json() == {"events": 2}
    events = MotionEvent.objects.order_by("camera_id")
    assert {e.camera_id for e in events} == {alpha.camera.pk, site.camera2.pk}
    assert all(e.source == "sensor" and e.triggered_by_id == alpha.sensor.pk for e in events)
    assert (
        _post_motion(client_for(alpha.viewer), alpha.sensor, alpha.sensor.ingest_secret, at="yesterday").status_code
        == 400
    )


def test_motion_updates_the_camera_list_thumbnail_with_its_time(alpha, settings, tmp_path, vtest_jpeg):
    media_settings(settings, tmp_path)
    at = timezone.now().replace(microsecond=0)
    media_services.motion_record(trigger=alpha.camera, at=at, ended_at=at, source="server", thumbnail=vtest_jpeg)
    response = client_for(alpha.viewer).get(reverse("home"))
    assert timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S").encode() in response.content
    thumb = client_for(alpha.viewer).get(reverse("recording:thumbnail", kwargs={"camera_id": alpha.camera.pk}))
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content).startswith(b"\xff\xd8")


@pytest.fixture(scope="module")
def vtest_jpeg() -> bytes:
    from workers.frames import grab_snapshot

    return grab_snapshot(str(VTEST), width=320)


# ----------------------------------------------------------------------------- isolation and license


def _media_urls(tenant, recorded_rows, clip, export, token) -> list[str]:
    return [
        reverse("recording:segment_file", kwargs={"segment_id": recorded_rows[0].pk}),
        reverse("recording:clip_file", kwargs={"clip_id": clip.pk}),
        reverse("recording:export_download", kwargs={"export_id": export.pk}),
        reverse("recording:export_progress", kwargs={"export_id": export.pk}),
        reverse("recording:thumbnail", kwargs={"camera_id": tenant.camera.pk}),
        reverse("recording:player", kwargs={"camera_id": tenant.camera.pk}),
        reverse("recording:live", kwargs={"camera_id": tenant.camera.pk}),
        reverse("recording:snapshot", kwargs={"camera_id": tenant.camera.pk}),
    ]


@pytest.fixture
def alpha_media(alpha, recorded, vtest_jpeg):
    clip = media_services.clip_make(motion_id=motion(alpha.camera, BASE + timedelta(seconds=10)).pk)
    media_services.thumbnail_update(camera=alpha.camera, jpeg=vtest_jpeg, at=BASE)
    export = media_services.export_create(
        user=alpha.admin, camera=alpha.camera, start=BASE, end=BASE + timedelta(seconds=6)
    )
    export = media_services.export_run(export_id=export.pk)  # the task, which waits for a commit here
    return clip, export


def test_an_outsider_gets_404_on_every_media_route(alpha, bravo, recorded, alpha_media):
    clip, export = alpha_media
    for url in _media_urls(alpha, recorded, clip, export, None):
        assert client_for(bravo.admin).get(url).status_code == 404, url
        assert client_for(alpha.admin).get(url).status_code in (200, 404 if "snapshot" in url else 200), url


def test_a_live_media_token_opens_only_its_camera_and_forged_ones_are_404(alpha, bravo, recorded, settings):
    folder = Path(settings.RECORDING_LIVE_DIR) / str(alpha.camera.pk)
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg000001.ts\n")
    (folder / "seg000001.ts").write_bytes(b"\x47" * 188)
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    url = reverse("recording:live_media", kwargs={"media_token": token, "filename": "index.m3u8"})
    anonymous = client_for(bravo.admin)  # any browser holding the URL; the token is the authorization
    assert anonymous.get(url).status_code == 200
    assert anonymous.get(url.replace("index.m3u8", "seg000001.ts")).status_code == 200
    assert anonymous.get(url.replace("index.m3u8", "..%2Fsecret")).status_code == 404
    wrong = camera_access_token(alpha.camera, bravo.operator)  # signed, but bravo cannot see the camera
    assert (
        anonymous.get(
            reverse("recording:live_media", kwargs={"media_token": wrong, "filename": "index.m3u8"})
        ).status_code
        == 404
    )
    assert anonymous.get(url.replace(token[:10], "x" * 10)).status_code == 404


def test_a_stopped_streams_playlist_and_segments_are_never_served(alpha, recorded, settings):
    """The folder a stopped stream (or a killed worker) left is a 404 like a missing one: the page waits
    for a new stream instead of playing the last session's video as live (issue #18, never stale)."""
    import os
    import time

    folder = Path(settings.RECORDING_LIVE_DIR) / str(alpha.camera.pk)
    folder.mkdir(parents=True)
    playlist = folder / "index.m3u8"
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg000007.ts\n")
    (folder / "seg000007.ts").write_bytes(b"\x47" * 188)
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    url = reverse("recording:live_media", kwargs={"media_token": token, "filename": "index.m3u8"})
    viewer = client_for(alpha.viewer)
    assert viewer.get(url).status_code == 200  # being written now: live
    assert viewer.get(url.replace("index.m3u8", "seg000007.ts")).status_code == 200
    written = time.time() - 40  # ... and 40 s later nobody has written it: the stream stopped
    os.utime(playlist, (written, written))
    assert viewer.get(url).status_code == 404
    assert viewer.get(url.replace("index.m3u8", "seg000007.ts")).status_code == 404
    # A fresh playlist whose segment is gone (deleted by the stop) is not live either.
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg000008.ts\n")
    assert viewer.get(url).status_code == 404


def test_a_playlist_request_asks_the_worker_for_live_even_before_the_playlist_exists(alpha, bravo, recorded):
    """The page may have asked before any worker held the camera: the 404s that follow keep asking."""
    lease = IngestLease.objects.create(operator=alpha.operator, camera=alpha.camera, worker_id="w1")
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    url = reverse("recording:live_media", kwargs={"media_token": token, "filename": "index.m3u8"})
    assert client_for(alpha.viewer).get(url).status_code == 404  # not started yet
    lease.refresh_from_db()
    assert lease.live_requested_at is not None
    # A forged token or a segment name asks for nothing.
    IngestLease.objects.filter(pk=lease.pk).update(live_requested_at=None)
    wrong = camera_access_token(alpha.camera, bravo.operator)
    client_for(bravo.admin).get(
        reverse("recording:live_media", kwargs={"media_token": wrong, "filename": "index.m3u8"})
    )
    client_for(alpha.viewer).get(url.replace("index.m3u8", "seg000001.ts"))
    lease.refresh_from_db()
    assert lease.live_requested_at is None


def test_a_camera_whose_license_was_moved_away_stops_like_an_expired_one(alpha, recorded, alpha_media, settings):
    """No license at all (moved to another camera) blocks recording, live view, playback, export and
    notifications exactly as an expired one does, and every page says why (docs/product.md §7.8)."""
    from licensing.services import license_move
    from recording.ingest import ingest_sync
    from recording.media_selectors import media_blocked_reason
    from recording.tasks import notify_motion, notify_trouble_state
    from tests.factories import CameraFactory, RoomFactory

    clip, _export = alpha_media
    [lic] = give_camera_licenses(alpha.operator)
    alpha.camera.rtsp_url, alpha.camera.stream_source = "rtsp://127.0.0.1:1/none", "rtsp"
    alpha.camera.save(update_fields=["rtsp_url", "stream_source"])
    ingest_sync()
    assert IngestLease.objects.get(camera=alpha.camera).enabled
    other = CameraFactory(room=RoomFactory(building=alpha.building), name="Other cam")
    license_move(operator=alpha.operator, actor=alpha.admin, lic=lic, device=other)

    assert media_blocked_reason(alpha.camera) == "license_missing"
    ingest_sync()
    held = IngestLease.objects.get(camera=alpha.camera)
    assert not held.enabled and held.disabled_reason == "license_missing"
    client = client_for(alpha.admin)
    for name, kwargs in (("segment_file", {"segment_id": recorded[0].pk}), ("clip_file", {"clip_id": clip.pk})):
        assert client.get(reverse(f"recording:{name}", kwargs=kwargs)).status_code == 403
    page = client.get(reverse("recording:live", kwargs={"camera_id": alpha.camera.pk}))
    assert b"has no license" in page.content and b"hls.min.js" not in page.content
    player = client.get(reverse("recording:player", kwargs={"camera_id": alpha.camera.pk}))
    assert b"has no license" in player.content and "player_data" not in player.context
    home = client.get("/")
    assert b"No license: live view and recording stopped" in home.content
    assert media_services.motion_record(trigger=alpha.sensor, at=BASE, ended_at=BASE, source="sensor") == []
    assert notify_motion(alpha.camera.pk, BASE.isoformat()) == 0
    assert notify_trouble_state(alpha.camera.pk) == 0
    with pytest.raises(ValidationError, match="has no license"):
        media_services.export_create(
            user=alpha.admin, camera=alpha.camera, start=BASE, end=BASE + timedelta(seconds=10)
        )


def test_an_expired_license_stops_playback_live_view_and_notifications(alpha, recorded, alpha_media, settings):
    clip, export = alpha_media
    [lic] = give_camera_licenses(alpha.operator)
    settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
    client = client_for(alpha.admin)
    for name, kwargs in (("segment_file", {"segment_id": recorded[0].pk}), ("clip_file", {"clip_id": clip.pk})):
        assert client.get(reverse(f"recording:{name}", kwargs=kwargs)).status_code == 403
    page = client.get(reverse("recording:live", kwargs={"camera_id": alpha.camera.pk}))
    assert b"license has expired" in page.content and b"hls.min.js" not in page.content
    player = client.get(reverse("recording:player", kwargs={"camera_id": alpha.camera.pk}))
    assert b"license has expired" in player.content and "player_data" not in player.context
    assert media_services.motion_record(trigger=alpha.sensor, at=BASE, ended_at=BASE, source="sensor") == []
    from recording.tasks import notify_motion

    assert notify_motion(alpha.camera.pk, BASE.isoformat()) == 0
