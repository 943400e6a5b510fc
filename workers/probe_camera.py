"""Classify what is wrong with a camera URL, quickly, without ever blocking on a dead camera.

ffmpeg reports most RTSP failures as "Invalid data found when processing input", whether the camera
is silent, unreachable or talking nonsense, so the first steps are our own: a TCP connect (refused /
timeout / no route → network) and an RTSP OPTIONS exchange (no answer → network; an answer that is
not RTSP → garbage). Only then does ffprobe look at the stream (401 → credentials, 404 → wrong path,
no video track → not a video). Every step has a deadline; the whole probe is bounded by ``timeout``.

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
from urllib.parse import urlsplit, urlunsplit


class Problem(StrEnum):
    NONE = ""
    NETWORK = "network"  # refused, timed out, no route, no answer
    AUTH = "auth"  # the camera wants other credentials
    NOT_FOUND = "not_found"  # the camera answers but has no such stream path
    NOT_VIDEO = "not_video"  # the stream has no video track
    GARBAGE = "garbage"  # the other end does not speak RTSP or sends undecodable data


# Device trouble state for each problem (the values of devices.models.TroubleState).
TROUBLE_FOR_PROBLEM = {
    Problem.NONE: "",
    Problem.NETWORK: "network",
    Problem.AUTH: "unknown",
    Problem.NOT_FOUND: "unknown",
    Problem.NOT_VIDEO: "unknown",
    Problem.GARBAGE: "unknown",
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
    """The URL without its password, for messages that end up in logs and on pages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _rtsp_handshake(host: str, port: int, url: str, timeout: float) -> tuple[Problem, str] | None:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return Problem.NETWORK, f"connection refused by {host}:{port}"
    except TimeoutError:
        return Problem.NETWORK, f"no connection to {host}:{port} within {timeout:.0f} s"
    except OSError as exc:  # no route, DNS failure, network unreachable
        return Problem.NETWORK, f"cannot reach {host}:{port}: {exc.strerror or exc}"
    with sock:
        sock.settimeout(timeout)
        request = f"OPTIONS {redact(url)} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: cloudcam-probe\r\n\r\n"
        try:
            sock.sendall(request.encode())
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

    parts = urlsplit(url)
    rtsp = parts.scheme in ("rtsp", "rtsps")
    if rtsp:
        if not parts.hostname:
            return result(Problem.NETWORK, f"no host in {redact(url)}")
        step_timeout = max(1.0, timeout / 3)
        found = _rtsp_handshake(parts.hostname, parts.port or 554, url, step_timeout)
        if found:
            return result(*found)

    remaining = max(1.0, timeout - (time.monotonic() - started))
    cmd = [ffprobe, "-v", "error"]
    if rtsp:
        cmd += ["-rtsp_transport", "tcp", "-timeout", str(int(remaining * 1_000_000))]
    cmd += ["-analyzeduration", "3000000", "-probesize", "1000000"]
    cmd += ["-show_entries", "stream=codec_type,codec_name,width,height", "-of", "json", url]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=remaining + 1, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return result(Problem.NETWORK, f"no stream from {redact(url)} within {timeout:.0f} s")
    error = done.stderr.replace(url, redact(url)).strip()
    if done.returncode != 0:
        if re.search(r"\b401\b|Unauthorized", error):
            return result(Problem.AUTH, "the camera refused the user name or password (401)")
        if re.search(r"\b404\b|Not Found", error):
            return result(Problem.NOT_FOUND, f"the camera has no stream at {urlsplit(url).path or '/'} (404)")
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
