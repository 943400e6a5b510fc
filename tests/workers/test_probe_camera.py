"""Trouble classification of camera URLs: each fault is recognised, quickly, and never hangs."""

from __future__ import annotations

import pytest

from demo.rtsp_sim import SimCamera, free_tcp_port
from tests.waiting import patience, returns_within
from workers.probe_camera import Problem, probe_camera, redact


@pytest.fixture(scope="module")
def locked_camera(vtest, tmp_path_factory):
    sim = SimCamera(mounts={"cam1": vtest}, auth="alice:s3cret", log_path=tmp_path_factory.mktemp("auth") / "sim.log")
    sim.start()
    yield sim
    sim.stop()


def test_a_working_camera_reports_its_video(camera: SimCamera):
    result = probe_camera(camera.url("cam1"), timeout=patience(8))
    assert result.ok and result.trouble == ""
    assert (result.codec, result.width, result.height) == ("h264", 768, 576)


def test_nothing_listening_is_a_network_trouble_at_once():
    # At once: on the refused connection, not when the (long) deadline runs out.
    result = probe_camera(f"rtsp://127.0.0.1:{free_tcp_port()}/cam1", timeout=patience(60))
    assert result.problem == Problem.NETWORK and result.trouble == "network"
    assert "refused" in result.message


def test_a_camera_that_never_answers_times_out_as_network(fake_server):
    silent = fake_server(None)
    result = returns_within(lambda: probe_camera(f"rtsp://127.0.0.1:{silent.port}/cam1", timeout=3), timeout=3)
    assert result.problem == Problem.NETWORK
    assert "did not answer" in result.message  # its own deadline ended it


def test_a_server_sending_garbage_is_garbage(fake_server):
    noisy = fake_server(b"\x00\xff\x13garbage garbage\r\n\r\n" * 20)
    result = probe_camera(f"rtsp://127.0.0.1:{noisy.port}/cam1", timeout=patience(3))
    assert result.problem == Problem.GARBAGE and result.trouble == "unknown"


def test_a_stream_without_video_is_not_video(camera: SimCamera):
    result = probe_camera(camera.url("audio"), timeout=patience(8))
    assert result.problem == Problem.NOT_VIDEO and result.trouble == "unknown"
    assert "audio" in result.message


def test_a_wrong_path_is_not_found(camera: SimCamera):
    assert probe_camera(camera.url("cam9"), timeout=patience(8)).problem == Problem.NOT_FOUND


def test_wrong_or_missing_credentials_are_an_auth_problem_without_leaking_the_password(locked_camera):
    port = locked_camera.port
    assert probe_camera(f"rtsp://127.0.0.1:{port}/cam1", timeout=patience(8)).problem == Problem.AUTH
    wrong = probe_camera(f"rtsp://alice:hunter2@127.0.0.1:{port}/cam1", timeout=patience(8))
    assert wrong.problem == Problem.AUTH and wrong.trouble == "unknown"
    assert "hunter2" not in wrong.message
    assert probe_camera(locked_camera.url("cam1"), timeout=patience(8)).ok


def test_redact_hides_only_the_password():
    assert redact("rtsp://alice:pw@cam.local:554/s") == "rtsp://alice:***@cam.local:554/s"
    assert redact("rtsp://cam.local/s") == "rtsp://cam.local/s"
