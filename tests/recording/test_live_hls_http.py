"""The live HLS files through portal.asgi's real application (recording/live_http.py, not Django): the
view's answers and tenant rules, the decision kept per token for LIVE_RECHECK_SECONDS (a cancelled
share or an expired license refused within it), and the live request asked once per few seconds."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from channels.testing import HttpCommunicator
from django.db.backends.utils import CursorWrapper
from django.urls import Resolver404, resolve, reverse

from devices.media_tokens import camera_access_token
from recording import live_http
from recording.models import IngestLease
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from tests.recording.live_socket import run
from tests.recording.media import media_settings
from tests.waiting import patience, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg000001.ts\n"
SEGMENT = b"\x47" * 188 * 2000  # 376 kB: more than one READ_CHUNK


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts like a new process: nothing decided, nothing asked."""
    live_http._decided.clear()
    live_http._asked.clear()
    yield
    live_http._decided.clear()
    live_http._asked.clear()


@pytest.fixture
def stream(alpha, settings, tmp_path) -> Path:
    """Alpha's camera with a live HLS stream being written now."""
    media_settings(settings, tmp_path)
    folder = Path(settings.RECORDING_LIVE_DIR) / str(alpha.camera.pk)
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_bytes(PLAYLIST)
    (folder / "seg000001.ts").write_bytes(SEGMENT)
    (folder / "init.mp4").write_bytes(b"\x00\x00\x00\x18ftypiso6")
    return folder


@contextmanager
def queries_anywhere() -> Iterator[list[str]]:
    """The SQL of every query made meanwhile, in any thread (the ASGI body may run in a thread of its own,
    tests.recording.live_socket.run, where a connection of the test's thread would see none)."""
    seen: list[str] = []
    original = CursorWrapper._execute

    def counting(self, sql, params, *rest):
        seen.append(sql)
        return original(self, sql, params, *rest)

    with mock.patch.object(CursorWrapper, "_execute", counting):
        yield seen


def live_url(token: str, filename: str = "index.m3u8") -> str:
    return reverse("recording:live_media", kwargs={"media_token": token, "filename": filename})


def fetch(path: str, method: str = "GET", folder: Path | None = None) -> dict:
    """One request through portal.asgi's application; `folder`'s playlist is touched first (still live)."""
    from portal.asgi import application

    if folder is not None:
        os.utime(folder / "index.m3u8")

    async def body():
        communicator = HttpCommunicator(application, method, path, headers=[(b"host", b"localhost")])
        return await communicator.get_response(timeout=patience(5))

    response = run(body)
    response["headers"] = {k.decode().lower(): v.decode() for k, v in response["headers"]}
    return response


def test_the_playlist_and_segments_are_the_views_answers_without_django(alpha, bravo, stream):
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    url = live_url(token)
    playlist = fetch(url)
    assert playlist["status"] == 200 and playlist["body"] == PLAYLIST
    assert playlist["headers"]["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist["headers"]["cache-control"] == "no-store"
    assert playlist["headers"]["x-content-type-options"] == "nosniff"
    segment = fetch(live_url(token, "seg000001.ts"))
    assert segment["status"] == 200 and segment["body"] == SEGMENT
    assert segment["headers"]["content-type"] == "video/mp2t"
    assert segment["headers"]["content-length"] == str(len(SEGMENT))
    assert fetch(live_url(token, "init.mp4"))["headers"]["content-type"] == "video/mp4"
    # The Django view (WSGI, runserver without daphne, the test client) answers the same.
    django = client_for(bravo.admin)
    for name, raw in (("index.m3u8", playlist), ("seg000001.ts", segment)):
        response = django.get(live_url(token, name))
        assert response.status_code == 200
        assert (b"".join(response) if response.streaming else response.content) == raw["body"]
        assert response["Content-Type"] == raw["headers"]["content-type"]
        assert response.get("Cache-Control") == raw["headers"].get("cache-control")
    # HEAD: the headers alone; other methods: 405; a query string changes nothing.
    head = fetch(live_url(token, "seg000001.ts"), "HEAD")
    assert head["status"] == 200 and head["body"] == b"" and head["headers"]["content-length"] == str(len(SEGMENT))
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        refused = fetch(url, method)
        assert refused["status"] == 405 and refused["headers"]["allow"] == "GET, HEAD", method
    assert fetch(url + "?filename=../../etc/passwd&token=x")["body"] == PLAYLIST


def test_another_operators_token_a_forged_one_and_a_bad_file_name_are_404(alpha, bravo, stream):
    ours = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    theirs = camera_access_token(alpha.camera, bravo.operator, user=bravo.admin)  # signed; bravo cannot see it
    for url in (
        live_url(theirs),
        live_url(camera_access_token(alpha.camera, bravo.operator)),
        live_url(ours[:-4] + "abcd"),
        live_url("x" * 2000),
        live_url(ours, "secret.txt"),
        live_url(ours, "seg1.mp4"),
        live_url(ours, "index.m3u8.bak"),
        live_url(ours, "..index.m3u8"),
    ):
        answer = fetch(url)
        assert answer["status"] == 404 and answer["body"] == b"Not Found", url
    # ... and asked again, still 404 (a refusal kept is a refusal).
    assert fetch(live_url(theirs))["status"] == 404
    # A traversal is not the live URL's shape at all: Django's 404.
    assert fetch(live_url(ours).replace("index.m3u8", "../../index.m3u8"))["status"] == 404
    assert fetch(live_url(ours))["status"] == 200


def test_a_stopped_stream_is_404(alpha, stream):
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    assert fetch(live_url(token), folder=stream)["status"] == 200
    written = time.time() - 40  # nobody wrote it for 40 s: the stream stopped
    os.utime(stream / "index.m3u8", (written, written))
    assert fetch(live_url(token))["status"] == 404
    assert fetch(live_url(token, "seg000001.ts"))["status"] == 404


def test_a_cancelled_share_is_refused_within_the_window_and_the_owner_watches_on(alpha, bravo, stream, settings):
    from sharing.services import share_cancel
    from tests.sharing.factories import make_share

    settings.LIVE_RECHECK_SECONDS = 0.2
    share = make_share(alpha, bravo.operator, bravo.admin)
    receiver = live_url(camera_access_token(alpha.camera, bravo.operator, user=bravo.admin))
    owner = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer))
    assert fetch(receiver, folder=stream)["status"] == 200
    assert fetch(owner, folder=stream)["status"] == 200
    share_cancel(operator=alpha.operator, user=alpha.admin, share=share)
    assert wait_for(lambda: fetch(receiver, folder=stream)["status"] == 404, timeout=5)
    assert fetch(receiver.replace("index.m3u8", "seg000001.ts"), folder=stream)["status"] == 404
    assert fetch(owner, folder=stream)["status"] == 200


def test_an_expired_license_is_refused_within_the_recheck_window(alpha, stream, settings):
    settings.LIVE_RECHECK_SECONDS = 0.2
    [lic] = give_camera_licenses(alpha.operator)
    url = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer))
    assert fetch(url, folder=stream)["status"] == 200
    settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
    assert wait_for(lambda: fetch(url, folder=stream)["status"] == 404, timeout=5)


def test_the_decision_is_kept_for_the_window_so_a_fetch_asks_the_database_nothing(alpha, bravo, stream, settings):
    settings.LIVE_RECHECK_SECONDS = 60
    url = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer))
    with queries_anywhere() as first:
        assert fetch(url)["status"] == 200
    assert len(first) >= 3  # the token's access, the license, the live request
    with queries_anywhere() as after:
        for _ in range(5):
            assert fetch(url)["status"] == 200
            assert fetch(url.replace("index.m3u8", "seg000001.ts"))["status"] == 200
    assert len(after) == 0, after
    # A refusal is kept too, so hammering one refused token is no cheaper to the attacker than to us.
    theirs = live_url(camera_access_token(alpha.camera, bravo.operator, user=bravo.admin))
    assert fetch(theirs)["status"] == 404
    with queries_anywhere() as refused:
        assert fetch(theirs)["status"] == 404
    assert len(refused) == 0


def test_the_live_request_is_asked_once_per_camera_every_few_seconds(alpha, stream, monkeypatch):
    lease = IngestLease.objects.create(operator=alpha.operator, camera=alpha.camera, worker_id="w1")
    url = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer))
    other_viewer = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.admin))
    assert fetch(url)["status"] == 200
    lease.refresh_from_db()
    assert lease.live_requested_at is not None
    IngestLease.objects.filter(pk=lease.pk).update(live_requested_at=None)
    for _ in range(5):  # within LIVE_REQUEST_EVERY: neither this viewer nor another of the camera asks
        assert fetch(url, folder=stream)["status"] == 200
        assert fetch(other_viewer, folder=stream)["status"] == 200
    lease.refresh_from_db()
    assert lease.live_requested_at is None
    # Once the interval has passed, the next playlist fetch asks again (a segment never does).
    monkeypatch.setattr(live_http, "LIVE_REQUEST_EVERY", 0.2)
    assert wait_for(
        lambda: fetch(url, folder=stream)["status"] == 200
        and IngestLease.objects.filter(pk=lease.pk, live_requested_at__isnull=False).exists(),
        timeout=5,
    )


def test_a_playlist_fetch_asks_for_live_before_the_stream_exists(alpha, settings, tmp_path):
    media_settings(settings, tmp_path)
    lease = IngestLease.objects.create(operator=alpha.operator, camera=alpha.camera, worker_id="w1")
    url = live_url(camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer))
    assert fetch(url.replace("index.m3u8", "seg000001.ts"))["status"] == 404
    lease.refresh_from_db()
    assert lease.live_requested_at is None  # a segment asks for nothing
    assert fetch(url)["status"] == 404  # not started yet
    lease.refresh_from_db()
    assert lease.live_requested_at is not None


@pytest.mark.parametrize(
    "path",
    [
        "/recording/live/TOKEN/index.m3u8",
        "/recording/live/TOKEN/seg1.ts",
        "/recording/live/TOKEN/",
        "/recording/live/TOKEN",
        "/recording/live//index.m3u8",
        "/recording/live/a/b/c",
        "/recording/live/",
        "/recording/cameras/1/live/",
        "/recording/cameras/1/live/token/",
        "/x/recording/live/TOKEN/index.m3u8",
    ],
)
def test_the_path_served_outside_django_is_exactly_the_live_media_url(path):
    try:
        match = resolve(path)
        django_says = match.view_name == "recording:live_media" and tuple(match.kwargs.values())
    except Resolver404:
        django_says = False
    ours = live_http.live_file_route(path)
    assert (ours is not None) == bool(django_says)
    if ours is not None:
        assert ours == django_says


def test_every_other_request_is_django(alpha):
    assert fetch("/healthz")["status"] == 200
    page = fetch(reverse("recording:live", kwargs={"camera_id": alpha.camera.pk}))
    assert page["status"] == 302 and "/login" in page["headers"]["location"]  # Django's login_required
