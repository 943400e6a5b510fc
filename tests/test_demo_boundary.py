"""Production code never imports `demo/` (the seeding, simulators, mail sink, fake POS servers and
controllable clock of the demo and the tests' world), and production settings do not install it.

An AST scan of every Python module outside demo/, tests/, bench/ and bin/: `import demo…`,
`from demo… import …`, and `importlib.import_module("demo…")` / `import_string("demo…")` /
`__import__("demo…")` with a literal name. Settings may *name* a demo object as a plain string
(the dev and test settings name the controllable clock); that is configuration, not an import,
and production's settings name none (checked below in a production process).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.test_deployment import PRODUCTION
from tests.waiting import patience

BASE = Path(settings.BASE_DIR)
ALLOWED_TOP = {"demo", "tests", "bench", "bin"}
SKIPPED_TOP = {".venv", "var", "node_modules", "staticfiles", "artifacts", ".git"}
DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def _is_demo(module: str | None) -> bool:
    return module is not None and (module == "demo" or module.startswith("demo."))


def demo_imports(source: str, filename: str = "<source>") -> list[str]:
    """Each import of demo in `source`, as "line: what"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names if _is_demo(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_demo(node.module):
            found.append(f"{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name in DYNAMIC_IMPORTS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if _is_demo(first.value):
                    found.append(f"{node.lineno}: {name}({first.value!r})")
    return found


def production_modules() -> list[Path]:
    files = []
    for path in sorted(BASE.rglob("*.py")):
        top = path.relative_to(BASE).parts[0]
        if top not in ALLOWED_TOP | SKIPPED_TOP:
            files.append(path)
    return files


def test_no_production_module_imports_demo():
    modules = production_modules()
    assert any(p.relative_to(BASE).parts[0] == "licensing" for p in modules)  # the scan sees the apps
    offenders = {
        str(path.relative_to(BASE)): hits
        for path in modules
        if (hits := demo_imports(path.read_text(encoding="utf-8"), str(path)))
    }
    assert not offenders, f"production code imports demo/: {offenders}"


def test_the_scan_catches_every_spelling_of_a_demo_import():
    # The failing case, shown: each of these lines in a production module fails the test above.
    bad = """
import demo
import demo.rtsp_sim as sim
from demo import clock
from demo.recording import seed_recording
importlib.import_module("demo.onvif_sim")
import_string("demo.clock.fake_now")
__import__("demo")
"""
    assert len(demo_imports(bad)) == 7
    fine = """
import demography
from demos import thing
from . import demo
from .demo import x
PORTAL_CONTROLLABLE_CLOCK = "demo.clock.fake_now"
"""
    assert demo_imports(fine) == []


def test_production_settings_install_no_demo_and_read_the_real_clock():
    probe = (
        "import django; django.setup(); from django.apps import apps; from django.conf import settings; "
        "print(apps.is_installed('demo'), settings.PORTAL_CONTROLLABLE_CLOCK)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings.prod", **PRODUCTION)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE, env=env, capture_output=True, text=True, timeout=patience(120)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "None"]
