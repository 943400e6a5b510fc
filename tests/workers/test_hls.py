"""Live HLS from the loopback RTSP camera, by stream copy."""

from __future__ import annotations

import subprocess
import threading

from demo.rtsp_sim import SimCamera
from tests.waiting import patience, wait_for
from workers.hls import FRESH_SLACK, FeedHls, HlsStream, hls_args, live_playlist, live_segment
from workers.live import FeedSource
from workers.segmenter import live_output_args, probe


def test_hls_is_made_by_stream_copy_with_short_segments(tmp_path):
    args = hls_args(url="rtsp://127.0.0.1:8554/cam1", out_dir=tmp_path)
    assert args[args.index("-c") + 1] == "copy"
    assert "-vf" not in args and "-c:v" not in args
    assert args[args.index("-hls_time") + 1] == "1"
    assert args[args.index("-hls_list_size") + 1] == "6"
    assert "delete_segments" in args[args.index("-hls_flags") + 1]


def test_live_hls_plays_the_camera_stream_and_stops(camera: SimCamera, vtest, tmp_path):
    stream = HlsStream(url=camera.url("cam1"), out_dir=tmp_path / "live").start()
    try:
        assert stream.wait_ready(timeout=patience(20), segments=2), stream.error()
        playlist = stream.playlist.read_text()
        assert "#EXT-X-INDEPENDENT-SEGMENTS" in playlist
        segment = stream.out_dir / next(line for line in playlist.splitlines() if line.endswith(".ts"))
        info = probe(segment)
        assert info.ok, info.error
        assert info.codec_parameters == probe(vtest).codec_parameters
    finally:
        stream.stop()
    assert not stream.running


def test_a_live_folder_is_served_only_while_ffmpeg_writes_it(tmp_path):
    folder = tmp_path / "live"
    folder.mkdir()
    assert live_playlist(folder) is None  # nothing yet
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg000001.ts\n")
    assert live_playlist(folder) is None  # it lists a segment that is not there
    (folder / "seg000001.ts").write_bytes(b"\x47" * 188)
    written = (folder / "index.m3u8").stat().st_mtime
    assert live_playlist(folder, now=written + 1) is not None
    assert live_segment(folder, "seg000001.ts", now=written + 1) == folder / "seg000001.ts"
    # Past its target duration + FRESH_SLACK without a rewrite: a stream that stopped, not live.
    assert live_playlist(folder, now=written + 2 + FRESH_SLACK + 0.5) is None
    assert live_segment(folder, "seg000001.ts", now=written + 2 + FRESH_SLACK + 0.5) is None
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXTINF:2.0,\nseg000001.ts\n")
    assert live_playlist(folder) is None  # no target duration: not a playlist ffmpeg wrote
    (folder / "index.m3u8").write_bytes(b"#EXTM3U\n" + b"#" * 70000)
    assert live_playlist(folder) is None  # bounded before it is read


def test_a_stopped_stream_deletes_its_playlist_and_segments_and_a_new_one_starts_clean(camera, tmp_path):
    folder = tmp_path / "live"
    folder.mkdir()
    (folder / "seg000099.ts").write_bytes(b"\x47" * 188)  # left by a killed worker
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg000099.ts\n")
    stream = HlsStream(url=camera.url("cam1"), out_dir=folder).start()
    try:
        assert not (folder / "seg000099.ts").exists()
        assert stream.wait_ready(timeout=patience(20), segments=1), stream.error()
        assert "seg000099.ts" not in stream.playlist.read_text()
    finally:
        stream.stop()
    assert not stream.running
    assert sorted(p.name for p in folder.iterdir()) == []


def _camera_run(vtest, seconds: int = 30) -> subprocess.Popen:
    """What the recorder's live output writes: the footage as fMP4, one fragment per frame, in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", str(vtest), "-t", str(seconds),
         *live_output_args("pipe:1")],
        stdout=subprocess.PIPE,
    )  # fmt: skip


def test_hls_from_the_recorders_live_feed_plays_by_stream_copy_and_follows_a_restart(vtest, tmp_path):
    feed = FeedSource()

    def run() -> subprocess.Popen:
        process = _camera_run(vtest)
        threading.Thread(target=feed.feed, args=(process.stdout,), daemon=True).start()
        return process

    camera = run()
    stream = FeedHls(feed=feed, out_dir=tmp_path / "live").start()
    try:
        assert stream.wait_ready(timeout=patience(20), segments=2), stream.error()
        playlist = stream.playlist.read_text()
        assert '#EXT-X-MAP:URI="init.mp4"' in playlist
        name = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
        played = tmp_path / "played.mp4"
        played.write_bytes((stream.out_dir / "init.mp4").read_bytes() + (stream.out_dir / name).read_bytes())
        info = probe(played)
        assert info.ok, info.error
        assert info.codec_parameters == probe(vtest).codec_parameters  # stream copy
        # Served while ffmpeg rewrites it (a loaded machine's ffmpeg may pause past the freshness slack a moment).
        assert wait_for(lambda: live_playlist(stream.out_dir) is not None, timeout=10)

        camera.kill()  # the recorder's ffmpeg ends (camera drop): nothing is live until the next run
        camera.wait()
        assert wait_for(lambda: not stream.playlist.exists(), timeout=10)
        assert stream.running  # still following the feed
        camera = run()  # the recorder's next run: a new init segment, a new ffmpeg
        assert stream.wait_ready(timeout=patience(20), segments=1), stream.error()
        assert stream.runs == 2
    finally:
        stream.stop()
        camera.kill()
        camera.wait()
    assert not stream.running
    assert sorted(p.name for p in stream.out_dir.iterdir()) == []
