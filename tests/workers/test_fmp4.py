"""The live feed's fMP4 splitter on real ffmpeg output: init segment, one fragment per frame, keyframe
flags that agree with ffprobe, RFC 6381 codec strings, and bounded parsing of bad input."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from workers import fmp4
from workers.segmenter import probe

LIVE_MOVFLAGS = "+empty_moov+default_base_moof+frag_every_frame"  # as the recorder's live output


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def keyframe_flags(path: Path) -> list[bool]:
    """ffprobe's view: the key flag of every video packet, in order."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return ["K" in packet["flags"] for packet in json.loads(out)["packets"]]


@pytest.fixture(scope="module")
def h264(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fmp4") / "h264.mp4"
    ffmpeg(
        "-t", "7", "-i", str(vtest), "-map", "0:v:0", "-c", "copy", "-f", "mp4", "-movflags", LIVE_MOVFLAGS, str(out)
    )
    return out


@pytest.fixture(scope="module")
def h264_aac(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fmp4") / "h264_aac.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "5", "-i", str(vtest),
        "-map", "1:v:0", "-map", "0:a:0", "-c:v", "copy", "-c:a", "aac", "-t", "5",
        "-f", "mp4", "-movflags", LIVE_MOVFLAGS, str(out),
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def hevc(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fmp4") / "hevc.mp4"
    ffmpeg(
        "-t", "3", "-i", str(vtest), "-c:v", "libx265", "-preset", "ultrafast",
        "-x265-params", "log-level=error:keyint=10:min-keyint=10:scenecut=0", "-tag:v", "hvc1",
        "-f", "mp4", "-movflags", LIVE_MOVFLAGS, str(out),
    )  # fmt: skip
    return out


def pieces(path: Path) -> tuple[fmp4.Init, list[fmp4.Fragment]]:
    with path.open("rb") as stream:
        parts = list(fmp4.split(stream))
    init, fragments = parts[0], parts[1:]
    assert isinstance(init, fmp4.Init)
    assert all(isinstance(f, fmp4.Fragment) for f in fragments)
    return init, fragments


def test_h264_splits_into_an_init_and_one_fragment_per_frame_with_ffprobes_keyframes(h264):
    init, fragments = pieces(h264)
    source = probe(h264)
    assert (source.codec, source.profile, source.level) == ("h264", "Main", 31)
    assert init.codecs == "avc1.4d401f"  # Main = 0x4d, level 3.1 = 0x1f
    assert init.meta() == {"mime": 'video/mp4; codecs="avc1.4d401f"', "video": "h264", "audio": False}
    assert init.data.startswith(b"\x00\x00\x00") and init.data[4:8] == b"ftyp"
    flags = keyframe_flags(h264)
    assert [f.keyframe for f in fragments] == flags
    assert sum(flags) >= 3  # a 2 s GOP over 7 s: the test compares something


def test_a_late_joiner_from_a_keyframe_gets_a_playable_stream(h264, tmp_path):
    init, fragments = pieces(h264)
    second_key = [i for i, f in enumerate(fragments) if f.keyframe][1]
    joined = tmp_path / "joined.mp4"
    joined.write_bytes(init.data + b"".join(f.data for f in fragments[second_key:]))
    info = probe(joined)
    assert info.ok, info.error
    assert info.packets == len(fragments) - second_key
    decoded = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(joined), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.returncode == 0 and decoded.stderr == ""


def test_audio_gets_its_codec_string_and_audio_fragments_are_never_keyframes(h264_aac):
    init, fragments = pieces(h264_aac)
    assert init.codecs == "avc1.4d401f,mp4a.40.2"  # AAC LC
    assert init.meta()["audio"] is True
    audio_only = [f for f in fragments if not f.video]
    assert audio_only and not any(f.keyframe for f in audio_only)
    assert [f.keyframe for f in fragments if f.video] == keyframe_flags(h264_aac)


def test_hevc_gets_an_hvc1_codec_string_and_its_keyframes(hevc):
    init, fragments = pieces(hevc)
    assert init.meta()["video"] == "hevc"
    # Main profile (1), compatible with Main and Main 10 (bit-reversed flags 6), main tier, then the level.
    assert init.codecs.startswith("hvc1.1.6.L")
    level = int(init.codecs.split(".")[3][1:])
    assert level in (60, 63, 90, 93, 120)
    flags = keyframe_flags(hevc)
    assert [f.keyframe for f in fragments if f.video] == flags
    assert sum(flags) >= 3


def test_an_oversized_box_is_refused_before_it_is_read():
    stream = io.BytesIO(fmp4.box(b"ftyp", b"isom") + (64 * 1024 * 1024).to_bytes(4, "big") + b"mdat")
    boxes = fmp4.read_boxes(stream, max_box=1024 * 1024)
    assert next(boxes).type == b"ftyp"
    with pytest.raises(fmp4.Fmp4Error, match="limit"):
        next(boxes)
    assert stream.tell() == 20  # only the header was read


def test_bad_sizes_and_a_fragment_before_the_init_are_refused():
    with pytest.raises(fmp4.Fmp4Error, match="smaller"):
        list(fmp4.read_boxes(io.BytesIO(b"\x00\x00\x00\x04moof")))
    with pytest.raises(fmp4.Fmp4Error, match="without a size"):
        list(fmp4.read_boxes(io.BytesIO(b"\x00\x00\x00\x00mdat")))
    with pytest.raises(fmp4.Fmp4Error, match="before the init"):
        list(fmp4.split(io.BytesIO(fmp4.box(b"moof", b"") + fmp4.box(b"mdat", b"x"))))


def test_a_box_cut_off_by_the_end_of_the_stream_is_dropped(h264):
    whole = list(fmp4.split(io.BytesIO(h264.read_bytes())))
    data = b"".join(p.data for p in whole)  # the pieces, without the trailer (mfra)
    cut = list(fmp4.split(io.BytesIO(data[:-10])))
    assert len(cut) == len(whole) - 1
    assert [p.data for p in cut] == [p.data for p in whole[:-1]]


def test_codec_strings_of_hand_made_configurations():
    # HEVC Main 10, high tier, level 5.1 (153), progressive-only constraint byte.
    hvcc = bytes([1, 0x22]) + (0x20000000).to_bytes(4, "big") + bytes([0x90, 0, 0, 0, 0, 0, 153])
    assert fmp4.hevc_parameters(hvcc) == "2.4.H153.90"
    # esds of AAC HE (audio object type 5).
    dsi = bytes([0x05, 0x02, 0x2B, 0x10])
    dcd = bytes([0x04, 13 + len(dsi), 0x40, 0x15]) + bytes(11) + dsi
    es = bytes([0x03, 3 + len(dcd), 0, 1, 0]) + dcd
    assert fmp4.esds_codec(bytes(4) + es) == "mp4a.40.5"
