"""The live view's WebSocket (recording/consumers.py) on portal.asgi's real application and database:
authorized like the live playlist at connect and again while watching, limited per client, closed for
a bad message without touching other viewers, and forwarding the feed with flow control. The feed is
a stand-in here (what recording/live_feed.py yields); tests/recording/test_live_mse.py runs the real one."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from django.core import signing

from devices.media_tokens import camera_access_token
from recording import consumers
from tests.licensing.factories import give_camera_licenses
from tests.recording.live_socket import has_state, open_socket, receive_until, run, socket_path
from tests.waiting import patience

pytestmark = pytest.mark.django_db(transaction=True)


class Msg:
    def __init__(self, kind: str, data: bytes = b"", meta: dict | None = None) -> None:
        self.kind, self.data, self.meta = kind, data, meta


META = Msg("meta", meta={"mime": 'video/mp4; codecs="avc1.4d401f"', "video": "h264", "audio": False})


@pytest.fixture
def fast(settings):
    settings.LIVE_RECHECK_SECONDS = 0.2
    settings.LIVE_FEED_RETRY_SECONDS = 0.2


@pytest.fixture
def feed(monkeypatch):
    """A stand-in feed: every subscription plays `script`: messages, a float (sleep that long), a callable
    (its messages, made anew for each subscription), None (stay open)."""
    state = {"script": [META, Msg("init", b"I" * 10), Msg("key", b"K" * 20), None], "calls": []}

    async def subscribe(camera_id: int, variant: str):
        state["calls"].append((camera_id, variant))
        script = list(state["script"])

        async def messages():
            for message in script:
                if message is None:
                    await asyncio.Event().wait()
                if isinstance(message, float):
                    await asyncio.sleep(message)
                    continue
                if callable(message):
                    for each in message():
                        yield each
                    continue
                yield message

        return messages()

    monkeypatch.setattr(consumers, "_subscribe", subscribe)
    return state


def token_for(tenant, camera=None, *, user=None) -> str:
    return camera_access_token(camera or tenant.camera, tenant.operator, user=user or tenant.viewer)


def refused(path: str, **kwargs) -> int | None:
    async def body():
        communicator = open_socket(path, **kwargs)
        got = await receive_until(communicator, lambda got: False, accepted=False)
        return got.close_code

    return run(body)


def test_another_operators_camera_a_forged_or_missing_token_and_a_wrong_origin_are_refused(alpha, bravo, feed):
    ours = token_for(alpha)
    assert refused(socket_path(bravo.camera.pk, ours)) == 4404  # our token, their camera's id
    foreign = camera_access_token(bravo.camera, alpha.operator, user=alpha.admin)  # signed, but not ours
    assert refused(socket_path(bravo.camera.pk, foreign)) == 4404
    assert refused(socket_path(alpha.camera.pk, ours[:-3] + "xyz")) == 4404
    assert refused(socket_path(alpha.camera.pk, None)) == 4404

    # A page of another site may not open it with the viewer's cookies (cross-site WebSocket hijacking).
    async def other_site():
        communicator = open_socket(socket_path(alpha.camera.pk, ours), origin=(b"origin", b"https://evil.example"))
        return await receive_until(communicator, lambda got: False, accepted=False)

    assert not run(other_site).accepted
    assert feed["calls"] == []


def test_an_expired_token_is_refused_at_connect(alpha, feed, monkeypatch):
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 301)
    old = token_for(alpha)
    monkeypatch.setattr(signing.time, "time", real)
    assert refused(socket_path(alpha.camera.pk, old)) == 4404


def test_the_owner_and_a_share_receiver_watch_until_the_share_is_cancelled(alpha, bravo, feed, fast):
    from sharing.services import share_cancel
    from tests.sharing.factories import make_share

    share = make_share(alpha, bravo.operator, bravo.admin)
    theirs = token_for(bravo, alpha.camera)

    async def body():
        owner = open_socket(socket_path(alpha.camera.pk, token_for(alpha)))
        receiver = open_socket(socket_path(alpha.camera.pk, theirs))
        for communicator in (owner, receiver):
            got = await receive_until(communicator, has_state("playing"), accepted=False)
            assert got.close_code is None
            assert got.texts[0] == {"type": "status", "state": "starting"}
            assert got.texts[1]["type"] == "meta" and got.texts[1]["path"] == "mse"
            assert got.texts[1]["mime"] == 'video/mp4; codecs="avc1.4d401f"'
            assert got.binaries == [b"I" * 10, b"K" * 20]
        from channels.db import database_sync_to_async

        await database_sync_to_async(share_cancel)(operator=alpha.operator, user=alpha.admin, share=share)
        cut = await receive_until(receiver, lambda got: False, timeout=15)
        assert cut.close_code == 4404
        # The owner watches on.
        assert await owner.receive_nothing(timeout=0.5)
        await owner.disconnect(timeout=patience(5))

    run(body)
    assert refused(socket_path(alpha.camera.pk, theirs)) == 4404  # and cannot come back


def test_an_expired_license_is_refused_at_connect_and_cuts_off_a_viewer_within_seconds(alpha, feed, fast, settings):
    [lic] = give_camera_licenses(alpha.operator)
    token = token_for(alpha)

    async def body():
        viewer = open_socket(socket_path(alpha.camera.pk, token))
        assert (await receive_until(viewer, has_state("playing"), accepted=False)).close_code is None
        settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
        assert (await receive_until(viewer, lambda got: False, timeout=15)).close_code == 4403

    run(body)
    assert refused(socket_path(alpha.camera.pk, token_for(alpha))) == 4403


def test_a_client_holds_at_most_the_limit_of_sockets_and_others_are_not_affected(alpha, feed, settings):
    settings.LIVE_SOCKETS_PER_CLIENT = 3
    token = token_for(alpha)
    path = socket_path(alpha.camera.pk, token)

    async def body():
        mine = [open_socket(path) for _ in range(3)]
        for communicator in mine:
            assert (await receive_until(communicator, has_state("playing"), accepted=False)).close_code is None
        assert (await receive_until(open_socket(path), lambda got: False, accepted=False)).close_code == 4429
        # Another user, and the same user from another address, are other clients.
        other = open_socket(socket_path(alpha.camera.pk, token_for(alpha, user=alpha.admin)))
        assert (await receive_until(other, has_state("playing"), accepted=False)).close_code is None
        elsewhere = open_socket(path, client=("192.0.2.7", 40000))
        assert (await receive_until(elsewhere, has_state("playing"), accepted=False)).close_code is None
        # A closed socket frees its place.
        await mine[0].disconnect(timeout=patience(5))
        again = open_socket(path)
        assert (await receive_until(again, has_state("playing"), accepted=False)).close_code is None
        for communicator in (*mine[1:], other, elsewhere, again):
            await communicator.disconnect(timeout=patience(5))

    run(body)
    assert not consumers._open  # every place given back


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", 1008),
        ('{"type": "ack", "bytes": "many"}', 1008),
        ('{"type": "ack", "bytes": 999999999}', 1008),  # more than was ever sent
        ('{"type": "variant", "value": "../../etc"}', 1008),
        ('{"type": "shell"}', 1008),
        ("[1, 2]", 1008),
        ('{"type": "ack", "bytes": 0, "pad": "' + "x" * 2000 + '"}', 1009),
        (b"\x00\x01", 1008),
    ],
)
def test_a_malformed_or_oversized_message_closes_only_that_socket(alpha, feed, message, code):
    path = socket_path(alpha.camera.pk, token_for(alpha))
    slowly = [item for n in range(100) for item in (0.05, Msg("fragment", b"F%d" % n))]
    feed["script"] = [META, Msg("init", b"I"), Msg("key", b"K"), *slowly, None]

    async def body():
        bad, good = open_socket(path), open_socket(path)
        for communicator in (bad, good):
            await receive_until(communicator, has_state("playing"), accepted=False)
        if isinstance(message, bytes):
            await bad.send_to(bytes_data=message)
        else:
            await bad.send_to(text_data=message)
        assert (await receive_until(bad, lambda got: False)).close_code == code
        more = await receive_until(good, lambda got: len(got.binaries) >= 2)
        assert more.close_code is None
        await good.disconnect(timeout=patience(5))

    run(body)


def test_a_browser_that_does_not_acknowledge_gets_at_most_a_window_beyond_what_it_acknowledged(alpha, feed, settings):
    settings.LIVE_SOCKET_WINDOW_BYTES = 1000
    fragments = [Msg("fragment", b"f" * 300) for _ in range(40)]
    feed["script"] = [META, Msg("init", b"i" * 100), Msg("key", b"k" * 300), *fragments, None]
    path = socket_path(alpha.camera.pk, token_for(alpha))

    async def body():
        viewer = open_socket(path)
        got = await receive_until(viewer, lambda got: sum(map(len, got.binaries)) > 1000, accepted=False)
        assert await viewer.receive_nothing(timeout=0.5)  # stopped: a window beyond 0 acknowledged
        sent = sum(map(len, got.binaries))
        assert sent <= 1000 + 300
        await viewer.send_json_to({"type": "ack", "bytes": sent})
        more = await receive_until(viewer, lambda more: sum(map(len, more.binaries)) > 900)
        assert more.close_code is None
        await viewer.disconnect(timeout=patience(5))

    run(body)


def test_the_viewer_is_told_the_camera_is_offline_and_it_resumes_by_itself(alpha, feed, fast):
    rounds = {"n": 0}

    def first_round_only():
        rounds["n"] += 1
        if rounds["n"] == 2:
            yield Msg("end", meta={"reason": "camera-offline"})  # the second subscription: camera gone

    feed["script"] = [lambda: first_round_only(), META, Msg("init", b"I"), Msg("key", b"K"), Msg("end")]
    path = socket_path(alpha.camera.pk, token_for(alpha))

    async def body():
        viewer = open_socket(path)
        got = await receive_until(viewer, has_state("resumed"), accepted=False, timeout=15)
        states = [m["state"] for m in got.texts if m["type"] == "status"]
        assert states[:4] == ["starting", "playing", "camera-offline", "resumed"], states
        # After resuming, the new init segment and keyframe came again.
        assert got.binaries[-2:] == [b"I", b"K"]
        await viewer.disconnect(timeout=patience(5))

    run(body)
    assert len(feed["calls"]) >= 3


def test_without_any_feed_the_camera_reads_offline(alpha, monkeypatch, fast):
    async def nothing(camera_id, variant):
        return consumers._no_feed()

    monkeypatch.setattr(consumers, "_subscribe", nothing)
    path = socket_path(alpha.camera.pk, token_for(alpha))

    async def body():
        viewer = open_socket(path)
        got = await receive_until(viewer, has_state("camera-offline"), accepted=False)
        assert got.close_code is None and got.binaries == []
        await viewer.disconnect(timeout=patience(5))

    run(body)


def test_the_viewer_may_ask_for_the_h264_variant(alpha, feed):
    path = socket_path(alpha.camera.pk, token_for(alpha))

    async def body():
        viewer = open_socket(path)
        await receive_until(viewer, has_state("playing"), accepted=False)
        await viewer.send_json_to({"type": "variant", "value": "h264"})
        got = await receive_until(viewer, lambda got: any(m.get("variant") == "h264" for m in got.texts))
        assert got.close_code is None
        await viewer.disconnect(timeout=patience(5))

    run(body)
    assert [variant for _camera, variant in feed["calls"]] == ["source", "h264"]
