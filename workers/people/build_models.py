"""Install-time ONNX export of the pinned person-detection weights (run by bin/setup).

    .venv/bin/python -m workers.people.build_models [--models-dir DIR] [--force]

Why ONNX: at run time onnxruntime (about 20 MB) replaces torch + torchvision + ultralytics (a
5.5 GB CUDA build of torch here, since PyPI's torchvision does not load beside the local CPU
torch), at the same or better speed (docs/performance.md, "People detection"). The export itself
needs ultralytics and torch, so it runs once in a separate, throw-away virtual environment
(var/models/export-venv) with the small local CPU torch; ultralytics only reads torchvision's
version there, so torchvision is installed without its dependencies and never imported.

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
    TEST_PHOTOS,
    WeightsError,
    WeightsSpec,
    manifest_path,
    models_dir,
    onnx_path,
    sha256_of,
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
    """Export every pinned model that has no valid export yet; return the ONNX paths."""
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
    if force or not _photos_ok(directory):
        _copy_photos(directory, python or _export_python(directory))
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
