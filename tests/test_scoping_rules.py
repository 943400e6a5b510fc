"""CI rule (after zulip's semgrep rules): request-facing code never queries tenant models directly.

Views, API modules, serializers, forms, tasks, template tags and middleware must reach
tenant-owned objects through an app's selectors / access functions, which take the operator.
A direct `<TenantModel>.objects` in those modules is how a cross-tenant leak starts, so this test
fails on it, in every spelling: `Model.objects`, `module.Model.objects`, an import alias,
`_default_manager` / `_base_manager` / `_meta.default_manager`, `getattr(Model, "objects")` and
Django's shortcuts `get_object_or_404(Model, …)` / `get_list_or_404(Model, …)`.

Which modules are request-facing is decided by name, not picked file by file: any module of a
project app named views*, api*, serializers*, forms*, tasks*, middleware*, context_processors*
or *_views, *_api, *_serializers, *_forms, *_tasks, and everything inside views/, api/ and
templatetags/ packages. Selectors, services and tenants/access.py (the door) are where the
managers belong.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from tenants.models import Operator

BASE = Path(settings.BASE_DIR)
REQUEST_FACING_NAME = re.compile(
    r"^(views|api|serializers|forms|tasks|middleware|context_processors)\w*$"
    r"|^\w+_(views|api|serializers|forms|tasks|middleware)$"
)
REQUEST_FACING_PACKAGES = {"views", "api", "templatetags"}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
META_MANAGERS = {"default_manager", "base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}


def tenant_model_names() -> set[str]:
    names = set()
    for model in apps.get_models():
        field = next((f for f in model._meta.fields if f.name == "operator"), None)
        if field is not None and field.is_relation and field.related_model is Operator and not field.null:
            names.add(model.__name__)
    return names


def is_request_facing(relative: Path) -> bool:
    if relative.suffix != ".py" or "migrations" in relative.parts:
        return False
    if REQUEST_FACING_PACKAGES & set(relative.parts[:-1]):
        return True
    return bool(REQUEST_FACING_NAME.match(relative.stem))


def request_facing_files() -> list[Path]:
    files = []
    for app in apps.get_app_configs():
        root = Path(app.path)
        if not root.is_relative_to(BASE) or ".venv" in root.parts:
            continue
        for path in sorted(root.rglob("*.py")):
            if is_request_facing(path.relative_to(root)):
                files.append(path)
    return files


class _Checker(ast.NodeVisitor):
    """Finds manager access on tenant models, resolving import aliases of models and modules."""

    def __init__(self, models: set[str]):
        self.models = models
        self.aliases: dict[str, str] = {}  # local name -> tenant model name
        self.hits: list[tuple[int, str]] = []

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name in self.models:
                self.aliases[alias.asname or alias.name] = alias.name

    def model_of(self, node: ast.AST) -> str | None:
        """The tenant model an expression names: `Device`, an alias of it, or `any.chain.Device`."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id) or (node.id if node.id in self.models else None)
        if isinstance(node, ast.Attribute) and node.attr in self.models:
            return node.attr
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        model = self.model_of(node.value)
        if model and node.attr in MANAGERS:
            self.hits.append((node.lineno, f"{model}.{node.attr}"))
        # Model._meta.default_manager
        if (
            node.attr in META_MANAGERS
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "_meta"
            and (model := self.model_of(node.value.value))
        ):
            self.hits.append((node.lineno, f"{model}._meta.{node.attr}"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if func in SHORTCUTS and node.args and (model := self.model_of(node.args[0])):
            self.hits.append((node.lineno, f"{func}({model}, …)"))
        if (
            func == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in MANAGERS
            and (model := self.model_of(node.args[0]))
        ):
            self.hits.append((node.lineno, f'getattr({model}, "{node.args[1].value}")'))
        self.generic_visit(node)


def direct_lookups(source: str, models: set[str]) -> list[tuple[int, str]]:
    checker = _Checker(models)
    tree = ast.parse(source)
    for node in ast.walk(tree):  # aliases first, wherever the import sits
        if isinstance(node, ast.ImportFrom):
            checker.visit_ImportFrom(node)
    checker.visit(tree)
    return sorted(set(checker.hits))


MODELS = {"Device", "Room"}

MUST_BE_CAUGHT = {
    "manager": ("x = Device.objects.get(pk=1)\n", "Device.objects"),
    "default manager": ("x = Device._default_manager.all()\n", "Device._default_manager"),
    "base manager": ("x = Device._base_manager.all()\n", "Device._base_manager"),
    "meta default manager": ("x = Device._meta.default_manager.all()\n", "Device._meta.default_manager"),
    "module attribute": ("from devices import models\nx = models.Device.objects.all()\n", "Device.objects"),
    "dotted module": ("import devices.models\nx = devices.models.Device.objects.all()\n", "Device.objects"),
    "module alias": ("import devices.models as dm\nx = dm.Device.objects.all()\n", "Device.objects"),
    "import alias": ("from devices.models import Device as C\nx = C.objects.filter(pk=1)\n", "Device.objects"),
    "alias in a function": (
        "def view(request):\n    from buildings.models import Room as R\n    return R.objects.get(pk=1)\n",
        "Room.objects",
    ),
    "shortcut": (
        "from django.shortcuts import get_object_or_404\nx = get_object_or_404(Device, pk=1)\n",
        "get_object_or_404(Device, …)",
    ),
    "shortcut on an alias": (
        "from devices.models import Device as D\nx = shortcuts.get_object_or_404(D, pk=1)\n",
        "get_object_or_404(Device, …)",
    ),
    "list shortcut": ("x = get_list_or_404(models.Room, building=1)\n", "get_list_or_404(Room, …)"),
    "getattr": ('x = getattr(Device, "objects").all()\n', 'getattr(Device, "objects")'),
}

MUST_NOT_BE_CAUGHT = {
    "a selector": "x = device_list(operator=op)\n",
    "the access door": "x = access_device(operator=request.operator, user=request.user, pk=pk)\n",
    "a shortcut over a selector": "x = get_object_or_404(device_list(operator=op), pk=1)\n",
    "a model that is not a tenant's": "x = Operator.objects.get(pk=1)\n",
    "the model's constants": "x = Device.DoesNotExist, Device.Kind.CAMERA\n",
    "an alias's constants": "from devices.models import Device as D\nx = D.Kind.CAMERA\n",
    "a related manager": "x = camera.room.devices.all()\n",
    "an unrelated name": "from x import Device2 as Device3\nx = Device3.objects.all()\n",
    "a string": 'x = "Device.objects.get(pk=1)"\n',
}


@pytest.mark.parametrize("snippet,expected", MUST_BE_CAUGHT.values(), ids=MUST_BE_CAUGHT.keys())
def test_the_checker_catches(snippet, expected):
    assert [what for _line, what in direct_lookups(snippet, MODELS)] == [expected]


@pytest.mark.parametrize("snippet", MUST_NOT_BE_CAUGHT.values(), ids=MUST_NOT_BE_CAUGHT.keys())
def test_the_checker_lets_pass(snippet):
    assert direct_lookups(snippet, MODELS) == []


def test_the_rule_knows_the_tenant_models():
    names = tenant_model_names()
    assert {"User", "Building", "Room", "Device", "CameraShare", "CongestionCamera", "PosLink"} <= names


@pytest.mark.parametrize(
    "path,expected",
    [
        ("devices/views.py", True),
        ("sharing/views.py", True),
        ("sharing/api.py", True),
        ("embeds/views.py", True),
        ("embeds/api.py", True),
        ("embeds/tasks.py", True),
        ("congestion/views/cameras.py", True),
        ("embeds/templatetags/embed_tags.py", True),
        ("tenants/middleware.py", True),
        ("portal/context_processors.py", True),
        ("buildings/api_urls.py", True),
        ("sharing/selectors.py", False),
        ("embeds/selectors.py", False),
        ("devices/services.py", False),
        ("tenants/access.py", False),
        ("devices/migrations/0001_initial.py", False),
    ],
)
def test_request_facing_is_decided_by_name(path, expected):
    relative = Path(path)
    assert is_request_facing(relative.relative_to(relative.parts[0])) is expected


def test_the_scan_covers_the_modules_that_once_escaped_it():
    scanned = {str(p.relative_to(BASE)) for p in request_facing_files()}
    expected = {
        "sharing/views.py",
        "sharing/api.py",
        "embeds/views.py",
        "embeds/api.py",
        "embeds/tasks.py",
        "tenants/middleware.py",
        "licensing/middleware.py",
    }
    assert expected <= scanned, expected - scanned
    assert any(p.startswith(("embeds/templatetags/", "pos_link/templatetags/")) for p in scanned)
    assert not any(p.endswith(("selectors.py", "services.py", "access.py")) for p in scanned)


def test_request_facing_code_uses_selectors_not_managers():
    models = tenant_model_names()
    violations = []
    for path in request_facing_files():
        for line, what in direct_lookups(path.read_text(), models):
            violations.append(f"{path.relative_to(BASE)}:{line}: {what}")
    assert not violations, "use a selector / access_* function instead:\n" + "\n".join(violations)
