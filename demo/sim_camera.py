"""A simulated IP camera / edge recorder: a real RTSP server on loopback (GStreamer gst-rtsp-server).

Runs under Debian's /usr/bin/python3 (python3-gi is not importable from the project's .venv), so it
imports only gi and the standard library; start it from Python through demo.rtsp_sim.SimCamera.

Each ``--mount NAME=FILE`` loops an H.264 or H.265 (HEVC) file without re-encoding: an ffmpeg child reads the file in
real time (``-re -stream_loop -1 -c copy``) and sends MPEG-TS over UDP to a local port, and the mount
depayloads that into RTP. Feeding a *live* UDP source is what makes every client see the same "now"
like a real camera, and ``tsdemux ignore-pcr=true latency=0`` avoids a 15 s first-frame delay.
``--clock NAME`` re-encodes mount NAME
with the wall clock burned into the picture (text with milliseconds and a row of black and white
blocks, demo/sim_clock.py), H.264 with a keyframe every second, for latency tests and the bench.
``--audio NAME=CODEC`` gives mount NAME a microphone too (a 440 Hz tone made by GStreamer): ``aac`` (what
MP4 and HLS players play, recorded by stream copy) or ``pcmu`` (G.711 μ-law, as many cameras send it,
which the recorder transcodes to AAC). ``--audio-mount NAME`` serves a stream with no video track (for
"not a video" probes), and ``--auth USER:PASSWORD`` puts every mount behind HTTP basic auth (for
credential probes). ``--stats FILE`` keeps FILE up to date with what the camera serves (JSON: RTSP
connections open and in all, sessions set up in all and held by open connections), so a test can count
the sessions a recorder opens ("one camera connection serves everyone").

Usage: /usr/bin/python3 demo/sim_camera.py --port 8554 --mount cam1=var/media-fixtures/vtest.mp4
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading

import gi
import sim_clock

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # The feeder must not outlive the server, even when the server is SIGKILLed in a fault test.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# RTP of each video codec a mount may loop (the file's codec, asked of ffprobe): parser and payloader.
VIDEO_RTP = {
    "h264": "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=1",
    "hevc": "h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96 config-interval=1",
}


def video_codec(path: str, ffprobe: str = "ffprobe") -> str:
    """The codec of the file's first video stream, as ffprobe names it ("h264", "hevc"), "" if none."""
    result = subprocess.run(  # noqa: S603
        [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name"]
        + ["-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip().strip(",")


def start_feeder(path: str, udp_port: int, ffmpeg: str = "ffmpeg", *, clock: bool = False) -> subprocess.Popen:
    """Loop ``path`` in real time as MPEG-TS over UDP, by stream copy (the camera never re-encodes).

    No explicit ``-bsf:v h264_mp4toannexb``: with ``-stream_loop`` ffmpeg 5.1 feeds it a packet after
    EOF at the first loop and the stream dies; the MPEG-TS muxer inserts the filter itself correctly.
    """
    video = ["-map", "0:v:0", "-c", "copy"]
    if clock:
        # The clock is drawn on each decoded frame, so this mount is encoded again, as a camera's
        # sensor output is: no B-frames, no look-ahead, a keyframe every second.
        video = ["-filter_complex", sim_clock.filtergraph(), "-map", "[clocked]", "-c:v", "libx264"]
        video += ["-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"]
        video += ["-force_key_frames", "expr:gte(t,n_forced*1)"]
    cmd = [
        ffmpeg,
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-stream_loop",
        "-1",
        "-i",
        path,
        *video,
        "-f",
        "mpegts",
        f"udp://127.0.0.1:{udp_port}?pkt_size=1316",
    ]
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent)  # noqa: S603,PLW1509


# The camera's microphone: a live tone, encoded as the camera would send it (payload 1 of the mount).
AUDIO_TONE = "audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! audioconvert ! audioresample"
AUDIO = {
    "aac": f"{AUDIO_TONE} ! audio/x-raw,rate=16000,channels=1 ! voaacenc bitrate=32000 ! aacparse "
    "! rtpmp4gpay name=pay1 pt=97",
    "pcmu": f"{AUDIO_TONE} ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0",
}


def build_server(args: argparse.Namespace) -> tuple[GstRtspServer.RTSPServer, list[subprocess.Popen]]:
    server = GstRtspServer.RTSPServer()
    # Clients are served by a pool of threads, not one: a DESCRIBE waits for the mount's pipeline to
    # preroll (up to a GOP), and with one thread a dozen clients connecting at once (a recorder
    # starting every camera) would queue behind each other for tens of seconds.
    server.get_thread_pool().set_max_threads(32)
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    feeders: list[subprocess.Popen] = []

    auth = None
    if args.auth:
        user, _, password = args.auth.partition(":")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)

    def add(name: str, launch: str, *, live_only: bool = False) -> None:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        if live_only:
            # audiotestsrc answers that it can seek, so the client's PLAY (Range npt=0-) would seek the
            # live video too, which fails (503). This clock mode makes the media unseekable, as a camera is.
            factory.set_publish_clock_mode(GstRtspServer.RTSPPublishClockMode.CLOCK_AND_OFFSET)
        # Shared: every client (recorder, HLS, motion grabber) reads the same live pipeline, and the
        # UDP port is bound once.
        factory.set_shared(True)
        if auth is not None:
            permissions = GstRtspServer.RTSPPermissions()
            permissions.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
            permissions.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
            factory.set_permissions(permissions)
        mounts.add_factory("/" + name.strip("/"), factory)

    audio: dict[str, str] = {}
    for spec in args.audio:
        name, _, codec = spec.partition("=")
        if codec not in AUDIO:
            sys.exit(f"sim_camera: bad --audio {spec!r} (want NAME={'|'.join(AUDIO)})")
        audio[name] = AUDIO[codec]
    for spec in args.mount:
        name, _, path = spec.partition("=")
        if not name or not os.path.isfile(path):
            sys.exit(f"sim_camera: bad --mount {spec!r} (want NAME=EXISTING_FILE)")
        codec = video_codec(path, os.path.join(os.path.dirname(args.ffmpeg), "ffprobe"))
        if codec not in VIDEO_RTP:
            sys.exit(f"sim_camera: {path} is {codec or 'not a video'}, want {' or '.join(VIDEO_RTP)}")
        udp_port = _free_udp_port()
        feeders.append(start_feeder(path, udp_port, args.ffmpeg, clock=name in args.clock))
        add(
            name,
            f'( udpsrc port={udp_port} caps="video/mpegts,systemstream=(boolean)true" buffer-size=2097152 '
            f"! tsdemux ignore-pcr=true latency=0 ! {VIDEO_RTP[codec]} {audio.get(name, '')} )",
            live_only=name in audio,
        )
    for name in args.audio_mount:
        add(
            name,
            "( audiotestsrc is-live=true wave=sine ! audioconvert ! audio/x-raw,rate=8000,channels=1 "
            "! rtpL16pay name=pay0 pt=97 )",
        )
    return server, feeders


class Stats:
    """Counts of RTSP clients and sessions, written to a file on every change (atomically)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.connections = 0  # in all
        self.sessions = 0  # in all (a SETUP that made a session)
        self.open: dict[int, int] = {}  # open connection → sessions it set up
        self.write()

    def watch(self, server: GstRtspServer.RTSPServer) -> None:
        server.connect("client-connected", self._connected)

    def _connected(self, _server: object, client: GstRtspServer.RTSPClient) -> None:
        with self.lock:
            self.connections += 1
            key = self.connections
            self.open[key] = 0
            self.write()
        client.connect("new-session", self._session, key)
        client.connect("closed", self._closed, key)

    def _session(self, _client: object, _session: object, key: int) -> None:
        with self.lock:
            self.sessions += 1
            if key in self.open:
                self.open[key] += 1
            self.write()

    def _closed(self, _client: object, key: int) -> None:
        with self.lock:
            self.open.pop(key, None)
            self.write()

    def write(self) -> None:
        data = {
            "connections": self.connections,
            "open_connections": len(self.open),
            "sessions": self.sessions,
            "open_sessions": sum(self.open.values()),
        }
        partial = f"{self.path}.part"
        with open(partial, "w") as f:
            json.dump(data, f)
        os.replace(partial, self.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--mount", action="append", default=[], help="NAME=FILE: loop FILE (H.264/5) at rtsp://…/NAME")
    parser.add_argument("--audio", action="append", default=[], help="NAME=aac|pcmu: mount NAME has audio too")
    parser.add_argument("--clock", action="append", default=[], help="NAME: burn the wall clock into mount NAME")
    parser.add_argument("--audio-mount", action="append", default=[], help="NAME: an audio-only stream (no video)")
    parser.add_argument("--auth", default="", help="USER:PASSWORD required on every mount")
    parser.add_argument("--ffmpeg", default="ffmpeg")
    parser.add_argument("--stats", default="", help="FILE: keep the counts of RTSP connections and sessions there")
    args = parser.parse_args(argv)
    if not args.mount and not args.audio_mount:
        parser.error("give at least one --mount or --audio-mount")

    Gst.init(None)
    server, feeders = build_server(args)
    if args.stats:
        Stats(args.stats).watch(server)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        sys.exit(f"sim_camera: cannot listen on {args.host}:{args.port}")

    def stop(*_: object) -> bool:
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)

    def watch_feeders() -> bool:
        # A feeder that died (file gone, ffmpeg crashed) makes the camera useless: exit loudly.
        for feeder in feeders:
            if feeder.poll() is not None:
                print(f"sim_camera: feeder exited with {feeder.returncode}", file=sys.stderr)
                loop.quit()
                return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.timeout_add(500, watch_feeders)
    print(f"sim_camera: listening on rtsp://{args.host}:{args.port}", flush=True)
    try:
        loop.run()
    finally:
        for feeder in feeders:
            feeder.terminate()
        for feeder in feeders:
            try:
                feeder.wait(timeout=3)
            except subprocess.TimeoutExpired:
                feeder.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
