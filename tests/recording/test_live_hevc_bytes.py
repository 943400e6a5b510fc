"""What the live socket sends an H.265 camera's viewer is playable H.265 (issue #18): Debian's Chromium has
no HEVC decoder, so the browser tests (test_live_hevc.py) cannot show it. Here a simulated H.265 camera is
recorded by an ingest worker, its live feed (recording/live_feed.py) reaches /ws/live/<camera>/ on
portal.asgi's application with a real media token, and the init segment and fragments the socket sends,
acknowledged as recording/static/recording/live.js acknowledges them, are written to a file that the
real ffprobe and ffmpeg must read as ``hvc1`` and decode frame by frame without an error."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from demo.footage import hevc_footage
from demo.rtsp_sim import SimCamera
from devices.media_tokens import camera_access_token
from tests.licensing.factories import give_camera_licenses
from tests.recording.live_socket import open_socket, run, socket_path
from tests.recording.media import media_settings, point_at, ticking
from tests.waiting import patience
from workers.fmp4 import children, find, parse_init

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.media]

ACK_EVERY = 32768  # bytes, as live.js acknowledges them
FRAMES = 25  # video frames to collect (one fragment per frame: workers/fmp4.py)


@pytest.fixture
def h265_camera(alpha, settings, tmp_path):
    """Alpha's camera, an H.265 one with AAC sound, recorded by a worker ticking every second."""
    give_camera_licenses(alpha.operator, count=1)
    media_settings(settings, tmp_path)
    settings.RECORDING_TICK_SECONDS = 1
    settings.LIVE_FEED_RETRY_SECONDS = 0.5  # the socket asks again soon while the recorder starts
    sim = SimCamera(mounts={"cam1": hevc_footage()}, audio={"cam1": "aac"}, log_path=tmp_path / "sim.log")
    sim.start()
    point_at(alpha.camera, sim.url("cam1"))
    try:
        with ticking("hevc-bytes"):
            yield alpha.camera
    finally:
        sim.kill()


def video_samples(fragment: bytes, track: int) -> int:
    """The samples of track `track` in one fragment (moof + mdat)."""
    total = 0
    for kind, traf in children(find(fragment, b"moof") or b""):
        tfhd = find(traf, b"tfhd") if kind == b"traf" else None
        if tfhd is None or int.from_bytes(tfhd[4:8], "big") != track:
            continue
        total += sum(int.from_bytes(trun[4:8], "big") for name, trun in children(traf) if name == b"trun")
    return total


def mdat_payload(fragment: bytes) -> tuple[int, int]:
    """Where the mdat's payload (the coded frame) lies in one fragment (moof + mdat)."""
    moof = int.from_bytes(fragment[:4], "big")
    assert fragment[moof + 4 : moof + 8] == b"mdat", fragment[moof : moof + 8]
    return moof + 8, len(fragment)


def garbled(fragment: bytes) -> bytes:
    """The fragment with the second half of its coded frame inverted (the picture's slice data)."""
    start, end = mdat_payload(fragment)
    middle = (start + end) // 2
    return fragment[:middle] + bytes(b ^ 0xFF for b in fragment[middle:end])


def decoded(path: Path) -> tuple[int, str, str]:
    """(video frames ffprobe decodes, its codec_name/codec_tag_string, ffmpeg's stderr decoding it all)."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=codec_name,codec_tag_string,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=patience(30),
    )  # fmt: skip
    streams = json.loads(probe.stdout or "{}").get("streams") or [{}]
    stream = streams[0]
    frames = int(stream.get("nb_read_frames") or 0)
    tag = f"{stream.get('codec_name')}/{stream.get('codec_tag_string')}"
    decode = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=patience(30),
    )  # fmt: skip
    return frames, tag, (probe.stderr + decode.stderr).strip()


def watch(camera, token: str) -> tuple[dict, bytes, list[bytes], int]:
    """(meta, init segment, fragments) the socket sends until FRAMES video frames came after one meta,
    acknowledging every ACK_EVERY bytes; and the video track's id. A recorder restart meanwhile (a new
    meta and init) starts the collection again, as the page starts a new MediaSource."""

    async def body():
        communicator = open_socket(socket_path(camera.pk, token))
        connected, code = await communicator.connect(timeout=patience(10))
        assert connected, code
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience(60)
        received = acked = 0
        meta, init, fragments, frames, track = None, None, [], 0, 0
        states = []
        try:
            while frames < FRAMES:
                assert loop.time() < deadline, (states, frames)
                output = await communicator.receive_output(timeout=max(0.1, deadline - loop.time()))
                assert output["type"] != "websocket.close", (output, states)
                if output.get("text") is not None:
                    message = json.loads(output["text"])
                    states.append(message.get("state") or message["type"])
                    if message["type"] == "meta":
                        meta, init, fragments, frames = message, None, [], 0
                    continue
                data = output["bytes"]
                received += len(data)
                if received - acked >= ACK_EVERY:
                    acked = received
                    await communicator.send_json_to({"type": "ack", "bytes": acked})
                assert meta is not None, "binary before any meta"
                if init is None:
                    init = data
                    track = parse_init(init).video.track_id
                    continue
                fragments.append(data)
                frames += video_samples(data, track)
        finally:
            await communicator.disconnect(timeout=patience(5))
        # "resumed" where the recorder was not up yet when the socket opened (it said camera-offline first)
        assert {"playing", "resumed"} & set(states), states
        return meta, init, fragments, track

    return run(body)


def test_the_live_socket_sends_an_h265_cameras_viewer_hvc1_that_ffmpeg_decodes(alpha, h265_camera, tmp_path):
    token = camera_access_token(h265_camera, alpha.operator, user=alpha.viewer)
    meta, init, fragments, track = watch(h265_camera, token)

    assert meta["video"] == "hevc" and meta["path"] == "mse" and meta["audio"] is True, meta
    codecs = meta["mime"].split('codecs="', 1)[1].rstrip('"').split(",")
    assert codecs[0].startswith("hvc1."), meta["mime"]
    assert init[4:8] == b"ftyp" and parse_init(init).video.codec == codecs[0]
    sent = sum(video_samples(fragment, track) for fragment in fragments)
    assert sent >= FRAMES

    stream = tmp_path / "live.mp4"
    stream.write_bytes(init + b"".join(fragments))
    frames, tag, errors = decoded(stream)
    assert tag == "hevc/hvc1"
    assert errors == ""  # every frame (and the sound) decodes without a complaint
    assert frames == sent, (frames, sent)  # every video frame the socket sent

    # The check can fail: the same bytes with the coded pictures damaged, or cut off in the last frame,
    # are still an hvc1 stream to a prober but do not decode cleanly.
    broken = tmp_path / "garbled.mp4"
    broken.write_bytes(init + b"".join(garbled(f) if video_samples(f, track) else f for f in fragments))
    cut = tmp_path / "truncated.mp4"
    last = max(n for n, f in enumerate(fragments) if video_samples(f, track))
    start, end = mdat_payload(fragments[last])
    cut.write_bytes(init + b"".join(fragments[:last]) + fragments[last][: (start + end) // 2])
    for damaged in (broken, cut):
        frames, tag, errors = decoded(damaged)
        print(damaged.name, frames, sent, errors[:300])  # shown with -s: what ffmpeg made of it
        assert tag == "hevc/hvc1", damaged.name
        assert errors != "" or frames < sent, (damaged.name, frames, sent)
