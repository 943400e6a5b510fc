"""The apps depend one way, and inside an app services and tasks do too (docs/development.md).

1. The contracts in `.importlinter` (import-linter): tenants → buildings → devices → licensing →
   recording / congestion → embeds / pos_link / sharing, portal's helpers under all of them, workers
   Django-free, and no production module importing demo. Every import counts, one inside a function
   too.
2. Services import their app's tasks at their top and queue jobs on commit; a task imports the
   services it calls inside its body. So no module of an app imports `tasks` late, and `tasks`
   imports, at load time, nothing that imports `tasks` back.

Each check is also run on a small tree with one wrong import, to show that it catches it.
"""

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.waiting import patience

BASE = Path(settings.BASE_DIR)
CONTRACTS = BASE / ".importlinter"
APPS = ["tenants", "buildings", "devices", "licensing", "recording", "congestion", "embeds", "sharing", "pos_link"]


def _lint(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the packages under `root` with the contracts in `root`/.importlinter, in a
    fresh interpreter (this one has the real apps imported already)."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=patience(120),
    )


def test_the_apps_keep_their_layers():
    result = _lint(BASE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _tree_of_the_contracts(root: Path) -> None:
    """Empty packages for every module the real contracts name, the imports their known debt lists
    (import-linter refuses an ignored import that does not exist), and the contracts themselves."""
    contracts = configparser.ConfigParser()
    contracts.read(CONTRACTS)
    names = set(contracts["importlinter"]["root_packages"].split())
    for section in contracts.sections():
        for key in ("layers", "source_modules", "forbidden_modules"):
            for line in contracts[section].get(key, "").splitlines():
                names |= {part.strip() for part in line.replace("|", ":").split(":") if part.strip()}
    for name in names - {"django", "rest_framework", "celery"}:
        package = root
        for part in name.split("."):
            package = package / part
            package.mkdir(exist_ok=True)
            (package / "__init__.py").touch()
    for line in contracts["importlinter:contract:layers"].get("ignore_imports", "").splitlines():
        if "->" in line:
            importer, imported = (part.strip() for part in line.split("->"))
            for module in (importer, imported):
                path = root.joinpath(*module.split(".")).with_suffix(".py")
                if not path.exists():
                    path.write_text("")
            with root.joinpath(*importer.split(".")).with_suffix(".py").open("a") as file:
                file.write(f"import {imported}\n")
    (root / ".importlinter").write_text(CONTRACTS.read_text())


def test_the_layer_check_fails_on_an_import_against_the_layers(tmp_path):
    _tree_of_the_contracts(tmp_path)
    assert _lint(tmp_path).returncode == 0  # the empty tree keeps every contract

    # The ground floor reaching up into a feature app, late, inside a function.
    (tmp_path / "tenants" / "views.py").write_text("def home():\n    from recording import selectors\n")
    (tmp_path / "recording" / "selectors.py").write_text("")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "tenants is not allowed to import recording" in result.stdout
    assert "tenants.views -> recording.selectors" in result.stdout


def test_the_layer_check_fails_on_a_production_import_of_demo(tmp_path):
    _tree_of_the_contracts(tmp_path)
    (tmp_path / "demo" / "clock.py").write_text("")
    (tmp_path / "licensing" / "clock.py").write_text("from demo.clock import *\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "licensing.clock -> demo.clock" in result.stdout


# ----------------------------------------------------------------------------- services and tasks


def _module_name(app_root: Path, path: Path) -> str:
    parts = list(path.relative_to(app_root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    # `from . import tasks` names a module; `from .tasks import x` names a module's attribute.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def task_direction_problems(app_root: Path) -> list[str]:
    """Where `app_root` (an app's folder) breaks the services/tasks rule: a late import of its tasks
    module, or a load-time import chain from tasks back to tasks."""
    app = app_root.name
    tasks = f"{app}.tasks"
    files = {
        _module_name(app_root, path): path
        for path in app_root.rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
    }
    top: dict[str, set[str]] = {}
    problems = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        top[module] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _resolve(module, is_package, node)
            else:
                continue
            names = [n for n in names if n in files]
            if node.col_offset == 0:
                top[module] |= set(names)
            elif tasks in names and module != tasks:
                problems.append(f"{path.relative_to(app_root.parent)}:{node.lineno} imports tasks late")
    # Load-time imports reachable from tasks must not lead back to it.
    seen, todo = set(), list(top.get(tasks, ()))
    while todo:
        module = todo.pop()
        if module == tasks:
            problems.append(f"{tasks} imports, at load time, a module that imports it back")
            break
        if module not in seen:
            seen.add(module)
            todo.extend(top.get(module, ()))
    return problems


def test_services_import_tasks_and_tasks_import_services_inside_their_bodies():
    problems = [p for app in APPS for p in task_direction_problems(BASE / app)]
    assert not problems, problems


def test_the_task_check_fails_on_either_wrong_direction(tmp_path):
    app = tmp_path / "shop"
    app.mkdir()
    (app / "__init__.py").touch()
    (app / "services.py").write_text("from . import tasks\n\ndef order():\n    tasks.mail.delay(1)\n")
    (app / "tasks.py").write_text("def mail(order_id):\n    from . import services\n")
    assert task_direction_problems(app) == []

    (app / "tasks.py").write_text("from . import services\n")  # tasks → services at load time: a cycle
    assert task_direction_problems(app) == ["shop.tasks imports, at load time, a module that imports it back"]

    (app / "tasks.py").write_text("def mail(order_id):\n    from . import services\n")
    (app / "services.py").write_text("def order():\n    from .tasks import mail\n\n    mail.delay(1)\n")
    assert task_direction_problems(app) == ["shop/services.py:2 imports tasks late"]
