"""Media fixtures: the real footage (encoded by bin/setup) and real RTSP servers on loopback."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo.rtsp_sim import SimCamera

ROOT = Path(__file__).resolve().parents[2]
VTEST = ROOT / "var" / "media-fixtures" / "vtest.mp4"


@pytest.fixture(scope="session")
def vtest() -> Path:
    """768×576 H.264, 10 fps, 2 s GOP, people walking (opencv-doc's vtest.avi, re-encoded by bin/setup)."""
    if not VTEST.exists():
        pytest.fail(f"{VTEST} is missing: run bin/setup (it encodes the test footage once)")
    return VTEST


@pytest.fixture(scope="session")
def camera(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCamera]:
    """One shared simulated edge recorder: two video channels and an audio-only stream, never killed."""
    sim = SimCamera(
        mounts={"cam1": vtest, "cam2": vtest},
        audio_mounts=["audio"],
        log_path=tmp_path_factory.mktemp("sim") / "sim_camera.log",
    )
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def own_camera(vtest: Path, tmp_path: Path) -> Iterator[SimCamera]:
    """A simulated camera this test alone may kill and restart."""
    sim = SimCamera(mounts={"cam1": vtest}, log_path=tmp_path / "sim_camera.log")
    sim.start()
    yield sim
    sim.kill()


@pytest.fixture(scope="session")
def fragmented_segments(vtest: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """vtest cut into 5 s fragmented-MP4 files by stream copy, as the recorder writes them (offline)."""
    out = tmp_path_factory.mktemp("segments")
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(vtest), "-t", "30", "-map", "0:v:0", "-c", "copy",
            "-f", "segment", "-segment_time", "5", "-reset_timestamps", "1", "-segment_format", "mp4",
            "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof",
            str(out / "seg%03d.mp4"),
        ],
        check=True,
    )  # fmt: skip
    return sorted(out.glob("seg*.mp4"))


class FakeServer:
    """A TCP server on loopback that accepts and then either says nothing or sends non-RTSP bytes."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)  # kept open: a silent camera holds the connection
            if self.reply is not None:
                try:
                    conn.recv(4096)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def fake_server() -> Iterator[Callable[[bytes | None], FakeServer]]:
    servers: list[FakeServer] = []

    def make(reply: bytes | None) -> FakeServer:
        servers.append(FakeServer(reply))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
