"""Install-time ONNX export of the pinned person-detection weights (run by bin/setup).

    .venv/bin/python -m workers.people.build_models [--models-dir DIR] [--force]

Why ONNX: at run time onnxruntime (about 20 MB) replaces torch + torchvision + ultralytics (a
5.5 GB CUDA build of torch here, since PyPI's torchvision does not load beside the local CPU
torch), at the same or better speed (docs/performance.md, "People detection"). The export itself
needs ultralytics and torch, so it runs once in a separate, throw-away virtual environment
(var/models/export-venv) with the small local CPU torch; ultralytics only reads torchvision's
version there, so torchvision is installed without its dependencies and never imported.

Then each float export is quantized to 8 bits (onnxruntime's static QDQ quantization, weights
int8 per channel, activations uint8, calibrated on frames of the demo footage), which the
detector runs by default (PEOPLE_MODEL_PRECISION=int8; ``float`` runs the float exports). The
head's last convolutions and its box decoding stay in float: the scores near the detection
threshold are decided there (docs/performance.md, "8-bit models"). Each 8-bit model is checked
before it is kept: same counts as the float model on the sample photos, scores within
SCORE_TOLERANCE; the result goes into its manifest with its sha256.

Idempotent: an ONNX file is named after its source's sha256 and kept with a manifest; when both
are present and match, nothing is done (no virtual environment is even created).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from workers.people.weights import (
    ALL_WEIGHTS,
    REPO_ROOT,
    TEST_PHOTOS,
    WeightsError,
    WeightsSpec,
    int8_onnx_path,
    manifest_path,
    models_dir,
    onnx_path,
    sha256_of,
    verified_int8_onnx,
    verified_onnx,
    verify_weights,
)

ULTRALYTICS = "ultralytics==8.4.190"
# Installed with their dependencies into the export environment.
EXPORT_REQUIREMENTS = [
    "torch==2.13.0",  # the CPU build lying on this machine's disk; enough to trace the model
    "numpy==2.2.6",
    "opencv-python-headless==4.11.0.86",
    "pillow==13.0.0",
    "PyYAML==6.0.2",
    "requests==2.34.2",
    "psutil==7.0.0",
    "onnx==1.23.2",
    "onnxslim==0.1.98",
    "onnxruntime==1.31.1",
]
# Installed without dependencies: ultralytics' own list would pull matplotlib, polars and a CUDA
# torch; torchvision is only asked for its version number by ultralytics during an ONNX export.
EXPORT_REQUIREMENTS_NO_DEPS = [ULTRALYTICS, "ultralytics-thop==2.2.3", "torchvision==0.28.0"]
EXPORT_OPTIONS = {"format": "onnx", "dynamic": True, "simplify": True, "imgsz": 640}

EXPORT_SCRIPT = """
import shutil, sys
from ultralytics import YOLO
source, target = sys.argv[1], sys.argv[2]
exported = YOLO(source).export(**{options})
shutil.move(exported, target)
"""


# 8-bit quantization. Calibration frames: every CALIBRATION_STEP-th frame of the demo footage, each
# also as a 2× zoomed quarter (people as large as in a close camera), letterboxed as the detector does.
CALIBRATION_STEP = 20
QUANTIZATION = {
    "format": "QDQ",
    "weights": "QInt8 per channel",
    "activations": "QUInt8",
    "calibration": "MinMax",
    "float_nodes": "blocks 0, 1, 2, 4, 6, 9; head: class and keypoint branches, last convolutions, decoding",
}
# Blocks kept in float: found by quantizing all but one block at a time and measuring the person
# scores' error on the sample photos and demo frames (docs/performance.md, "8-bit models").
FLOAT_BLOCKS = (0, 1, 2, 4, 6, 9)
SCORE_TOLERANCE = 0.06  # largest |int8 score - float score| accepted on the sample photos' people
FOOTAGE = REPO_ROOT / "var" / "media-fixtures" / "vtest.mp4"
OPENCV_DOC_FOOTAGE = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")

QUANTIZE_SCRIPT = """
import json, sys
import cv2, numpy as np, onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
sys.path.insert(0, sys.argv[4])
from workers.people.detector import letterbox
source, target, footage, _, step, head = sys.argv[1:7]
FLOAT_BLOCKS = {FLOAT_BLOCKS}
step = int(step)
frames, index, capture = [], 0, cv2.VideoCapture(footage)
while True:
    ok, frame = capture.read()
    if not ok:
        break
    if index % step == 0:
        frames.append(frame)
        h, w = frame.shape[:2]
        y, x = [(0, 0), (0, w // 2), (h // 2, 0), (h // 2, w // 2)][len(frames) % 4]
        frames.append(cv2.resize(frame[y // 2 : y // 2 + h // 2, x // 2 : x // 2 + w // 2], (w, h)))
    index += 1
if len(frames) < 8:
    sys.exit(f"only {len(frames)} calibration frames could be read from {footage}")

class Frames(CalibrationDataReader):
    def __init__(self):
        self.items = iter(frames)
    def get_next(self):
        frame = next(self.items, None)
        if frame is None:
            return None
        image, _ = letterbox(frame, 640)
        return {"images": np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1))[None].astype(np.float32) / 255}

nodes = [n.name for n in onnx.load(source).graph.node]
def kept_float(n):
    if any(n.startswith(f"/model.{b}/") for b in FLOAT_BLOCKS):
        return True
    head_float = ("/cv" not in n, n.endswith(".2/Conv"), n.startswith(head + "cv3"), n.startswith(head + "cv4"))
    return n.startswith(head) and any(head_float)
floats = [n for n in nodes if kept_float(n)]
quantize_static(source, target, Frames(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=floats,
                calibrate_method=CalibrationMethod.MinMax, extra_options={"CalibMovingAverage": False})
print(json.dumps({"calibration_frames": len(frames), "float_nodes": len(floats)}))
"""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    # Every argument is fixed by this module or is a path it made: no outside input reaches a command.
    return subprocess.run(args, check=True, **kwargs)  # noqa: S603


def log(message: str) -> None:
    print(f"[people-models] {message}", flush=True)


def _export_python(directory: Path) -> Path:
    """Create (once) the export virtual environment and return its python."""
    venv = directory / "export-venv"
    python = venv / "bin" / "python"
    wanted = "\n".join(EXPORT_REQUIREMENTS + ["--no-deps"] + EXPORT_REQUIREMENTS_NO_DEPS)
    stamp = venv / ".installed"
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    log(f"creating the export environment {venv} (torch CPU, {ULTRALYTICS}; used at install time only)")
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, *EXPORT_REQUIREMENTS])
    _run([*pip, "--no-deps", *EXPORT_REQUIREMENTS_NO_DEPS])
    stamp.write_text(wanted)
    return python


def _export(spec: WeightsSpec, source: Path, directory: Path, python: Path) -> None:
    target = onnx_path(spec, directory)
    env = dict(os.environ)
    # Offline: ultralytics must neither download fonts/weights nor try to pip-install anything.
    env.update({"YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(directory / "ultralytics-config"), "YOLO_VERBOSE": "0"})
    with tempfile.TemporaryDirectory(prefix="people-export-") as tmp:
        # Exported next to a copy, so the installed package's folder is never written to.
        work_copy = Path(tmp) / spec.resource
        shutil.copyfile(source, work_copy)
        partial = Path(tmp) / target.name
        script = EXPORT_SCRIPT.format(options=EXPORT_OPTIONS)
        _run([str(python), "-c", script, str(work_copy), str(partial)], env=env, cwd=tmp)
        manifest = {
            "source": f"{spec.package}/{spec.resource}",
            "source_requirement": spec.requirement,
            "source_sha256": spec.sha256,
            "onnx_sha256": sha256_of(partial),
            "exported_with": ULTRALYTICS,
            "options": EXPORT_OPTIONS,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        shutil.move(partial, target)
    manifest_path(target).write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"exported {spec.resource} -> {target}")


def _footage() -> Path:
    """The demo footage bin/setup encodes; the production image (no footage step) reads opencv-doc's original."""
    for candidate in (FOOTAGE, OPENCV_DOC_FOOTAGE):
        if candidate.is_file():
            return candidate
    raise WeightsError(
        f"No calibration footage: neither {FOOTAGE} (bin/setup encodes it) nor {OPENCV_DOC_FOOTAGE} "
        "(Debian package opencv-doc) exists."
    )


def _content_check(spec: WeightsSpec, int8: Path, directory: Path) -> dict:
    """Counts and scores of the 8-bit model against the float export's on the sample photos."""
    import cv2

    from workers.people.detector import BoxDetector, PoseDetector, _session

    detector_class = BoxDetector if spec.task == "detect" else PoseDetector
    reference = detector_class(models_dir=directory, precision="float")
    quantized = object.__new__(detector_class)
    quantized.__dict__.update(reference.__dict__)
    quantized._session, quantized.onnx, quantized.precision = _session(int8, 1), int8, "int8"
    photos, passed = {}, True
    for name in TEST_PHOTOS:
        frame = cv2.imread(str(directory / "assets" / name))
        want = sorted(p.score for p in reference.detect(frame))
        got = sorted(p.score for p in quantized.detect(frame))
        worst = max((abs(a - b) for a, b in zip(want, got, strict=False)), default=0.0)
        ok = len(want) == len(got) and worst <= SCORE_TOLERANCE
        passed &= ok
        photos[name] = {
            "float_scores": [round(x, 3) for x in want],
            "int8_scores": [round(x, 3) for x in got],
            "largest_difference": round(worst, 3),
            "passed": ok,
        }
    return {"passed": passed, "score_tolerance": SCORE_TOLERANCE, "photos": photos}


def _quantize(spec: WeightsSpec, directory: Path, python: Path) -> None:
    float_onnx = verified_onnx(spec, directory=directory)
    target = int8_onnx_path(spec, directory)
    footage = _footage()
    head = "/model.22/" if spec.task == "detect" else "/model.23/"  # the Detect / Pose head of each model
    with tempfile.TemporaryDirectory(prefix="people-quantize-") as tmp:
        partial = Path(tmp) / target.name
        args = [str(float_onnx), str(partial), str(footage), str(REPO_ROOT), str(CALIBRATION_STEP), head]
        script = QUANTIZE_SCRIPT.replace("{FLOAT_BLOCKS}", repr(FLOAT_BLOCKS))
        done = _run([str(python), "-c", script, *args], capture_output=True, text=True, cwd=tmp)
        stats = json.loads(done.stdout.strip().splitlines()[-1])
        check = _content_check(spec, partial, directory)
        if not check["passed"]:
            raise WeightsError(
                f"the 8-bit model of {spec.resource} failed its check against the float model: "
                f"{json.dumps(check['photos'])}; set PEOPLE_MODEL_PRECISION=float to run the float model"
            )
        manifest = {
            "source": float_onnx.name,
            "float_onnx_sha256": json.loads(manifest_path(float_onnx).read_text())["onnx_sha256"],
            "onnx_sha256": sha256_of(partial),
            "quantization": QUANTIZATION | stats,
            "calibration_footage": {"path": str(footage), "sha256": sha256_of(footage), "every": CALIBRATION_STEP},
            "content_check": check,
            "quantized_with": "onnxruntime.quantization " + EXPORT_REQUIREMENTS[-1].split("==")[1],
            "quantized_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        shutil.move(partial, target)
    manifest_path(target).write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"quantized {float_onnx.name} -> {target.name} (8-bit; check: {check['photos']})")


def _copy_photos(directory: Path, python: Path) -> None:
    assets = directory / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    where = "import importlib.util as u; print(u.find_spec('ultralytics').submodule_search_locations[0])"
    found = _run([str(python), "-c", where], capture_output=True, text=True)
    package_dir = Path(found.stdout.strip())
    for name, digest in TEST_PHOTOS.items():
        source = package_dir / "assets" / name
        if sha256_of(source) != digest:
            raise WeightsError(f"{source} is not the pinned sample photo (sha256 {digest})")
        shutil.copyfile(source, assets / name)


def _photos_ok(directory: Path) -> bool:
    assets = directory / "assets"
    return all((assets / n).is_file() and sha256_of(assets / n) == d for n, d in TEST_PHOTOS.items())


def build(directory: Path, *, force: bool = False) -> list[Path]:
    """Export every pinned model that has no valid export yet, quantize each to 8 bits; return
    the paths of the float exports and the 8-bit models."""
    directory.mkdir(parents=True, exist_ok=True)
    python: Path | None = None
    results = []
    for spec in ALL_WEIGHTS:
        source = verify_weights(spec)  # a wrong or missing wheel stops setup with the install command
        if not force:
            try:
                results.append(verified_onnx(spec, directory=directory, source=source))
                continue
            except WeightsError:
                pass
        python = python or _export_python(directory)
        _export(spec, source, directory, python)
        results.append(verified_onnx(spec, directory=directory, source=source))
    if force or not _photos_ok(directory):  # the photos come first: the 8-bit models' check uses them
        _copy_photos(directory, python or _export_python(directory))
    for spec in ALL_WEIGHTS:
        if not force:
            try:
                results.append(verified_int8_onnx(spec, directory=directory))
                continue
            except WeightsError:
                pass
        python = python or _export_python(directory)
        _quantize(spec, directory, python)
        results.append(verified_int8_onnx(spec, directory=directory))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="export again even when a valid export exists")
    args = parser.parse_args(argv)
    try:
        paths = build(args.models_dir or models_dir(), force=args.force)
    except WeightsError as exc:
        print(f"[people-models] error: {exc}", file=sys.stderr)
        return 1
    log("ready: " + ", ".join(p.name for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
