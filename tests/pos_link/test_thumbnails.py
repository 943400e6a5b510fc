"""Transaction thumbnails cut with real ffmpeg from stored recording segments, the authorized
thumbnail route, and the player's segment lookup."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from pos_link import tasks, thumbnails
from pos_link.models import PosTransaction, ThumbnailState
from recording import media_services
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from tests.pos_link.factories import transaction_of
from tests.recording.media import VTEST, media_settings
from workers.segmenter import Segment, probe

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
JPEG = b"\xff\xd8"


@pytest.fixture(scope="session")
def cut(tmp_path_factory) -> list[Path]:
    """The first 6 s of vtest as three 2 s fragmented MP4 files, as the recorder writes them."""
    out = tmp_path_factory.mktemp("pos-cut")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(VTEST), "-t", "6", "-map", "0:v:0", "-c", "copy",
         "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", "-segment_format", "mp4",
         "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof", str(out / "s%03d.mp4")],
        check=True,
    )  # fmt: skip
    return sorted(out.glob("s*.mp4"))[:3]


def store_segments(camera, cut: list[Path], tmp_path: Path, start: datetime) -> list:
    rows = []
    for i, src in enumerate(cut):
        spool = tmp_path / f"spool-{i}.mp4"
        spool.write_bytes(src.read_bytes())
        segment = Segment(path=spool, start=start + timedelta(seconds=2 * i), duration=probe(spool).duration, size=0)
        rows.append(media_services.segment_store(camera=camera, segment=segment))
    return rows


@pytest.fixture
def recorded(alpha, settings, tmp_path, cut):
    media_settings(settings, tmp_path)
    return store_segments(alpha.camera, cut, tmp_path, BASE)


def test_the_task_cuts_a_jpeg_of_the_transaction_moment_from_its_segment(alpha, recorded):
    early = transaction_of(alpha, provider_id="1", occurred_at=BASE + timedelta(seconds=0.5))
    late = transaction_of(alpha, provider_id="2", occurred_at=BASE + timedelta(seconds=5.5))
    assert tasks.make_thumbnail(early.pk) == "ready"
    assert tasks.make_thumbnail(late.pk) == "ready"
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.thumbnail_state == late.thumbnail_state == ThumbnailState.READY
    first = default_storage.open(early.thumbnail).read()
    second = default_storage.open(late.thumbnail).read()
    assert first.startswith(JPEG) and second.startswith(JPEG)
    assert first != second  # two moments, two different frames
    assert tasks.make_thumbnail(early.pk) == "ready"  # made once: a second run keeps it
    assert default_storage.open(early.thumbnail).read() == first


def test_the_thumbnail_route_serves_the_jpeg_and_cuts_it_lazily(alpha, recorded):
    tx = transaction_of(alpha, occurred_at=BASE + timedelta(seconds=3))
    client = client_for(alpha.viewer)
    page = client.get(reverse("pos_link:camera_dashboard", kwargs={"camera_id": alpha.camera.pk}))
    url = reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk})
    assert f'src="{url}"' in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(JPEG)
    tx.refresh_from_db()
    assert tx.thumbnail_state == ThumbnailState.READY


def test_no_segment_keeps_the_placeholder_and_a_recent_moment_waits(alpha, settings, tmp_path):
    media_settings(settings, tmp_path)
    old = transaction_of(alpha, provider_id="1", occurred_at=BASE)
    recent = transaction_of(alpha, provider_id="2", occurred_at=timezone.now() - timedelta(seconds=5))
    assert thumbnails.transaction_thumbnail_make(tx=recent) == thumbnails.WAIT  # its minute is being written
    assert PosTransaction.objects.get(pk=recent.pk).thumbnail_state == ThumbnailState.PENDING
    assert tasks.make_thumbnail(old.pk) == "none"  # nothing was recorded then: never will be
    assert PosTransaction.objects.get(pk=old.pk).thumbnail_state == ThumbnailState.NONE
    client = client_for(alpha.admin)
    page = client.get(reverse("pos_link:camera_dashboard", kwargs={"camera_id": alpha.camera.pk})).content.decode()
    assert "No image" in page and "thumbnail.jpg" not in page
    response = client.get(reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": old.pk}))
    assert response["Content-Type"] == "image/svg+xml" and not response.content.startswith(JPEG)


def test_the_segment_arriving_later_gives_the_waiting_transaction_its_image(alpha, settings, tmp_path, cut):
    media_settings(settings, tmp_path)
    start = timezone.now().replace(microsecond=0) - timedelta(seconds=20)
    tx = transaction_of(alpha, occurred_at=start + timedelta(seconds=1))
    assert thumbnails.transaction_thumbnail_make(tx=tx) == thumbnails.WAIT
    store_segments(alpha.camera, cut[:1], tmp_path, start)
    assert tasks.make_thumbnail(tx.pk) == "ready"


def test_an_outsider_gets_404_on_the_thumbnail_and_the_segment_lookup(alpha, bravo, recorded):
    tx = transaction_of(alpha, occurred_at=BASE + timedelta(seconds=1))
    outsider = client_for(bravo.admin)
    assert outsider.get(reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk})).status_code == 404
    lookup = reverse("pos_link:camera_segment", kwargs={"camera_id": alpha.camera.pk})
    assert outsider.get(lookup, {"at": BASE.isoformat()}).status_code == 404
    assert PosTransaction.objects.get(pk=tx.pk).thumbnail_state == ThumbnailState.PENDING  # nothing was cut


def test_an_expired_license_shows_the_placeholder_and_stops_playback(alpha, recorded, settings):
    tx = transaction_of(alpha, occurred_at=BASE + timedelta(seconds=1))
    assert tasks.make_thumbnail(tx.pk) == "ready"
    [lic] = give_camera_licenses(alpha.operator)
    settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
    client = client_for(alpha.admin)
    response = client.get(reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk}))
    assert response["Content-Type"] == "image/svg+xml" and not response.content.startswith(JPEG)
    page = client.get(reverse("pos_link:camera_dashboard", kwargs={"camera_id": alpha.camera.pk})).content.decode()
    assert "No image" in page and "license has expired" in page and "<video" not in page
    lookup = reverse("pos_link:camera_segment", kwargs={"camera_id": alpha.camera.pk})
    assert client.get(lookup, {"at": BASE.isoformat()}).status_code == 403


def test_the_segment_lookup_gives_the_authorized_file_and_the_offset(alpha, recorded):
    client = client_for(alpha.viewer)
    lookup = reverse("pos_link:camera_segment", kwargs={"camera_id": alpha.camera.pk})
    answer = client.get(lookup, {"at": (BASE + timedelta(seconds=3.25)).isoformat()}).json()
    assert answer["url"] == reverse("recording:segment_file", kwargs={"segment_id": recorded[1].pk})
    assert answer["offset"] == pytest.approx(1.25)
    assert client.get(answer["url"]).status_code == 200
    assert client.get(lookup, {"at": (BASE - timedelta(minutes=5)).isoformat()}).status_code == 404
    assert client.get(lookup, {"at": "yesterday"}).status_code == 400


def test_a_newly_stored_transaction_queues_its_thumbnail_once(
    pos_alpha, recorded, smaregi, monkeypatch, django_capture_on_commit_callbacks
):
    from pos_link import ingestion
    from pos_link.models import PosConnection
    from tests.pos_link.conftest import SMAREGI_CONTRACT, SMAREGI_TOKEN
    from tests.pos_link.factories import link_of

    link = link_of(pos_alpha, contract_id=SMAREGI_CONTRACT, terminal_id="1")
    PosConnection.objects.filter(pk=link.connection_id).update(access_token=SMAREGI_TOKEN)
    queued: list[int] = []
    monkeypatch.setattr(tasks.make_thumbnail, "delay", queued.append)
    smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=500, deposit=1000, at=BASE + timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        ingestion.link_poll(link_id=link.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ingestion.link_poll(link_id=link.pk, now=timezone.now() + timedelta(hours=1))  # seen again: not new
    [tx] = PosTransaction.objects.all()
    assert queued == [tx.pk]


def test_the_api_gives_the_thumbnail_url_when_a_recording_covers_the_moment(alpha, recorded):
    covered = transaction_of(alpha, provider_id="1", occurred_at=BASE + timedelta(seconds=1))
    transaction_of(alpha, provider_id="2", occurred_at=BASE - timedelta(minutes=5))
    rows = client_for(alpha.admin).get("/api/v1/pos/transactions/").json()
    rows = rows.get("results", rows) if isinstance(rows, dict) else rows
    urls = {row["id"]: row["thumbnail_url"] for row in rows}
    path = reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": covered.pk})
    assert urls[covered.pk].startswith("http") and urls[covered.pk].endswith(path)
    assert [url for pk, url in urls.items() if pk != covered.pk] == [None]
