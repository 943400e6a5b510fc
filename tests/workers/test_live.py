"""The live feed (workers.live): the recorder's own ffmpeg feeds it, many viewers share one camera
connection, a slow viewer falls to the next keyframe with bounded memory, bad subscriptions are refused."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from demo.rtsp_sim import SimCamera
from tests.waiting import patience, wait_for
from workers import fmp4, live
from workers.segmenter import Segmenter, probe

KEY = b"k" * 32


class Recording:
    """A Segmenter with a live feed, run in a thread (as CameraIngest runs it)."""

    def __init__(self, url: str, out_dir: Path) -> None:
        self.source = live.FeedSource()
        self.segments = []
        self.segmenter = Segmenter(
            url=url, out_dir=out_dir, on_segment=self.segments.append, segment_time=4, live=self.source
        )
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.segmenter.run, args=(self.stop_event,), daemon=True)

    def __enter__(self) -> Recording:
        self.thread.start()
        assert wait_for(lambda: self.source.snapshot().init is not None, 20), "no live init segment"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=patience(20))
        assert not self.thread.is_alive()


@pytest.fixture
def hub():
    hub = live.LiveHub(key=KEY, offline_grace=1.0, variant_grace=5.0).start()
    yield hub
    hub.close()
    assert not hub.running, "the live hub's thread survived close()"


def subscribe(hub: live.LiveHub, camera_id: int, variant: str = "source", **options) -> live.FeedConnection:
    return live.FeedConnection(hub.address, live.sub_line(KEY, camera_id, variant), timeout=patience(20), **options)


def until_key(connection: live.FeedConnection) -> list[tuple[str, bytes]]:
    """Frames up to and including the first keyframe fragment."""
    seen = []
    for kind, payload in connection:
        seen.append((kind, payload))
        if kind in ("key", "end"):
            break
    return seen


def test_the_recorders_ffmpeg_feeds_the_live_view_and_still_records(camera: SimCamera, tmp_path):
    with Recording(camera.url("cam1"), tmp_path) as recording:
        with recording.source.reader() as reader:
            frames = []
            for kind, payload in reader:
                frames.append((kind, payload))
                if len(frames) >= 25:
                    break
        assert wait_for(lambda: recording.segments, 30), "the recording stopped for the live output"
    kinds = [kind for kind, _ in frames]
    assert kinds[:3] == ["meta", "init", "key"]
    assert set(kinds[3:]) <= {"key", "fragment"}
    assert json.loads(frames[0][1]) == {"mime": 'video/mp4; codecs="avc1.4d401f"', "video": "h264", "audio": False}
    # What a late viewer got plays: the init, then fragments from a keyframe on.
    joined = tmp_path / "live.mp4"
    joined.write_bytes(b"".join(payload for _, payload in frames[1:]))
    info = probe(joined)
    assert info.ok and info.packets == 23, info
    stored = probe(recording.segments[0].path)
    assert stored.ok and stored.codec == "h264", stored


def test_ten_viewers_share_the_recorders_one_rtsp_session(vtest, tmp_path, hub):
    sim = SimCamera(mounts={"cam1": vtest}, log_path=tmp_path / "sim.log").start()
    try:
        with Recording(sim.url("cam1"), tmp_path / "spool") as recording:
            hub.publish(7, recording.source)
            before = sim.stats()
            assert before["open_sessions"] == 1
            viewers = [subscribe(hub, 7) for _ in range(10)]
            try:
                for viewer in viewers:
                    frames = until_key(viewer)
                    assert [kind for kind, _ in frames[:2]] == ["meta", "init"]
                    assert frames[-1][0] == "key"
                    assert viewer.read()[0] in ("key", "fragment")  # and it goes on
                assert hub.subscribers(7) == 10
                after = sim.stats()
            finally:
                for viewer in viewers:
                    viewer.close()
            assert wait_for(lambda: hub.subscribers(7) == 0, 10)
    finally:
        sim.kill()
    assert after["open_sessions"] == 1, after
    assert after["sessions"] == before["sessions"], (before, after)  # no viewer opened a session of its own


def init_of(path: Path) -> fmp4.Init:
    with path.open("rb") as stream:
        return next(iter(fmp4.split(stream)))


@pytest.fixture(scope="module")
def live_init(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> fmp4.Init:
    out = tmp_path_factory.mktemp("live") / "init.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-t", "1", "-i", str(vtest), "-c", "copy", "-f", "mp4",
         "-movflags", "+empty_moov+default_base_moof+frag_every_frame", str(out)],
        check=True,
    )  # fmt: skip
    return init_of(out)


def numbered(index: int, *, size: int = 16 * 1024, gop: int = 25) -> fmp4.Fragment:
    """A stand-in fragment that says its number (the hub never parses a fragment)."""
    return fmp4.Fragment(data=b"%08d" % index + bytes(size - 8), keyframe=index % gop == 0, video=True)


def test_a_viewer_too_slow_for_the_stream_falls_to_the_next_keyframe_with_bounded_memory(live_init, tmp_path):
    limit = 256 * 1024
    hub = live.LiveHub(key=KEY, queue_bytes=limit).start()
    try:
        source = live.FeedSource()
        hub.publish(3, source)
        source.begin()
        source.push(live_init)
        slow = subscribe(hub, 3, receive_buffer=4096)  # a slow link: little in flight
        assert wait_for(lambda: hub.subscribers(3) == 1, 10)
        pushed = 2000  # 32 MB: far more than the socket buffers hold
        for index in range(pushed):
            source.push(numbered(index))
        assert wait_for(lambda: hub.queues(3) and hub.queues(3)[0].dropped > 0, 10), "nothing was dropped"
        source.push(numbered(pushed))  # a last keyframe (2000 % 25 == 0)
        peak = hub.queues(3)[0].peak
        got = []
        for kind, payload in slow:
            got.append((kind, payload))
            if kind in ("key", "fragment") and int(payload[:8]) == pushed:
                break
    finally:
        hub.close()
    assert peak <= limit + 16 * 1024, peak  # the queue's bound, plus at most the keyframe that replaced it
    kinds = [kind for kind, _ in got]
    assert kinds[:2] == ["meta", "init"]
    numbers = [(kind, int(payload[:8])) for kind, payload in got[2:]]
    assert len(numbers) < pushed  # the slow viewer did not get everything ...
    assert numbers[0][0] == "key"
    for (_, previous), (kind, number) in zip(numbers, numbers[1:], strict=False):
        assert number > previous
        if number != previous + 1:
            assert kind == "key", f"after {previous} came {number}, not a keyframe"  # ... and lost whole GOPs


@pytest.mark.parametrize(
    "line",
    [
        b"HELLO\n",
        b"SUB 7 source 9999999999 " + b"0" * 64 + b"\n",  # a wrong MAC
        b"SUB 7 source 9999999999\n",
        b"SUB 7 Source 9999999999 " + b"0" * 64 + b"\n",
        b"SUB " + b"7" * 300 + b"\n",  # over the line limit
        b"\xff\xfe\n",
    ],
)
def test_a_bad_subscription_is_refused_and_closed(hub, line):
    source = live.FeedSource()
    hub.publish(7, source)
    with live.FeedConnection(hub.address, line, timeout=patience(10)) as connection:
        assert connection.read() == ("end", b'{"reason": "refused"}')
        assert connection.read() is None
    assert hub.subscribers(7) == 0


def test_an_expired_or_forged_subscription_is_refused(hub):
    hub.publish(7, live.FeedSource())
    expired = live.sub_line(KEY, 7, now=time.time() - 3600)
    other_camera = live.sub_line(KEY, 8).replace(b"SUB 8 ", b"SUB 7 ")
    other_key = live.sub_line(b"x" * 32, 7)
    unknown_variant = live.sub_line(KEY, 7, "vp9")
    for line in (expired, other_camera, other_key, unknown_variant):
        with live.FeedConnection(hub.address, line, timeout=patience(10)) as connection:
            assert [kind for kind, _ in connection] == ["end"], line
    assert hub.refused == 4


def test_a_camera_this_worker_does_not_record_is_offline_at_once(hub):
    with subscribe(hub, 99) as connection:
        assert list(connection) == [("end", b'{"reason": "camera-offline"}')]


def test_a_recorder_restart_sends_meta_and_init_again_before_the_next_keyframe(hub, live_init):
    source = live.FeedSource()
    hub.publish(5, source)
    source.begin()
    source.push(live_init)
    source.push(numbered(0))
    with subscribe(hub, 5) as viewer:
        assert [kind for kind, _ in until_key(viewer)] == ["meta", "init", "key"]
        source.push(numbered(1))
        assert viewer.read()[0] == "fragment"
        source.end()  # ffmpeg exits; the next run starts within the grace
        source.begin()
        source.push(live_init)
        source.push(numbered(3))  # not a keyframe: a player could not start here
        source.push(numbered(25))
        assert [kind for kind, _ in until_key(viewer)] == ["meta", "init", "key"]


def test_a_camera_that_drops_ends_its_viewers_with_camera_offline(own_camera: SimCamera, tmp_path, hub):
    with Recording(own_camera.url("cam1"), tmp_path) as recording:
        hub.publish(4, recording.source)
        with subscribe(hub, 4) as viewer:
            assert until_key(viewer)[-1][0] == "key"
            own_camera.kill()
            rest = list(viewer)
    assert rest[-1] == ("end", b'{"reason": "camera-offline"}')
    assert {kind for kind, _ in rest[:-1]} <= {"key", "fragment"}


def test_a_variant_is_made_once_while_somebody_watches_it(hub, live_init):
    hub.publish(6, live.FeedSource())
    calls = []
    made = live.FeedSource()

    def start(started_hub: live.LiveHub, camera_id: int) -> None:
        calls.append(("start", camera_id))
        started_hub.publish(camera_id, made, variant="test")
        made.begin()
        made.push(live_init)
        made.push(numbered(0))

    def stop(stopped_hub: live.LiveHub, camera_id: int) -> None:
        calls.append(("stop", camera_id))
        stopped_hub.unpublish(camera_id, variant="test")

    live.register_variant("test", start=start, stop=stop)
    try:
        first, second = subscribe(hub, 6, "test"), subscribe(hub, 6, "test")
        for viewer in (first, second):
            assert [kind for kind, _ in until_key(viewer)] == ["meta", "init", "key"]
        assert calls == [("start", 6)]
        first.close()
        second.close()
        assert wait_for(lambda: calls == [("start", 6), ("stop", 6)], 10), calls
    finally:
        live.VARIANTS.pop("test", None)


def test_a_viewer_who_comes_back_while_the_variant_stops_waits_for_the_new_one(hub, live_init):
    """The last viewer left, so the variant's producer stops in a thread (a transcode's ffmpeg is killed and
    joined first); a viewer who comes back meanwhile starts a new producer. The old producer's unpublish,
    arriving after that viewer, must not end it with "stopped": it gets the new producer's picture. The
    order is forced here (seen under load in test_transcode)."""
    hub.publish(7, live.FeedSource())
    made: list[live.FeedSource] = []
    stopped: list[live.FeedSource] = []
    second_start = threading.Event()

    def start(started_hub: live.LiveHub, camera_id: int) -> None:
        if made:
            assert second_start.wait(patience(10))  # the new producer publishes after the old one's unpublish
        source = live.FeedSource()
        made.append(source)
        started_hub.publish(camera_id, source, variant="back")
        source.begin()
        source.push(live_init)
        source.push(numbered(0))

    def stop(stopped_hub: live.LiveHub, camera_id: int) -> None:
        old = made[len(stopped)]
        old.end()
        stopped.append(old)  # its unpublish is sent by the test, once the viewer is back

    live.register_variant("back", start=start, stop=stop)
    try:
        first = subscribe(hub, 7, "back")
        assert [kind for kind, _ in until_key(first)] == ["meta", "init", "key"]
        first.close()
        assert wait_for(lambda: len(stopped) == 1, patience(10))
        back = subscribe(hub, 7, "back")
        assert wait_for(lambda: hub.subscribers(7, "back") == 1, patience(10))
        hub.unpublish(7, variant="back", source=stopped[0])
        assert wait_for(lambda: (7, "back") not in hub.published(), patience(10))
        second_start.set()
        assert [kind for kind, _ in until_key(back)] == ["meta", "init", "key"]
        assert len(made) == 2
        back.close()
    finally:
        second_start.set()
        live.VARIANTS.pop("back", None)


def test_closing_the_hub_ends_its_viewers_with_stopped(live_init):
    hub = live.LiveHub(key=KEY).start()
    source = live.FeedSource()
    hub.publish(2, source)
    source.begin()
    source.push(live_init)
    source.push(numbered(0))
    viewer = subscribe(hub, 2)
    assert until_key(viewer)[-1][0] == "key"
    hub.close()
    assert not hub.running
    assert list(viewer) == [("end", b'{"reason": "stopped"}')]
    viewer.close()


def test_a_stream_that_cannot_be_split_is_still_read_to_its_end(live_init):
    """The recorder's ffmpeg must never block on its live pipe: bad bytes end the feed, not the reading."""
    junk = (64 * 1024 * 1024).to_bytes(4, "big") + b"mdat" + bytes(3 * 1024 * 1024)
    stream = io.BytesIO(live_init.data + junk)
    source = live.FeedSource()
    events = []
    source.add_listener(lambda event: events.append(event.kind), lambda snapshot: None)
    source.feed(stream)
    assert stream.tell() == len(live_init.data) + len(junk)
    assert events == ["run", "init", "end"]
    assert "limit" in source.error


def test_an_h265_camera_with_g711_sound_feeds_hvc1_video_and_aac_sound(tmp_path):
    from demo.footage import hevc_footage

    sim = SimCamera(mounts={"cam1": hevc_footage()}, audio={"cam1": "pcmu"}, log_path=tmp_path / "sim.log").start()
    try:
        source = live.FeedSource()
        segmenter = Segmenter(
            url=sim.url("cam1"), out_dir=tmp_path / "spool", on_segment=lambda s: None, audio=True, live=source
        )
        stop = threading.Event()
        thread = threading.Thread(target=segmenter.run, args=(stop,), daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: source.snapshot().init is not None, 30), "no live init segment"
            with source.reader() as reader:
                frames = []
                for kind, payload in reader:
                    frames.append((kind, payload))
                    if kind == "key" or len(frames) > 200:
                        break
        finally:
            stop.set()
            thread.join(timeout=patience(20))
    finally:
        sim.kill()
    meta = json.loads(frames[0][1])
    assert meta["video"] == "hevc" and meta["audio"] is True, meta
    video, audio = meta["mime"].split('"')[1].split(",")
    assert video.startswith("hvc1.1.6.L") and audio == "mp4a.40.2", meta  # tagged hvc1; G.711 made AAC
    assert frames[-1][0] == "key"
