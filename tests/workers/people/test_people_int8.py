"""The 8-bit models: same counts as the float ones on the sample photos and on the demo footage
(counted by eye), scores within tolerance, verified files, and the precision setting."""

import json
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from workers.people.analyse import analyse_frame
from workers.people.build_models import SCORE_TOLERANCE
from workers.people.detector import BoxDetector, PoseDetector, TiledDetector, detector_for_mode
from workers.people.render import encode_jpeg
from workers.people.weights import (
    ALL_WEIGHTS,
    YOLOV8N,
    WeightsError,
    int8_onnx_path,
    manifest_path,
    model_precision,
    onnx_path,
    precision_for,
    verified_int8_onnx,
)

# Frames of the demo footage (var/media-fixtures/vtest.mp4) and the people in them, counted by eye
# on the extracted PNGs: people standing or walking, including one half hidden behind the sign post.
VTEST_BY_EYE = {5: 6, 20: 7, 35: 5, 50: 4, 65: 6}


@pytest.fixture(scope="module")
def vtest_frames(vtest) -> dict[int, np.ndarray]:
    frames = {}
    for second in VTEST_BY_EYE:
        png = subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", str(second), "-i", str(vtest), "-frames:v", "1",
             "-f", "image2pipe", "-c:v", "png", "-"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        frames[second] = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return frames


def _iou(a, b) -> float:
    ix = max(0.0, min(a.x2, b.x2) - max(a.x1, b.x1))
    iy = max(0.0, min(a.y2, b.y2) - max(a.y1, b.y1))
    inter = ix * iy
    return inter / (a.width * a.height + b.width * b.height - inter)


def test_the_standard_mode_runs_the_8bit_box_model_by_default(monkeypatch):
    monkeypatch.delenv("PEOPLE_MODEL_PRECISION", raising=False)
    assert model_precision() == "auto"
    detector = detector_for_mode("standard")
    assert detector.precision == "int8" and detector.onnx.name.endswith("-int8.onnx")
    runtime = detector.runtime()
    assert runtime["provider"] == "CPUExecutionProvider"
    assert runtime["graph_optimization_level"] == "ORT_ENABLE_ALL"


@pytest.mark.parametrize("photo", ["bus.jpg", "zidane.jpg"])
@pytest.mark.parametrize("spec", ALL_WEIGHTS, ids=lambda s: s.name)
def test_each_8bit_model_passed_its_recorded_content_check(spec, photo):
    manifest = json.loads(manifest_path(verified_int8_onnx(spec)).read_text())
    check = manifest["content_check"]["photos"][photo]
    assert check["passed"] and len(check["float_scores"]) == len(check["int8_scores"])
    assert manifest["float_onnx_sha256"] == json.loads(manifest_path(onnx_path(spec)).read_text())["onnx_sha256"]


@pytest.mark.parametrize("cls", [BoxDetector, PoseDetector])
@pytest.mark.parametrize(("photo", "expected"), [("bus", 4), ("zidane", 2)])
def test_8bit_models_count_the_sample_photos_exactly_with_scores_near_the_float_ones(request, cls, photo, expected):
    frame = request.getfixturevalue(photo)
    want = sorted(p.score for p in cls(precision="float").detect(frame))
    got = sorted(p.score for p in cls(precision="int8").detect(frame))
    assert len(got) == len(want) == expected
    assert np.abs(np.array(got) - np.array(want)).max() <= SCORE_TOLERANCE


@pytest.mark.parametrize("mode", ["standard", "detailed"])
def test_on_the_demo_footage_the_new_path_finds_as_many_people_as_the_old_and_no_more_than_are_there(
    vtest_frames, mode
):
    cls = BoxDetector if mode == "standard" else PoseDetector
    old = cls(precision="float")
    new = detector_for_mode(mode)  # what the analysis runs (auto precision), fed the camera JPEG
    background = np.full((288, 384, 3), 200, np.uint8)
    for second, frame in vtest_frames.items():
        before = old.detect(frame)
        after = analyse_frame(encode_jpeg(frame, 90), new, background, mode)
        assert after.count >= len(before), (second, after.count, len(before))
        assert after.count <= VTEST_BY_EYE[second], (second, after.count)  # no false positives
        people = [p.scaled(frame.shape[1] / 384, frame.shape[0] / 288) for p in after.people]
        for p in before:  # the same people, with scores within tolerance
            match = max(people, key=lambda q: _iou(p, q))
            assert _iou(p, match) > 0.5 and abs(match.score - p.score) <= SCORE_TOLERANCE


def test_the_8bit_box_model_finds_the_same_demo_footage_people_as_the_float_one(vtest_frames):
    float_model, int8_model = BoxDetector(precision="float"), BoxDetector(precision="int8")
    for second, frame in vtest_frames.items():
        assert len(int8_model.detect(frame)) == len(float_model.detect(frame)) >= VTEST_BY_EYE[second] - 1


def test_wide_area_tiles_in_one_batched_inference_find_what_one_call_per_tile_finds(box_detector, bus):
    frame = cv2.resize(bus, (1920, 1080))

    class OneAtATime:
        def __init__(self, inner):
            self.detect = inner.detect

    batched = TiledDetector(box_detector).detect(frame)
    single = TiledDetector(OneAtATime(box_detector)).detect(frame)
    assert len(batched) == len(single) > 0
    for a, b in zip(sorted(batched, key=lambda p: p.x1), sorted(single, key=lambda p: p.x1), strict=True):
        assert abs(a.x1 - b.x1) < 1 and abs(a.score - b.score) < 1e-3


def test_an_8bit_model_changed_after_it_was_made_is_refused(tmp_path):
    source = int8_onnx_path(YOLOV8N).parent
    for spec_file in (onnx_path(YOLOV8N), int8_onnx_path(YOLOV8N)):
        shutil.copy(spec_file, tmp_path)
        shutil.copy(manifest_path(spec_file), tmp_path)
    assert verified_int8_onnx(YOLOV8N, directory=tmp_path)
    with int8_onnx_path(YOLOV8N, tmp_path).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(WeightsError, match="changed after"):
        verified_int8_onnx(YOLOV8N, directory=tmp_path)
    assert source != tmp_path


def test_a_missing_8bit_model_says_how_to_get_it_or_fall_back(tmp_path):
    shutil.copy(onnx_path(YOLOV8N), tmp_path)
    shutil.copy(manifest_path(onnx_path(YOLOV8N)), tmp_path)
    with pytest.raises(WeightsError, match="PEOPLE_MODEL_PRECISION=float"):
        BoxDetector(models_dir=tmp_path, precision="int8")
    assert BoxDetector(models_dir=tmp_path, precision="float").precision == "float"


def test_the_precision_setting_is_parsed_strictly(monkeypatch):
    monkeypatch.setenv("PEOPLE_MODEL_PRECISION", "Float")
    assert model_precision() == "float" and precision_for(YOLOV8N) == "float"
    monkeypatch.setenv("PEOPLE_MODEL_PRECISION", "int4")
    with pytest.raises(WeightsError, match="PEOPLE_MODEL_PRECISION"):
        model_precision()
