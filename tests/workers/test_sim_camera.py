"""The simulated camera itself: an edge recorder with several channels, killable and restartable."""

from __future__ import annotations

import pytest

from demo.rtsp_sim import SimCamera, SimCameraError, port_answers
from tests.waiting import patience
from workers.probe_camera import probe_camera
from workers.segmenter import probe


def test_an_edge_recorder_serves_every_channel_on_one_port(camera: SimCamera):
    for channel in ("cam1", "cam2"):
        result = probe_camera(camera.url(channel), timeout=patience(8))
        assert result.ok, f"{channel}: {result.message}"
        assert result.width == 768


def test_it_can_be_killed_and_comes_back_on_the_same_port(own_camera: SimCamera):
    port = own_camera.port
    own_camera.kill()
    assert not port_answers("127.0.0.1", port)
    assert probe_camera(own_camera.url("cam1"), timeout=2).trouble == "network"
    own_camera.start()
    assert own_camera.port == port
    assert probe_camera(own_camera.url("cam1"), timeout=patience(8)).ok


def test_a_mount_is_a_loop_of_the_file_without_re_encoding(camera: SimCamera, vtest, tmp_path):
    import subprocess

    out = tmp_path / "grab.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", camera.url("cam2"),
         "-t", "3", "-c", "copy", str(out)],
        check=True, timeout=patience(20),
    )  # fmt: skip
    assert probe(out).codec_parameters == probe(vtest).codec_parameters


def test_a_missing_file_is_an_error_at_start(tmp_path):
    with pytest.raises(SimCameraError):
        SimCamera(mounts={"cam1": tmp_path / "missing.mp4"}).start(timeout=5)
