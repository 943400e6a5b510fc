"""Live HLS from the loopback RTSP camera, by stream copy."""

from __future__ import annotations

from demo.rtsp_sim import SimCamera
from tests.waiting import patience
from workers.hls import HlsStream, hls_args
from workers.segmenter import probe


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
