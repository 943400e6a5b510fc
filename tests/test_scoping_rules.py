"""CI rule (after zulip's semgrep rules): request-facing code never queries tenant models directly.

Views, API modules, serializers and tasks must reach tenant-owned objects through an app's
selectors / access functions, which take the operator. A direct `<TenantModel>.objects` in those
files is how a cross-tenant leak starts, so this test fails on it.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

from tenants.models import Operator

REQUEST_FACING = ("views.py", "api.py", "serializers.py", "tasks.py", "forms.py")
BASE = Path(settings.BASE_DIR)


def tenant_model_names() -> set[str]:
    names = set()
    for model in apps.get_models():
        field = next((f for f in model._meta.fields if f.name == "operator"), None)
        if field is not None and field.is_relation and field.related_model is Operator and not field.null:
            names.add(model.__name__)
    return names


def request_facing_files() -> list[Path]:
    files = []
    for app in apps.get_app_configs():
        root = Path(app.path)
        if not root.is_relative_to(BASE) or ".venv" in root.parts:
            continue
        for path in root.rglob("*.py"):
            if path.name in REQUEST_FACING or path.parent.name in ("views", "api"):
                files.append(path)
    return files


def direct_lookups(source: str, models: set[str]) -> list[tuple[int, str]]:
    hits = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("objects", "_default_manager", "_base_manager")
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            hits.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return hits


def test_the_rule_knows_the_tenant_models():
    names = tenant_model_names()
    assert {"User", "Building", "Room", "Device"} <= names


def test_the_checker_finds_a_direct_lookup():
    assert direct_lookups("x = Device.objects.get(pk=1)\n", {"Device"}) == [(1, "Device.objects")]
    assert direct_lookups("x = device_list(operator=op)\n", {"Device"}) == []


def test_request_facing_code_uses_selectors_not_managers():
    models = tenant_model_names()
    violations = []
    for path in request_facing_files():
        for line, what in direct_lookups(path.read_text(), models):
            violations.append(f"{path.relative_to(BASE)}:{line}: {what}")
    assert not violations, "use a selector / access_* function instead:\n" + "\n".join(violations)
