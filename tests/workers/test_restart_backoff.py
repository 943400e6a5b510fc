"""The recorder's restart rule (workers.segmenter.restart_delay, docs/user-guide.md "Live view"): a camera
that is gone is tried again every few seconds at most, so the recording and the live view resume within
seconds of its return (issue #18: a camera back after two minutes used to wait up to 30 s more); a camera
that answers with an error backs off further. Pure functions: no camera, no clock."""

from __future__ import annotations

from workers.segmenter import (
    GONE_RETRY_MAX,
    REJECTED_RETRY_MAX,
    Backoff,
    rejected_by_camera,
    restart_delay,
)


def test_a_camera_that_is_gone_is_tried_again_within_a_few_seconds_however_long_it_was_away():
    delays = [restart_delay(n) for n in range(1, 50)]
    assert delays[:4] == [1.0, 2.0, 4.0, GONE_RETRY_MAX]
    assert set(delays[3:]) == {GONE_RETRY_MAX}
    assert GONE_RETRY_MAX <= 5.0  # "within seconds": the wait after its return is at most this
    assert restart_delay(10**6) == GONE_RETRY_MAX  # days of outage: no float overflow


def test_a_camera_that_answers_with_an_error_backs_off_further_but_is_still_tried():
    delays = [restart_delay(n, rejected=True) for n in range(1, 12)]
    assert delays[:6] == [1.0, 2.0, 4.0, 8.0, 16.0, REJECTED_RETRY_MAX]
    assert max(delays) == REJECTED_RETRY_MAX == 30.0
    assert restart_delay(10**6, rejected=True) == REJECTED_RETRY_MAX


def test_never_under_one_second():
    # A restart within the same second would reuse the partial file's second-resolution name.
    assert restart_delay(0) == 1.0
    assert restart_delay(1, initial=0.1) == 1.0
    assert restart_delay(3, initial=0.1, gone_max=0.2) == 1.0


def test_the_count_starts_again_when_the_kind_of_failure_changes_or_a_run_recorded():
    backoff = Backoff()
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]  # gone, two minutes long
    # Back, rebooting: it answers 503 before its encoder is ready. Not a long wait for that.
    assert [backoff.next(rejected=True) for _ in range(3)] == [1.0, 2.0, 4.0]
    assert backoff.next() == 1.0  # gone again
    backoff.reset()  # a run recorded
    assert backoff.next(rejected=True) == 1.0
    assert Backoff(initial=1.0, maximum=2.0).next() == 1.0  # the tests' own short backoffs still hold
    short = Backoff(initial=1.0, maximum=1.0)
    assert [short.next() for _ in range(3)] == [1.0, 1.0, 1.0]


def test_an_rtsp_error_answer_or_the_address_policy_is_a_rejection_silence_is_not():
    # ffmpeg's own lines (libavformat/rtsp.c, libavutil/error.c) for a camera that answered.
    assert rejected_by_camera("x", ["[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized"])
    assert rejected_by_camera("x", ["rtsp://cam/x: Server returned 404 Not Found"])
    assert rejected_by_camera("x", ["rtsp://cam/x: Server returned 403 Forbidden (access denied)"])
    assert rejected_by_camera("x", ["rtsp://cam/x: Server returned 5XX Server Error reply"])
    assert rejected_by_camera("x", ["method SETUP failed: 461 Unsupported transport"])
    assert rejected_by_camera("refused: the address 10.0.0.1 is not allowed", [])
    # A camera that went away: refused or timed-out connection, the stream ended, a stall.
    gone = [
        "[tcp @ 0x5] Connection to tcp://127.0.0.1:8554?timeout=0 failed: Connection refused",
        "rtsp://cam/x: Connection timed out",
        "rtsp://cam/x: Invalid data found when processing input",
        "[in#0/rtsp @ 0x5] Error during demuxing: End of file",
    ]
    assert not rejected_by_camera("ffmpeg exited with status 1 (stream ended)", gone)
    assert not rejected_by_camera("no video data for 12 s", [])
    assert not rejected_by_camera(
        "x", ["frame=  100 fps= 10 q=-1.0 size=     512KiB time=00:00:10.00 bitrate=419.4kbits/s"]
    )
