"""Start and stop the simulated camera (demo/sim_camera.py) from the project's Python.

The server runs under Debian's /usr/bin/python3 because python3-gi is only importable there. It is
started in its own session so that ``kill()`` can SIGKILL it and its ffmpeg feeders at once, as a
camera losing power would, and ``start()`` again brings it back on the same port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
SIM_CAMERA = Path(__file__).with_name("sim_camera.py")


class SimCameraError(RuntimeError):
    pass


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_answers(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class SimCamera:
    """An RTSP server on loopback with one mount per channel: one mount is a camera, several an edge recorder.

    ``mounts`` maps a mount name ("cam1") to an H.264 file looped without re-encoding;
    ``audio`` gives mounts a microphone ({"cam1": "aac"} or "pcmu", G.711); ``clock`` names mounts whose
    picture carries the wall clock (re-encoded, demo/sim_clock.py); ``audio_mounts`` are streams
    without video; ``auth`` is "user:password" for every mount.
    """

    mounts: dict[str, Path] = field(default_factory=dict)
    audio_mounts: Sequence[str] = ()
    audio: dict[str, str] = field(default_factory=dict)
    clock: Sequence[str] = ()  # mounts with the wall clock burned into the picture (demo/sim_clock.py)
    auth: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    python: str = SYSTEM_PYTHON
    log_path: Path | None = None
    stats_path: Path | None = None  # where the server counts its RTSP connections and sessions (stats())
    _process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.port:
            self.port = free_tcp_port(self.host)

    def url(self, mount: str, *, with_auth: bool = True) -> str:
        credentials = f"{self.auth}@" if (self.auth and with_auth) else ""
        return f"rtsp://{credentials}{self.host}:{self.port}/{mount.strip('/')}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> SimCamera:
        if self.running:
            return self
        cmd = [self.python, str(SIM_CAMERA), "--host", self.host, "--port", str(self.port)]
        for name, path in self.mounts.items():
            cmd += ["--mount", f"{name}={path}"]
        for name, codec in self.audio.items():
            cmd += ["--audio", f"{name}={codec}"]
        for name in self.clock:
            cmd += ["--clock", name]
        for name in self.audio_mounts:
            cmd += ["--audio-mount", name]
        if self.auth:
            cmd += ["--auth", self.auth]
        if self.stats_path is None:
            self.stats_path = Path(tempfile.mkdtemp(prefix="sim-camera-")) / "stats.json"
        cmd += ["--stats", str(self.stats_path)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(  # noqa: S603
                cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SimCameraError(f"sim_camera exited with {self._process.returncode}: {' '.join(cmd)}")
            if port_answers(self.host, self.port):
                return self
            time.sleep(0.05)
        self.kill()
        raise SimCameraError(f"sim_camera did not listen on {self.host}:{self.port} within {timeout}s")

    def stats(self) -> dict[str, int]:
        """What the running server has served: ``connections`` and ``sessions`` in all (since its start),
        ``open_connections`` and ``open_sessions`` (sessions held by connections still open) now."""
        try:
            return json.loads(self.stats_path.read_text()) if self.stats_path else {}
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def kill(self) -> None:
        """Power cut: SIGKILL the server and its feeders, no goodbye to connected clients."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def freeze(self) -> None:
        """A camera that hangs without hanging up: SIGSTOP the server and its feeders. Its connections
        stay open and nothing comes on them until thaw()."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """The frozen camera goes on (SIGCONT)."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGCONT)

    def _signal(self, sig: int) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=5)
        self._process = None
        # The port is only reusable once the kernel has released it; wait so that start() can rebind.
        deadline = time.monotonic() + 5
        while port_answers(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> SimCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
