"""Fragmented MP4, as the recorder's ffmpeg writes it for live view: split into what a player needs.

The live output of the recorder (``workers.segmenter``, ``movflags=empty_moov+frag_every_frame``) is a
stream of top-level boxes: ``ftyp`` + ``moov`` once (the *init segment*: codecs, no samples), then one
``moof`` + ``mdat`` pair per frame (a *fragment*). A browser's Media Source Extensions take exactly these
pieces: the init segment first, then fragments, and a viewer joining late must start at a fragment whose
first video sample is a keyframe.

``read_boxes`` reads top-level boxes from a pipe with every size bounded (a box over ``MAX_BOX`` is
refused, never allocated); ``Splitter`` turns boxes into an ``Init`` (with the RFC 6381 codec strings
``MediaSource.isTypeSupported`` wants: ``avc1.64001f``, ``hvc1.1.6.L93.B0``, ``mp4a.40.2``) and
``Fragment`` s flagged as starting with a keyframe or not. Django-free: bytes in, dataclasses out.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_BOX = 8 * 1024 * 1024  # one frame of a 4K camera is well under this; anything larger is refused
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"edts", b"dinf"}


class Fmp4Error(ValueError):
    """The stream is not fragmented MP4 as expected (a bad size, a box too large, a fragment before init)."""


@dataclass(frozen=True)
class Box:
    type: bytes
    data: bytes  # the whole box, header included

    @property
    def payload(self) -> bytes:
        return self.data[_header_size(self.data) :]


def _header_size(data: bytes) -> int:
    return 16 if int.from_bytes(data[:4], "big") == 1 else 8


def read_exact(stream: BinaryIO, size: int) -> bytes:
    """``size`` bytes from ``stream`` (fewer only at its end)."""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_boxes(stream: BinaryIO, *, max_box: int = MAX_BOX) -> Iterator[Box]:
    """The top-level boxes of ``stream`` until its end. A box larger than ``max_box``, a size smaller than
    its header or a "to the end of the file" box (size 0: never ends on a live pipe) raises Fmp4Error;
    a box cut off by the end of the stream is dropped (the writer died mid-box)."""
    while True:
        header = read_exact(stream, 8)
        if len(header) < 8:
            return
        size = int.from_bytes(header[:4], "big")
        if size == 1:
            large = read_exact(stream, 8)
            if len(large) < 8:
                return
            header += large
            size = int.from_bytes(large, "big")
        if size == 0:
            raise Fmp4Error("box without a size (to the end of the stream)")
        if size < len(header):
            raise Fmp4Error(f"box size {size} smaller than its header")
        if size > max_box:
            raise Fmp4Error(f"{header[4:8]!r} box of {size} bytes is over the {max_box} byte limit")
        body = read_exact(stream, size - len(header))
        if len(body) < size - len(header):
            return
        yield Box(type=header[4:8], data=header + body)


def children(payload: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of the boxes packed in ``payload``; stops at the first inconsistent size."""
    offset = 0
    while offset + 8 <= len(payload):
        size = int.from_bytes(payload[offset : offset + 4], "big")
        kind = payload[offset + 4 : offset + 8]
        header = 8
        if size == 1 and offset + 16 <= len(payload):
            size = int.from_bytes(payload[offset + 8 : offset + 16], "big")
            header = 16
        elif size == 0:
            size = len(payload) - offset
        if size < header or offset + size > len(payload):
            return
        yield kind, payload[offset + header : offset + size]
        offset += size


def find(payload: bytes, *path: bytes) -> bytes | None:
    """The payload of the first box at ``path`` (e.g. b"mdia", b"hdlr") inside ``payload``."""
    if not path:
        return payload
    for kind, inner in children(payload):
        if kind == path[0]:
            found = find(inner, *path[1:])
            if found is not None:
                return found
    return None


# --- the init segment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    track_id: int
    kind: str  # "video" | "audio" | other handler types as they are
    codec: str  # RFC 6381: avc1.64001f, hvc1.1.6.L93.B0, mp4a.40.2 (the sample entry's fourcc otherwise)


@dataclass(frozen=True)
class Init:
    data: bytes  # ftyp + moov, to append to a SourceBuffer first
    tracks: tuple[Track, ...]
    default_flags: dict[int, int] = field(default_factory=dict)  # track id → trex default_sample_flags

    @property
    def video(self) -> Track | None:
        return next((t for t in self.tracks if t.kind == "video"), None)

    @property
    def audio(self) -> Track | None:
        return next((t for t in self.tracks if t.kind == "audio"), None)

    @property
    def codecs(self) -> str:
        return ",".join(t.codec for t in self.tracks if t.kind in ("video", "audio"))

    @property
    def mime(self) -> str:
        return f'video/mp4; codecs="{self.codecs}"'

    def meta(self) -> dict:
        """What a player needs to know before the init segment (the live feed's "M" message)."""
        video = self.video
        family = ""
        if video is not None:
            family = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc"}.get(video.codec[:4], video.codec)
        return {"mime": self.mime, "video": family, "audio": self.audio is not None}


def parse_init(data: bytes) -> Init:
    """The tracks of an init segment (ftyp + moov) with their codec strings."""
    moov = None
    for kind, payload in children(data):
        if kind == b"moov":
            moov = payload
    if moov is None:
        raise Fmp4Error("init segment without moov")
    tracks = []
    for kind, trak in children(moov):
        if kind != b"trak":
            continue
        tkhd = find(trak, b"tkhd")
        hdlr = find(trak, b"mdia", b"hdlr")
        stsd = find(trak, b"mdia", b"minf", b"stbl", b"stsd")
        if tkhd is None or hdlr is None or stsd is None or len(hdlr) < 12 or len(stsd) < 8:
            continue
        track_id = int.from_bytes(tkhd[12:16] if tkhd[0] == 0 else tkhd[20:24], "big")
        handler = hdlr[8:12]
        kind_name = {b"vide": "video", b"soun": "audio"}.get(handler, handler.decode("latin-1"))
        entries = list(children(stsd[8:]))  # full box header + entry count
        if not entries:
            continue
        fourcc, entry = entries[0]
        tracks.append(Track(track_id=track_id, kind=kind_name, codec=codec_string(fourcc, entry, kind_name)))
    defaults = {}
    for kind, trex in children(find(moov, b"mvex") or b""):
        if kind == b"trex" and len(trex) >= 24:
            defaults[int.from_bytes(trex[4:8], "big")] = int.from_bytes(trex[20:24], "big")
    return Init(data=data, tracks=tuple(tracks), default_flags=defaults)


VISUAL_SAMPLE_ENTRY = 78  # bytes before a visual sample entry's child boxes (ISO/IEC 14496-12 12.1.3)
AUDIO_SAMPLE_ENTRY = 28  # ... an audio sample entry's (version 0; QuickTime versions 1 and 2 add 16 / 36)


def codec_string(fourcc: bytes, entry: bytes, kind: str) -> str:
    name = fourcc.decode("latin-1")
    if kind == "video":
        boxes = dict(children(entry[VISUAL_SAMPLE_ENTRY:]))
        if fourcc in (b"avc1", b"avc3") and len(boxes.get(b"avcC", b"")) >= 4:
            avcc = boxes[b"avcC"]
            return f"{name}.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"
        if fourcc in (b"hvc1", b"hev1") and len(boxes.get(b"hvcC", b"")) >= 13:
            return f"{name}.{hevc_parameters(boxes[b'hvcC'])}"
        return name
    if kind == "audio" and len(entry) >= AUDIO_SAMPLE_ENTRY:
        version = int.from_bytes(entry[8:10], "big")
        skip = AUDIO_SAMPLE_ENTRY + {1: 16, 2: 36}.get(version, 0)
        boxes = dict(children(entry[skip:]))
        if fourcc == b"mp4a" and b"esds" in boxes:
            return esds_codec(boxes[b"esds"]) or name
        if fourcc == b"Opus":
            return "opus"
    return name


def hevc_parameters(hvcc: bytes) -> str:
    """The part of an HEVC codec string after "hvc1." (ISO/IEC 14496-15 annex E): profile space and
    profile, compatibility flags (bit-reversed, hex), tier and level, then the constraint bytes up to
    the last non-zero one. E.g. 1.6.L93.B0 for Main, level 3.1."""
    general = hvcc[1]
    space = "ABC"[(general >> 6) - 1] if general >> 6 else ""
    tier = "H" if general & 0x20 else "L"
    profile = general & 0x1F
    compatibility = int.from_bytes(hvcc[2:6], "big")
    reversed_flags = int(f"{compatibility:032b}"[::-1], 2)
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = hvcc[12]
    parts = [f"{space}{profile}", f"{reversed_flags:X}", f"{tier}{level}"]
    parts += [f"{byte:X}" for byte in constraints]
    return ".".join(parts)


def _descriptor(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, payload offset, payload length) of the MPEG-4 descriptor at ``offset``."""
    tag = data[offset]
    offset += 1
    length = 0
    for _ in range(4):
        byte = data[offset]
        offset += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, offset, length


def esds_codec(esds: bytes) -> str:
    """ "mp4a.40.2" and the like from an esds box (ES_Descriptor → DecoderConfig → DecoderSpecificInfo)."""
    try:
        tag, offset, _ = _descriptor(esds, 4)  # after the full box's version and flags
        if tag != 0x03:
            return ""
        flags = esds[offset + 2]
        offset += 3
        if flags & 0x80:
            offset += 2
        if flags & 0x40:
            offset += 1 + esds[offset]
        if flags & 0x20:
            offset += 2
        tag, offset, _ = _descriptor(esds, offset)
        if tag != 0x04:
            return ""
        object_type = esds[offset]
        if object_type != 0x40:  # not MPEG-4 audio: the object type alone
            return f"mp4a.{object_type:02x}"
        tag, offset, length = _descriptor(esds, offset + 13)
        if tag != 0x05 or length < 1:
            return "mp4a.40"
        audio_object_type = esds[offset] >> 3
        if audio_object_type == 31 and length >= 2:
            audio_object_type = 32 + (((esds[offset] & 0x07) << 3) | (esds[offset + 1] >> 5))
        return f"mp4a.40.{audio_object_type}"
    except IndexError:
        return ""


# --- fragments -----------------------------------------------------------------------------------

NON_SYNC = 0x00010000  # sample_is_non_sync_sample in the sample flags (ISO/IEC 14496-12 8.8.3.1)


@dataclass(frozen=True)
class Fragment:
    data: bytes  # moof + mdat (and any box between them), to append as it is
    keyframe: bool  # its first video sample is a sync sample: a player may start here
    video: bool  # it carries video samples (an audio-only fragment is never a keyframe)


def first_sample_is_sync(traf: bytes, trex_flags: int | None = None) -> bool | None:
    """Whether the first sample of a track fragment is a sync sample; None when it has no samples."""
    tfhd = find(traf, b"tfhd")
    if tfhd is None or len(tfhd) < 8:
        return None
    flags = int.from_bytes(tfhd[1:4], "big")
    offset = 8  # version/flags + track_ID
    default_flags = None
    for bit, size in ((0x01, 8), (0x02, 4), (0x08, 4), (0x10, 4)):
        if flags & bit:
            offset += size
    if flags & 0x20 and len(tfhd) >= offset + 4:
        default_flags = int.from_bytes(tfhd[offset : offset + 4], "big")
    sample_flags = default_flags
    samples = 0
    for kind, trun in children(traf):
        if kind != b"trun" or len(trun) < 8:
            continue
        trun_flags = int.from_bytes(trun[1:4], "big")
        count = int.from_bytes(trun[4:8], "big")
        if count == 0:
            continue
        samples += count
        pos = 8
        if trun_flags & 0x01:  # data offset
            pos += 4
        if trun_flags & 0x04:  # first sample flags
            return not int.from_bytes(trun[pos : pos + 4], "big") & NON_SYNC
        if trun_flags & 0x100:
            pos += 4
        if trun_flags & 0x200:
            pos += 4
        if trun_flags & 0x400:  # per-sample flags: the first one
            return not int.from_bytes(trun[pos : pos + 4], "big") & NON_SYNC
        break
    if samples == 0:
        return None
    if sample_flags is None:
        sample_flags = trex_flags or 0  # the movie's default for the track (mvex/trex)
    return not sample_flags & NON_SYNC


def fragment_flags(moof: bytes, video_track: int | None, trex_flags: int | None = None) -> tuple[bool, bool]:
    """(keyframe, has video) for one moof payload."""
    for kind, traf in children(moof):
        if kind != b"traf":
            continue
        tfhd = find(traf, b"tfhd")
        if tfhd is None or len(tfhd) < 8:
            continue
        if video_track is not None and int.from_bytes(tfhd[4:8], "big") != video_track:
            continue
        sync = first_sample_is_sync(traf, trex_flags)
        if sync is not None:
            return sync, True
    return False, False


@dataclass
class Splitter:
    """Top-level boxes in, ``Init`` and ``Fragment`` out. Boxes before the moov (ftyp) join the init
    segment; a moof opens a fragment that its mdat closes; anything else (styp, sidx, mfra) is dropped."""

    init: Init | None = None
    _pending_init: list[bytes] = field(default_factory=list)
    _moof: list[bytes] = field(default_factory=list)
    _flags: tuple[bool, bool] = (False, False)

    def push(self, box: Box) -> Init | Fragment | None:
        if box.type == b"ftyp":
            self._pending_init = [box.data]
            return None
        if box.type == b"moov":
            self.init = parse_init(b"".join([*self._pending_init, box.data]))
            self._pending_init = []
            return self.init
        if box.type == b"moof":
            if self.init is None:
                raise Fmp4Error("a fragment before the init segment")
            video = self.init.video
            track = video.track_id if video else None
            self._flags = fragment_flags(box.payload, track, self.init.default_flags.get(track))
            self._moof = [box.data]
            return None
        if box.type == b"mdat" and self._moof:
            data = b"".join([*self._moof, box.data])
            self._moof = []
            keyframe, has_video = self._flags
            return Fragment(data=data, keyframe=keyframe, video=has_video)
        return None


def split(stream: BinaryIO, *, max_box: int = MAX_BOX) -> Iterator[Init | Fragment]:
    """Init segments and fragments of an fMP4 stream, in order, until its end."""
    splitter = Splitter()
    for box in read_boxes(stream, max_box=max_box):
        piece = splitter.push(box)
        if piece is not None:
            yield piece


def box(kind: bytes, payload: bytes) -> bytes:
    """One box from its type and payload (for synthetic streams)."""
    return struct.pack(">I", len(payload) + 8) + kind + payload
