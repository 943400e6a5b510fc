"""Classify what is wrong with a camera URL, quickly, without ever blocking on a dead camera.

ffmpeg reports most RTSP failures as "Invalid data found when processing input", whether the camera
is silent, unreachable or talking nonsense, so the first steps are our own: a TCP connect (refused /
timeout / no route → network) and an RTSP OPTIONS exchange (no answer → network; an answer that is
not RTSP → garbage). Only then does ffprobe look at the stream (401 → credentials, 404 → wrong path,
no video track → not a video). Every step has a deadline; the whole probe is bounded by ``timeout``.

The URL is a tenant's word: it passes the outbound-connection policy (workers/netpolicy.py) first, and
the TCP connect and ffprobe use only the addresses checked then (a refusal is ``Problem.REFUSED``).

``Problem`` is the precise cause (for the message); ``trouble`` maps it onto the device trouble states
of devices.models.TroubleState ("network", "unknown"; "" when the camera is fine).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from workers import netpolicy
from workers.redaction import redact as _redact
from workers.redaction import url_secrets


class Problem(StrEnum):
    NONE = ""
    NETWORK = "network"  # refused, timed out, no route, no answer
    AUTH = "auth"  # the camera wants other credentials
    NOT_FOUND = "not_found"  # the camera answers but has no such stream path
    NOT_VIDEO = "not_video"  # the stream has no video track
    GARBAGE = "garbage"  # the other end does not speak RTSP or sends undecodable data
    REFUSED = "refused"  # the outbound-connection policy refuses the address (workers/netpolicy.py)


# Device trouble state for each problem (the values of devices.models.TroubleState).
TROUBLE_FOR_PROBLEM = {
    Problem.NONE: "",
    Problem.NETWORK: "network",
    Problem.AUTH: "unknown",
    Problem.NOT_FOUND: "unknown",
    Problem.NOT_VIDEO: "unknown",
    Problem.GARBAGE: "unknown",
    Problem.REFUSED: "unknown",
}


@dataclass(frozen=True)
class CameraProbe:
    problem: Problem
    message: str  # English, for logs and staff pages; user-facing text is chosen from ``problem``
    elapsed: float
    codec: str = ""
    width: int = 0
    height: int = 0

    @property
    def ok(self) -> bool:
        return self.problem == Problem.NONE

    @property
    def trouble(self) -> str:
        return TROUBLE_FOR_PROBLEM[self.problem]


def redact(url: str) -> str:
    """The URL without its password, for messages that end up in logs and on pages (workers.redaction)."""
    return _redact(url)


def _rtsp_handshake(target: netpolicy.Target, timeout: float) -> tuple[Problem, str] | None:
    """TCP connect to the checked addresses only, then one RTSP OPTIONS. The request line carries the
    cleaned URL (no control character can be in it: netpolicy refused those), without its password."""
    host, port = target.host, target.port
    request = f"OPTIONS {redact(target.url)} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: cloudcam-probe\r\n\r\n".encode()
    if request.count(b"\r\n") != 4 or not request.isascii():  # defence in depth: one request, nothing smuggled
        return Problem.REFUSED, "the URL cannot be sent in an RTSP request"
    sock = None
    error: OSError | None = None
    for address in target.addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
            break
        except OSError as exc:
            error = exc
    if sock is None:
        if isinstance(error, ConnectionRefusedError):
            return Problem.NETWORK, f"connection refused by {host}:{port}"
        if isinstance(error, TimeoutError):
            return Problem.NETWORK, f"no connection to {host}:{port} within {timeout:.0f} s"
        return Problem.NETWORK, f"cannot reach {host}:{port}: {getattr(error, 'strerror', None) or error}"
    with sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(request)
            reply = sock.recv(1024)
        except TimeoutError:
            return Problem.NETWORK, f"{host}:{port} accepted the connection but did not answer within {timeout:.0f} s"
        except OSError as exc:
            return Problem.NETWORK, f"connection to {host}:{port} failed: {exc.strerror or exc}"
    if not reply:
        return Problem.NETWORK, f"{host}:{port} closed the connection without answering"
    if not reply.startswith(b"RTSP/"):
        return Problem.GARBAGE, f"{host}:{port} does not answer in RTSP"
    return None


def probe_camera(url: str, *, timeout: float = 8.0, ffprobe: str = "ffprobe") -> CameraProbe:
    """Probe ``url`` and say what is wrong, within about ``timeout`` seconds."""
    started = time.monotonic()

    def result(problem: Problem, message: str, **stream: object) -> CameraProbe:
        return CameraProbe(problem=problem, message=message, elapsed=time.monotonic() - started, **stream)

    secrets = url_secrets(url)
    try:
        # Checked once, right before connecting; the handshake and ffprobe use the checked addresses.
        target = netpolicy.current().connect(url, schemes=netpolicy.STREAM_SCHEMES)
    except netpolicy.Refused as exc:
        problem = Problem.NETWORK if exc.code == "resolve" else Problem.REFUSED
        return result(problem, _redact(exc.message, secrets))
    step_timeout = max(1.0, timeout / 3)
    found = _rtsp_handshake(target, step_timeout)
    if found:
        return result(found[0], _redact(found[1], secrets))

    remaining = max(1.0, timeout - (time.monotonic() - started))
    cmd = [ffprobe, "-v", "error", "-protocol_whitelist", netpolicy.CAMERA_PROTOCOLS]
    cmd += ["-rtsp_transport", "tcp", "-timeout", str(int(remaining * 1_000_000))]
    cmd += ["-analyzeduration", "3000000", "-probesize", "1000000"]
    cmd += ["-show_entries", "stream=codec_type,codec_name,width,height", "-of", "json", target.pinned_url]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=remaining + 1, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return result(Problem.NETWORK, f"no stream from {redact(target.url)} within {timeout:.0f} s")
    error = _redact(done.stderr, secrets).strip()
    if done.returncode != 0:
        if re.search(r"\b401\b|Unauthorized", error):
            return result(Problem.AUTH, "the camera refused the user name or password (401)")
        if re.search(r"\b404\b|Not Found", error):
            return result(Problem.NOT_FOUND, f"the camera has no stream at {urlsplit(target.url).path or '/'} (404)")
        if re.search(r"Connection refused", error):
            return result(Problem.NETWORK, "connection refused")
        if re.search(r"timed out|Operation not permitted|Network is unreachable|No route", error):
            return result(Problem.NETWORK, error.splitlines()[-1])
        return result(Problem.GARBAGE, error.splitlines()[-1] if error else "the stream cannot be read")
    try:
        streams = json.loads(done.stdout or "{}").get("streams", [])
    except json.JSONDecodeError:
        streams = []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        kinds = ", ".join(sorted({s.get("codec_type", "?") for s in streams})) or "nothing"
        return result(Problem.NOT_VIDEO, f"the stream has no video (it carries {kinds})")
    return result(
        Problem.NONE,
        "ok",
        codec=video.get("codec_name", ""),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
    )
